//! Decoding the superblock and checking its geometry.
//!
//! Every later pass indexes blocks by superblock fields, so nothing is
//! trusted until this module has shown that the regions (log, inodes,
//! bitmap, data) lie in order, without overlap, inside the image. The sums
//! are done in `u64`: a corrupt field near `u32::MAX` must produce a
//! message, not an overflow.

use crate::problem::Problem;
use berth_abi::fs::{SuperBlock, BPB, BSIZE, FSMAGIC, IPB, LOGSIZE};

/// Superblock fields that passed the checks: every region is inside the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub size: u32,
    pub ninodes: u32,
    pub logstart: u32,
    pub inodestart: u32,
    pub bmapstart: u32,
    /// First data block: the bitmap always spans `size / BPB + 1` blocks, as
    /// `layout` and `SuperBlock::data_start` compute it.
    pub data_start: u32,
}

/// Checks the superblock of `bytes`; returns the geometry and any warnings,
/// or the errors that make the rest of the image unreadable.
pub(crate) fn check(bytes: &[u8]) -> Result<(Geometry, Vec<Problem>), Vec<Problem>> {
    let len = bytes.len() as u64;
    let sb = match bytes.get(BSIZE..2 * BSIZE).and_then(SuperBlock::from_bytes) {
        Some(sb) => sb,
        None => return Err(vec![Problem::TooSmall { len }]),
    };
    if sb.magic != FSMAGIC {
        return Err(vec![Problem::BadMagic { magic: sb.magic }]);
    }
    let size = sb.size as u64;
    if size * BSIZE as u64 > len {
        return Err(vec![Problem::Truncated { len, size: sb.size }]);
    }

    let mut errors = Vec::new();
    let mut bad = |detail: String| errors.push(Problem::BadSuperblock { detail });
    let (logstart, nlog) = (sb.logstart as u64, sb.nlog as u64);
    let (inodestart, bmapstart) = (sb.inodestart as u64, sb.bmapstart as u64);
    if logstart < 2 {
        bad(format!(
            "log starts at block {logstart}, inside the boot block or superblock"
        ));
    }
    if nlog < LOGSIZE as u64 + 1 {
        bad(format!(
            "log has {nlog} blocks, the kernel needs {} (header + LOGSIZE)",
            LOGSIZE + 1
        ));
    }
    if inodestart < logstart + nlog {
        bad(format!(
            "inode blocks start at {inodestart}, inside the log (blocks {logstart}-{})",
            logstart + nlog - 1
        ));
    }
    if sb.ninodes < 3 {
        bad(format!(
            "{} inodes leave no room for the root directory (inode 1) and the layer area (inode 2)",
            sb.ninodes
        ));
    }
    if sb.ninodes > 1 << 16 {
        bad(format!(
            "{} inodes is more than 16-bit directory entries can name (65536)",
            sb.ninodes
        ));
    }
    let inode_end = inodestart + (sb.ninodes as u64).div_ceil(IPB as u64);
    if bmapstart < inode_end {
        bad(format!(
            "bitmap starts at block {bmapstart}, inside the inode blocks ({inodestart}-{})",
            inode_end - 1
        ));
    }
    let data_start = bmapstart + size / BPB as u64 + 1;
    if data_start > size {
        bad(format!(
            "metadata ends at block {data_start}, past the end of the file system ({size} blocks)"
        ));
    } else if sb.nblocks as u64 != size - data_start {
        bad(format!(
            "superblock says {} data blocks, but blocks {data_start}-{} are {}",
            sb.nblocks,
            size - 1,
            size - data_start
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut warnings = Vec::new();
    if len > size * BSIZE as u64 {
        warnings.push(Problem::TrailingBytes { len, size: sb.size });
    }
    let g = Geometry {
        size: sb.size,
        ninodes: sb.ninodes,
        logstart: sb.logstart,
        inodestart: sb.inodestart,
        bmapstart: sb.bmapstart,
        data_start: data_start as u32,
    };
    Ok((g, warnings))
}
