//! kill: asks the kernel to kill each process named by its pid.
//!
//! `kill pid...`. An argument that is no pid (not a positive decimal
//! number) or names no process is reported as `kill: ARG: <reason>`; the
//! other pids are still killed and the exit status is 1.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::{for_each_operand, process};

entry!(main);

fn main(args: Args) -> i32 {
    for_each_operand(args, "kill", "pid...", |arg| match arg.parse::<i32>() {
        Ok(pid) if pid > 0 => process::kill(pid),
        _ => Err(Errno::EINVAL),
    })
}
