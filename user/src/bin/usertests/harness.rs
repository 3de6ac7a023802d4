//! Running one test in isolation: in its own child process, in an empty
//! scratch directory that must be empty again afterwards.
//!
//! A test that crashes (a fault, a kill, a panic) fails alone: its child
//! dies, the runner reports the status and goes on. Whatever a test leaves
//! in the scratch directory is removed and fails the test, so every test
//! has to clean up after itself, even when it passes.

use ulib::fd;
use ulib::prelude::*;
use ulib::test::{in_child, TestResult};

use crate::util::{names_in, remove_tree};

/// The directory tests run in (created by `prepare`, removed by `finish`).
pub const SCRATCH: &str = "/usertests.tmp";

/// Creates an empty scratch directory (a leftover of a crashed run is removed first).
pub fn prepare() -> Result<(), String> {
    if fd::chdir(SCRATCH).is_ok() {
        let _ = fd::chdir("/");
        remove_tree(SCRATCH)
            .map_err(|e| format!("cannot remove the old {SCRATCH}: {}", e.description()))?;
    }
    fd::mkdir(SCRATCH).map_err(|e| format!("cannot create {SCRATCH}: {}", e.description()))
}

/// Removes the scratch directory.
pub fn finish() {
    let _ = remove_tree(SCRATCH);
}

/// Runs `test` in a child, in the scratch directory; then checks that the
/// directory is empty (emptying it if not).
pub fn isolated(test: fn() -> TestResult) -> TestResult {
    let result = in_child(|| {
        fd::chdir(SCRATCH).map_err(|e| format!("chdir {SCRATCH}: {}", e.description()))?;
        test()
    });
    let left = names_in(SCRATCH)?;
    for name in &left {
        let _ = remove_tree(&format!("{SCRATCH}/{name}"));
    }
    match (result, left.is_empty()) {
        (Err(why), _) => Err(why),
        (Ok(()), true) => Ok(()),
        (Ok(()), false) => Err(format!("left behind: {}", left.join(" "))),
    }
}
