//! Block devices: the trait the buffer cache reads and writes through, and
//! [`RamDisk`], a memory-backed device for host tests and a kernel RAM disk.
//!
//! A device transfers whole `BSIZE`-byte blocks and each transfer is atomic
//! (a block is either written completely or not at all): the log relies on
//! that for its header block, which is the commit point.
//!
//! `RamDisk` can simulate a power loss for crash tests: after
//! [`RamDisk::crash_after`]`(k)` it persists `k` more block writes and then
//! silently drops every further write (reporting success, as a disk whose
//! power was cut mid-flight would never report anything), so the file
//! system keeps running on its cache while the "disk" stays frozen at the
//! crash point; [`RamDisk::snapshot`] then yields the image a reboot sees.
//!
//! Locking: one spinlock over the bytes and the crash counters; it is held
//! only for a 1 KiB copy, never across anything that sleeps.

use alloc::vec;
use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fs::BSIZE;

use crate::sync::SpinLock;

/// A disk of `BSIZE`-byte blocks.
pub trait BlockDevice: Send + Sync {
    /// Reads block `blockno` into `buf`; `EIO` when it does not exist or the transfer fails.
    fn read_block(&self, blockno: u32, buf: &mut [u8; BSIZE]) -> Result<(), Errno>;
    /// Writes `buf` to block `blockno`; `EIO` when it does not exist or the transfer fails.
    fn write_block(&self, blockno: u32, buf: &[u8; BSIZE]) -> Result<(), Errno>;
    /// Number of blocks on the device.
    fn block_count(&self) -> u32;
}

/// A device backed by a `Vec<u8>`.
pub struct RamDisk {
    nblocks: u32,
    inner: SpinLock<RamDiskInner>,
}

struct RamDiskInner {
    bytes: Vec<u8>,
    /// Block writes that reached `bytes`.
    persisted: u64,
    /// Writes that were dropped because of a simulated crash.
    dropped: u64,
    /// Once `persisted` reaches this, writes are dropped.
    limit: Option<u64>,
}

impl RamDisk {
    /// A zero-filled disk of `nblocks` blocks.
    pub fn new(nblocks: u32) -> RamDisk {
        RamDisk::from_inner(nblocks, vec![0; nblocks as usize * BSIZE])
    }

    /// A disk holding `bytes` (an image); `None` unless its length is a whole number of blocks.
    pub fn from_bytes(bytes: Vec<u8>) -> Option<RamDisk> {
        if !bytes.len().is_multiple_of(BSIZE) {
            return None;
        }
        let nblocks = u32::try_from(bytes.len() / BSIZE).ok()?;
        Some(RamDisk::from_inner(nblocks, bytes))
    }

    fn from_inner(nblocks: u32, bytes: Vec<u8>) -> RamDisk {
        RamDisk {
            nblocks,
            inner: SpinLock::new(
                "ramdisk",
                RamDiskInner {
                    bytes,
                    persisted: 0,
                    dropped: 0,
                    limit: None,
                },
            ),
        }
    }

    /// A copy of the whole image as it is on "disk" (what a reboot would find).
    pub fn snapshot(&self) -> Vec<u8> {
        self.inner.lock().bytes.clone()
    }

    /// Simulates a power loss: persist `k` more block writes, then drop every later one.
    pub fn crash_after(&self, k: u64) {
        let mut inner = self.inner.lock();
        inner.limit = Some(inner.persisted + k);
    }

    /// Block writes persisted since the disk was created.
    pub fn writes(&self) -> u64 {
        self.inner.lock().persisted
    }

    /// Block writes dropped because of [`RamDisk::crash_after`].
    pub fn dropped_writes(&self) -> u64 {
        self.inner.lock().dropped
    }

    fn range(&self, blockno: u32) -> Result<core::ops::Range<usize>, Errno> {
        if blockno >= self.nblocks {
            return Err(Errno::EIO);
        }
        let start = blockno as usize * BSIZE;
        Ok(start..start + BSIZE)
    }
}

impl BlockDevice for RamDisk {
    fn read_block(&self, blockno: u32, buf: &mut [u8; BSIZE]) -> Result<(), Errno> {
        let range = self.range(blockno)?;
        buf.copy_from_slice(&self.inner.lock().bytes[range]);
        Ok(())
    }

    fn write_block(&self, blockno: u32, buf: &[u8; BSIZE]) -> Result<(), Errno> {
        let range = self.range(blockno)?;
        let mut inner = self.inner.lock();
        if inner.limit.is_some_and(|limit| inner.persisted >= limit) {
            inner.dropped += 1;
            return Ok(());
        }
        inner.bytes[range].copy_from_slice(buf);
        inner.persisted += 1;
        Ok(())
    }

    fn block_count(&self) -> u32 {
        self.nblocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_writes_and_refuses_out_of_range() {
        let disk = RamDisk::new(4);
        let mut block = [7u8; BSIZE];
        disk.write_block(3, &block).unwrap();
        block.fill(0);
        disk.read_block(3, &mut block).unwrap();
        assert!(block.iter().all(|&b| b == 7));
        assert_eq!(disk.read_block(4, &mut block), Err(Errno::EIO));
        assert_eq!(disk.write_block(4, &block), Err(Errno::EIO));
        assert_eq!(disk.block_count(), 4);
        assert!(RamDisk::from_bytes(vec![0; BSIZE + 1]).is_none());
    }

    #[test]
    fn crash_drops_writes_after_k() {
        let disk = RamDisk::new(8);
        disk.write_block(0, &[1; BSIZE]).unwrap();
        disk.crash_after(2);
        for b in 1..6 {
            disk.write_block(b, &[b as u8 + 1; BSIZE]).unwrap();
        }
        assert_eq!(disk.writes(), 3);
        assert_eq!(disk.dropped_writes(), 3);
        let image = disk.snapshot();
        assert_eq!(image[BSIZE], 2);
        assert_eq!(image[2 * BSIZE], 3);
        assert_eq!(
            image[3 * BSIZE],
            0,
            "the write after the crash point must be lost"
        );
        let copy = RamDisk::from_bytes(image).unwrap();
        assert_eq!(copy.block_count(), 8);
    }
}
