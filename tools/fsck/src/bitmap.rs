//! The bitmap pass: the free bitmap against what is really in use.
//!
//! A block is in use when it is metadata (below the first data block) or
//! owned by an allocated inode. Each must be marked, or the kernel's
//! allocator would hand it out again; each marked data block must be in
//! use, or it is leaked forever. Consecutive blocks with the same fault are
//! reported as one range.

use crate::blocks::NO_OWNER;
use crate::image::Fs;
use crate::problem::Problem;
use berth_abi::fs::BPB;

/// Compares the bitmap with `owner` (from the inode pass).
pub(crate) fn check(
    fs: &Fs,
    owner: &[u32],
    errors: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) {
    let mut run: Option<(Fault, u32, u32)> = None;
    for b in 0..fs.g.size {
        let used = b < fs.g.data_start || owner[b as usize] != NO_OWNER;
        let fault = match (used, fs.marked(b)) {
            (true, false) => Some(Fault::NotMarked {
                metadata: b < fs.g.data_start,
            }),
            (false, true) => Some(Fault::Leaked),
            _ => None,
        };
        run = match (run, fault) {
            (Some((f, first, last)), Some(g)) if f == g && last + 1 == b => Some((f, first, b)),
            (prev, next) => {
                if let Some(r) = prev {
                    errors.push(problem(r));
                }
                next.map(|f| (f, b, b))
            }
        };
    }
    if let Some(r) = run {
        errors.push(problem(r));
    }

    // The kernel never looks past `size`, so stray bits there are harmless.
    let nbits = (fs.g.size / BPB as u32 + 1) * BPB as u32;
    let past = (fs.g.size..nbits).filter(|&b| fs.marked(b)).count() as u32;
    if past > 0 {
        warnings.push(Problem::MarkedPastEnd { count: past });
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    NotMarked { metadata: bool },
    Leaked,
}

fn problem((fault, first, last): (Fault, u32, u32)) -> Problem {
    match fault {
        Fault::NotMarked { metadata } => Problem::NotMarked {
            first,
            last,
            metadata,
        },
        Fault::Leaked => Problem::Leaked { first, last },
    }
}
