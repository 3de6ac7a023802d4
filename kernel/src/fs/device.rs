//! Block devices: the trait the buffer cache reads and writes through, and
//! [`RamDisk`], a memory-backed device for host tests and a kernel RAM disk.
//!
//! A device transfers whole `BSIZE`-byte blocks and each block write is
//! atomic (a block is either written completely or not at all): the log
//! relies on that for its header block, which is the commit point.
//! [`BlockDevice::write_blocks`] writes a run of consecutive blocks, as one
//! disk command where the device can (the IDE driver: up to 128 blocks per
//! command), but promises nothing about the run as a whole: a crash may
//! leave any of its blocks written and the others not, each block still
//! all-or-nothing. So the log writes its header, the commit point, on its
//! own with [`BlockDevice::write_block`].
//!
//! `RamDisk` can simulate a power loss for crash tests: after
//! [`RamDisk::crash_after`]`(k)` it persists `k` more block writes (a run
//! counts as one write per block, persisted in order, so a crash can cut
//! it in the middle) and then
//! silently drops every further write (reporting success, as a disk whose
//! power was cut mid-flight would never report anything), so the file
//! system keeps running on its cache while the "disk" stays frozen at the
//! crash point; [`RamDisk::snapshot`] then yields the image a reboot sees.
//!
//! Locking: one spinlock over the bytes and the crash counters; it is held
//! only for the copy of one block or one run, never across anything that
//! sleeps.

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
    /// Writes `bufs[i]` to block `start + i` for every `i`: the run of
    /// consecutive blocks in as few transfers as the device can. Each block
    /// is written atomically, the run is not (see the module header). `EIO`
    /// when a block does not exist or a transfer fails (some blocks of the
    /// run may have been written). The default writes block by block.
    fn write_blocks(&self, start: u32, bufs: &[&[u8; BSIZE]]) -> Result<(), Errno> {
        for (i, buf) in bufs.iter().enumerate() {
            let blockno = u32::try_from(i)
                .ok()
                .and_then(|i| start.checked_add(i))
                .ok_or(Errno::EIO)?;
            self.write_block(blockno, buf)?;
        }
        Ok(())
    }
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
        self.run(blockno, 1)
    }

    /// The bytes of blocks `start..start + n`; `EIO` unless all exist.
    fn run(&self, start: u32, n: usize) -> Result<core::ops::Range<usize>, Errno> {
        if start as usize + n > self.nblocks as usize {
            return Err(Errno::EIO);
        }
        let from = start as usize * BSIZE;
        Ok(from..from + n * BSIZE)
    }
}

impl RamDiskInner {
    /// Persists one block write unless the simulated power is off.
    fn persist(&mut self, range: core::ops::Range<usize>, buf: &[u8; BSIZE]) {
        if self.limit.is_some_and(|limit| self.persisted >= limit) {
            self.dropped += 1;
            return;
        }
        self.bytes[range].copy_from_slice(buf);
        self.persisted += 1;
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
        self.inner.lock().persist(range, buf);
        Ok(())
    }

    /// One lock and one range check for the run; the crash counters still
    /// count (and cut) block by block, in order.
    fn write_blocks(&self, start: u32, bufs: &[&[u8; BSIZE]]) -> Result<(), Errno> {
        let range = self.run(start, bufs.len())?;
        let mut inner = self.inner.lock();
        for (i, buf) in bufs.iter().enumerate() {
            let from = range.start + i * BSIZE;
            inner.persist(from..from + BSIZE, buf);
        }
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

    /// A device with only the required methods, recording each block write.
    struct Singles {
        disk: RamDisk,
        writes: std::sync::Mutex<Vec<u32>>,
    }

    impl BlockDevice for Singles {
        fn read_block(&self, blockno: u32, buf: &mut [u8; BSIZE]) -> Result<(), Errno> {
            self.disk.read_block(blockno, buf)
        }
        fn write_block(&self, blockno: u32, buf: &[u8; BSIZE]) -> Result<(), Errno> {
            self.writes.lock().unwrap().push(blockno);
            self.disk.write_block(blockno, buf)
        }
        fn block_count(&self) -> u32 {
            self.disk.block_count()
        }
    }

    #[test]
    fn default_write_blocks_writes_block_by_block() {
        let dev = Singles {
            disk: RamDisk::new(8),
            writes: std::sync::Mutex::new(Vec::new()),
        };
        let blocks: Vec<[u8; BSIZE]> = (0..3).map(|i| [i as u8 + 10; BSIZE]).collect();
        let refs: Vec<&[u8; BSIZE]> = blocks.iter().collect();
        dev.write_blocks(4, &refs).unwrap();
        assert_eq!(*dev.writes.lock().unwrap(), [4, 5, 6]);
        let mut buf = [0u8; BSIZE];
        for b in 4..7 {
            dev.read_block(b, &mut buf).unwrap();
            assert!(buf.iter().all(|&x| x == b as u8 + 6), "block {b}");
        }
        dev.write_blocks(7, &[]).unwrap();
        // A run past the end stops at the first missing block (8).
        assert_eq!(dev.write_blocks(6, &refs), Err(Errno::EIO));
        assert_eq!(dev.write_blocks(u32::MAX, &refs), Err(Errno::EIO));
        assert_eq!(*dev.writes.lock().unwrap(), [4, 5, 6, 6, 7, 8, u32::MAX]);
    }

    #[test]
    fn ramdisk_run_counts_and_crashes_per_block() {
        let disk = RamDisk::new(16);
        let blocks: Vec<[u8; BSIZE]> = (0..5).map(|i| [i as u8 + 1; BSIZE]).collect();
        let refs: Vec<&[u8; BSIZE]> = blocks.iter().collect();
        disk.write_blocks(2, &refs).unwrap();
        assert_eq!(disk.writes(), 5);
        let image = disk.snapshot();
        for i in 0..5 {
            assert_eq!(image[(2 + i) * BSIZE], i as u8 + 1);
        }
        // Out of range: nothing is written.
        assert_eq!(disk.write_blocks(12, &refs), Err(Errno::EIO));
        assert_eq!(disk.writes(), 5);
        // A power cut in the middle of a run keeps its first blocks only.
        let zeros = [[0u8; BSIZE]; 5];
        disk.crash_after(2);
        disk.write_blocks(2, &zeros.iter().collect::<Vec<_>>())
            .unwrap();
        assert_eq!((disk.writes(), disk.dropped_writes()), (7, 3));
        let image = disk.snapshot();
        let firsts: Vec<u8> = (2..7).map(|b| image[b * BSIZE]).collect();
        assert_eq!(firsts, [0, 0, 3, 4, 5]);
    }
}
