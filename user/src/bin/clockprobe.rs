//! clockprobe: prints the TSC and `uptime` at known moments, for the host
//! to timestamp as each line arrives (tests/tests/time.rs compares both
//! clocks with its own).
//!
//! `clockprobe [SLEEP [SPIN]]`: waits for a tick edge (so a sleep starts
//! at one), prints `clock tsc=<rdtsc> ticks=<uptime>`; with SLEEP, sleeps
//! SLEEP ticks (`sleep(SLEEP)`, as the shell's `sleep` does) and prints
//! the line again; with SPIN, spins until `uptime` is SPIN ticks past the
//! first line and prints it a last time. Each line is one `write`. A
//! count that is not a non-negative number is a usage error (status 2).
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::container::rdtsc;
use ulib::prelude::*;
use ulib::process;

entry!(main);

/// Reads both clocks (TSC first: `uptime` is a system call) and prints them.
fn report() -> u64 {
    let tsc = rdtsc();
    let ticks = process::uptime();
    println!("clock tsc={tsc} ticks={ticks}");
    ticks
}

fn main(args: Args) -> i32 {
    let counts: Option<Vec<u64>> = args.skip(1).map(|a| a.parse::<u64>().ok()).collect();
    let Some(counts) = counts.filter(|c| c.len() <= 2) else {
        eprintln!("usage: clockprobe [SLEEP [SPIN]]");
        return 2;
    };
    let edge = process::uptime();
    while process::uptime() == edge {
        core::hint::spin_loop();
    }
    let start = report();
    if let Some(&sleep) = counts.first() {
        if let Err(e) = process::sleep(i32::try_from(sleep).unwrap_or(i32::MAX)) {
            eprintln!("clockprobe: sleep: {}", e.description());
            return 1;
        }
        report();
    }
    if let Some(&spin) = counts.get(1) {
        while process::uptime() < start + spin {
            core::hint::spin_loop();
        }
        report();
    }
    0
}
