//! `check_image`: the passes in order.
//!
//! 1. superblock geometry (fatal if wrong: nothing else can be located);
//! 2. the log: a committed transaction is replayed into a copy, so the
//!    remaining passes see what the kernel will see after recovery;
//! 3. inodes and block ownership;
//! 4. the directory tree and link counts;
//! 5. the bitmap against ownership (last, as many of its faults are echoes
//!    of damage the earlier passes name more precisely).

use crate::blocks::{self, NO_OWNER};
use crate::image::Fs;
use crate::problem::Report;
use crate::{bitmap, log, superblock, tree};
use std::borrow::Cow;

/// Checks an in-memory image. Never panics, whatever the bytes.
pub fn check_image(bytes: &[u8]) -> Report {
    let mut report = Report::default();
    let (g, warnings) = match superblock::check(bytes) {
        Ok(ok) => ok,
        Err(errors) => {
            report.errors = errors;
            return report;
        }
    };
    report.warnings = warnings;

    let image = match log::committed(bytes, &g) {
        Ok(targets) if targets.is_empty() => Cow::Borrowed(bytes),
        Ok(targets) => {
            report.log_replayed = Some(targets.len() as u32);
            Cow::Owned(log::replay(bytes, &g, &targets))
        }
        // Check the image as it stands: the later passes still say what
        // the rest of it looks like.
        Err(errors) => {
            report.errors.extend(errors);
            Cow::Borrowed(bytes)
        }
    };
    let fs = Fs::new(image, g);

    let inodes = blocks::scan(&fs, &mut report.errors);
    tree::check(&fs, &inodes, &mut report.errors, &mut report.warnings);
    bitmap::check(&fs, &inodes.owner, &mut report.errors, &mut report.warnings);
    report.inodes_in_use = inodes.in_use;
    report.data_blocks_in_use = inodes.owner.iter().filter(|&&o| o != NO_OWNER).count() as u32;
    report
}
