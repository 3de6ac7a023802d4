//! The on-disk log: validating a committed transaction and replaying it in
//! memory.
//!
//! A header with `n > 0` means the machine stopped after a commit and before
//! the log was installed; the kernel copies the `n` logged blocks to their
//! homes at mount. fsck does the same on a copy of the image, so it judges
//! the state the kernel will actually run on. A header it cannot trust (too
//! many blocks, or a target outside the inode/bitmap/data area, which no
//! transaction writes) is reported and not replayed.

use crate::problem::Problem;
use crate::superblock::Geometry;
use berth_abi::fs::{BSIZE, LOGSIZE};

/// Reads the log header: the target blocks of a committed transaction
/// (empty when the log is clean), or what is wrong with it.
pub(crate) fn committed(bytes: &[u8], g: &Geometry) -> Result<Vec<u32>, Vec<Problem>> {
    let header = g.logstart as usize * BSIZE;
    let word = |i: usize| {
        let o = header + 4 * i;
        u32::from_le_bytes([bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3]])
    };
    let n = word(0);
    if n as usize > LOGSIZE {
        return Err(vec![Problem::LogTooLong { n }]);
    }
    let targets: Vec<u32> = (0..n as usize).map(|i| word(1 + i)).collect();
    let errors: Vec<Problem> = targets
        .iter()
        .enumerate()
        .filter(|(_, &b)| b < g.inodestart || b >= g.size)
        .map(|(i, &b)| Problem::LogTarget {
            index: i as u32,
            block: b,
            first: g.inodestart,
            end: g.size,
        })
        .collect();
    if errors.is_empty() {
        Ok(targets)
    } else {
        Err(errors)
    }
}

/// A copy of `bytes` with the logged blocks installed at their targets, in
/// log order (as the kernel installs them), and the header cleared.
pub(crate) fn replay(bytes: &[u8], g: &Geometry, targets: &[u32]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (i, &target) in targets.iter().enumerate() {
        let from = (g.logstart as usize + 1 + i) * BSIZE;
        let to = target as usize * BSIZE;
        out.copy_within(from..from + BSIZE, to);
    }
    let header = g.logstart as usize * BSIZE;
    out[header..header + 4].fill(0);
    out
}
