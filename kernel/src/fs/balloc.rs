//! The free-block bitmap: allocating and freeing data blocks (xv6 `balloc`/`bfree`).
//!
//! Bit `b` of the bitmap area is set when block `b` is in use; the bits of
//! the metadata blocks (boot, superblock, log, inodes, bitmap) are set by
//! the formatter and never cleared, and allocation only looks at bits of
//! data blocks. Allocation is first fit.
//!
//! Locking: a bitmap block's buffer lock serialises the allocators and
//! freers of the blocks it covers; both change the bit inside the caller's
//! transaction, so a crash never leaves a block both marked free and
//! pointed to. Each call holds one buffer at a time and logs at most two
//! blocks (`balloc`: the bitmap block and the zeroed new block; `bfree`:
//! the bitmap block).

use berth_abi::errno::Errno;
use berth_abi::fs::{bitmap_block, BPB};

use super::log::Transaction;
use super::Fs;

impl Fs {
    /// Allocates a data block and zeroes it; `ENOSPC` when the disk is full.
    pub(super) fn balloc(&self, tx: &Transaction<'_>) -> Result<u32, Errno> {
        let sb = &self.sb;
        let first = sb.data_start();
        let nbitmap = sb.size.div_ceil(BPB as u32);
        for bmb in 0..nbitmap {
            let base = bmb * BPB as u32;
            let lo = first.max(base);
            let hi = sb.size.min(base + BPB as u32);
            if lo >= hi {
                continue;
            }
            let mut buf = self.cache.bread(sb.bmapstart + bmb)?;
            let Some(b) = first_clear(&buf[..], (lo - base) as usize, (hi - base) as usize) else {
                continue;
            };
            buf.modify(tx)[b / 8] |= 1 << (b % 8);
            drop(buf);
            let blockno = base + b as u32;
            // The old contents do not matter: no disk read, just zeroes.
            let mut data = self.cache.bread_for_overwrite(blockno)?;
            data.modify(tx).fill(0);
            return Ok(blockno);
        }
        Err(Errno::ENOSPC)
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
        Ok(())
    }
}

/// Index of the first clear bit in `bits[lo..hi)` (bit `i` is `bits[i / 8] >> (i % 8)`).
fn first_clear(bits: &[u8], lo: usize, hi: usize) -> Option<usize> {
    let mut i = lo;
    while i < hi {
        if i.is_multiple_of(8) && i + 8 <= hi && bits[i / 8] == 0xff {
            i += 8; // a full byte: skip it whole
            continue;
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
}
