//! The free-block bitmap: allocating and freeing data blocks (xv6 `balloc`/`bfree`).
//!
//! Bit `b` of the bitmap area is set when block `b` is in use; the bits of
//! the metadata blocks (boot, superblock, log, inodes, bitmap) are set by
//! the formatter and never cleared, and allocation only looks at bits of
//! data blocks. Allocation is first fit, helped by a hint: a block number
//! below which every data block was in use when last looked at. An
//! allocation starts there and moves the hint past the block it took; a
//! free lowers it. Bitmaps are scanned a 64-bit word at a time.
//!
//! The hint is only a place to start looking: who owns a block is decided
//! by the bitmap bits under the bitmap buffer's lock. A free racing with an
//! allocation can leave the hint above the freed block; that block is found
//! again by the next free below it, or by the full rescan an allocation
//! makes before it reports `ENOSPC`, so a full disk is never claimed early.
//!
//! Locking: a bitmap block's buffer lock serialises the allocators and
//! freers of the blocks it covers; both change the bit inside the caller's
//! transaction, so a crash never leaves a block both marked free and
//! pointed to. Each call holds one buffer at a time and logs at most two
//! blocks (`balloc`: the bitmap block and the zeroed new block; `bfree`:
//! the bitmap block).

use core::sync::atomic::Ordering;

use berth_abi::errno::Errno;
use berth_abi::fs::{bitmap_block, BPB};

use super::log::Transaction;
use super::Fs;

impl Fs {
    /// Allocates a data block and zeroes it; `ENOSPC` when the disk is full.
    pub(super) fn balloc(&self, tx: &Transaction<'_>) -> Result<u32, Errno> {
        let first = self.sb.data_start();
        let hint = self.alloc_hint.load(Ordering::Relaxed);
        let found = match self.balloc_from(tx, hint.max(first))? {
            Some(b) => Some(b),
            None if hint > first => self.balloc_from(tx, first)?,
            None => None,
        };
        let Some(blockno) = found else {
            return Err(Errno::ENOSPC);
        };
        // Only if nothing moved the hint meanwhile: a free may have lowered it.
        let _ = self.alloc_hint.compare_exchange(
            hint,
            blockno + 1,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        // The old contents do not matter: no disk read, just zeroes.
        let mut data = self.cache.bread_for_overwrite(blockno)?;
        data.modify(tx).fill(0);
        Ok(blockno)
    }

    /// Takes the first free data block at or after `start`, if any.
    fn balloc_from(&self, tx: &Transaction<'_>, start: u32) -> Result<Option<u32>, Errno> {
        let sb = &self.sb;
        let nbitmap = sb.size.div_ceil(BPB as u32);
        for bmb in start / BPB as u32..nbitmap {
            let base = bmb * BPB as u32;
            let lo = start.max(base);
            let hi = sb.size.min(base + BPB as u32);
            if lo >= hi {
                continue;
            }
            let mut buf = self.cache.bread(sb.bmapstart + bmb)?;
            let Some(b) = first_clear(&buf[..], (lo - base) as usize, (hi - base) as usize) else {
                continue;
            };
            buf.modify(tx)[b / 8] |= 1 << (b % 8);
            return Ok(Some(base + b as u32));
        }
        Ok(None)
    }

    /// Marks data block `b` free. `EIO` if it is not a data block or already free (corruption).
    pub(super) fn bfree(&self, tx: &Transaction<'_>, b: u32) -> Result<(), Errno> {
        self.data_block(b)?;
        let mut buf = self.cache.bread(bitmap_block(b, &self.sb))?;
        let bit = b as usize % BPB;
        let mask = 1u8 << (bit % 8);
        if buf[bit / 8] & mask == 0 {
            return Err(Errno::EIO);
        }
        buf.modify(tx)[bit / 8] &= !mask;
        self.alloc_hint.fetch_min(b, Ordering::Relaxed);
        Ok(())
    }
}

/// Index of the first clear bit in `bits[lo..hi)` (bit `i` is `bits[i / 8] >> (i % 8)`).
fn first_clear(bits: &[u8], lo: usize, hi: usize) -> Option<usize> {
    let mut i = lo;
    while i < hi {
        if i.is_multiple_of(64) && i + 64 <= hi {
            // Little-endian, so bit `i + k` is bit `k` of the word.
            let word = u64::from_le_bytes(bits[i / 8..i / 8 + 8].try_into().unwrap());
            if word == u64::MAX {
                i += 64;
                continue;
            }
            return Some(i + word.trailing_ones() as usize);
        }
        if bits[i / 8] & (1 << (i % 8)) == 0 {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::first_clear;

    #[test]
    fn first_clear_respects_bounds() {
        let bits = [0xff, 0b1110_1111, 0xff, 0x00];
        assert_eq!(first_clear(&bits, 0, 32), Some(12));
        assert_eq!(first_clear(&bits, 13, 32), Some(24));
        assert_eq!(first_clear(&bits, 13, 24), None);
        assert_eq!(first_clear(&bits, 3, 12), None);
        assert_eq!(first_clear(&[0u8; 2], 5, 6), Some(5));
    }

    #[test]
    fn first_clear_word_at_a_time() {
        let mut bits = [0xffu8; 32];
        assert_eq!(first_clear(&bits, 0, 256), None);
        bits[19] = 0b1111_0111; // bit 155, inside the third word
        assert_eq!(first_clear(&bits, 0, 256), Some(155));
        assert_eq!(first_clear(&bits, 3, 256), Some(155));
        assert_eq!(first_clear(&bits, 156, 256), None);
        assert_eq!(first_clear(&bits, 0, 155), None);
        bits[31] = 0x7f; // bit 255, the last one
        assert_eq!(first_clear(&bits, 156, 256), Some(255));
    }
}
