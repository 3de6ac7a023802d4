//! forktest: xv6's fork test. Forks children that exit at once until fork
//! fails or there are 1000, then waits for exactly that many and checks
//! that one more wait fails.
//!
//! Prints `fork test` at the start and `fork test OK` at the end (exit 0);
//! on a failure, a line saying what went wrong (exit 1). A fork may only
//! fail with `EAGAIN` (process table full) or `ENOMEM`, and at least one
//! must succeed; berth's table (1024 slots) usually takes all 1000.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::process::{self, Fork};

entry!(main);

/// Most children forked.
const N: usize = 1000;

fn main(_args: Args) -> i32 {
    println!("fork test");
    match run() {
        Ok(()) => {
            println!("fork test OK");
            0
        }
        Err(why) => {
            println!("fork test FAILED: {why}");
            1
        }
    }
}

fn run() -> Result<(), String> {
    let mut forked = 0;
    let mut stopped_by = None;
    while forked < N {
        match process::fork() {
            Ok(Fork::Child) => process::exit(0),
            Ok(Fork::Parent(_)) => forked += 1,
            Err(e) => {
                stopped_by = Some(e);
                break;
            }
        }
    }
    // Reap before judging, so a failure leaves no zombies behind.
    let mut reaped = 0;
    let mut bad_status = None;
    while reaped < forked {
        match process::wait() {
            Ok((pid, status)) => {
                reaped += 1;
                if status != 0 && bad_status.is_none() {
                    bad_status = Some((pid, status));
                }
            }
            Err(e) => {
                return Err(format!(
                    "wait stopped early: {reaped} of {forked} children: {}",
                    e.description()
                ));
            }
        }
    }
    if let Some(e) = stopped_by {
        if e != Errno::EAGAIN && e != Errno::ENOMEM {
            return Err(format!(
                "fork {} failed with {e:?} ({})",
                forked + 1,
                e.description()
            ));
        }
    }
    if forked == 0 {
        return Err("no fork succeeded".to_string());
    }
    if let Some((pid, status)) = bad_status {
        return Err(format!("child {pid} exited with status {status}, not 0"));
    }
    match process::wait() {
        Err(Errno::ECHILD) => Ok(()),
        Err(e) => Err(format!("wait after the last child: {e:?}, want ECHILD")),
        Ok((pid, _)) => Err(format!("wait got too many: pid {pid}")),
    }
}
