//! stress-sched: the scheduler under churn. Run from the host.
//!
//! `stress-sched [-t SECS] [-n PROCS] [-c CONTAINERS] [-s NAME]...`: runs
//! every scenario (or those named with `-s`) for `SECS` seconds (default
//! 20) with `PROCS` processes (default 200) in `CONTAINERS` containers
//! (default 8). The last line is `stress-sched: PASS` or
//! `stress-sched: FAIL: <why>` (exit status 0 only on PASS).
//!
//! Scenarios, each a module with a `run(&Options) -> Result<String, String>`
//! (a summary line, or why it failed), listed in [`SCENARIOS`]:
//! - `pingpong` (`pingpong.rs`): PROCS/2 pairs of processes play
//!   ping-pong through two pipes each (every ping blocks its pinger, every
//!   pong wakes it; a pinger also sleeps a tick every 16 pings), spread over
//!   the containers, while a controller pauses and resumes containers,
//!   re-weights them and destroys and re-creates some, restarting their
//!   pairs in the new container. Every ping must be answered, every pair
//!   must make progress in every 1 s interval of its life in which the
//!   median pair made 16 round trips (intervals are real time: one the
//!   host left the guest next to no CPU in proves nothing; see
//!   `ulib::stress`), and afterwards no container and no process of the
//!   run is left.
//!
//! The pieces: `clock.rs` (the interval clock all processes share),
//! `pairs.rs` (pinger and ponger), `control.rs` (the controller),
//! `check.rs` (reading the reports and looking for leftovers); the record
//! format and the verdict are `ulib::stress` (host-tested).
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

mod check;
mod clock;
mod control;
mod pairs;
mod pingpong;

use ulib::prelude::*;

entry!(main);

/// What the command line asked for.
pub struct Options {
    pub secs: u32,
    pub procs: usize,
    pub containers: usize,
    /// Scenario names; empty: all.
    pub only: Vec<String>,
}

/// One scenario: a summary of what it did, or why it failed.
pub struct Scenario {
    pub name: &'static str,
    pub run: fn(&Options) -> Result<String, String>,
}

pub const SCENARIOS: &[Scenario] = &[Scenario {
    name: "pingpong",
    run: pingpong::run,
}];

/// Most processes a run may use (the host keeps the last 64 of NPROC).
const MAX_PROCS: usize = 800;
/// Most containers (a slot number is one byte of a record).
const MAX_CONTAINERS: usize = 32;

const USAGE: &str = "usage: stress-sched [-t SECS] [-n PROCS] [-c CONTAINERS] [-s NAME]...";

fn parse(args: Args) -> Result<Options, String> {
    let mut o = Options {
        secs: 20,
        procs: 200,
        containers: 8,
        only: Vec::new(),
    };
    let mut args = args.skip(1);
    while let Some(a) = args.next() {
        let v = match a {
            "-t" | "-n" | "-c" | "-s" => args.next().ok_or(format!("{a} needs a value"))?,
            _ => return Err(format!("unknown argument {a}")),
        };
        let number = |lo: usize, hi: usize| match v.parse::<usize>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(n),
            _ => Err(format!("{a} {v}: not a number in {lo}..{hi}")),
        };
        match a {
            "-t" => o.secs = number(2, 3600)? as u32,
            "-n" => o.procs = number(2, MAX_PROCS)?,
            "-c" => o.containers = number(1, MAX_CONTAINERS)?,
            _ => {
                if !SCENARIOS.iter().any(|s| s.name == v) {
                    let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
                    return Err(format!(
                        "-s {v}: no such scenario (there are {})",
                        names.join(", ")
                    ));
                }
                o.only.push(v.to_string());
            }
        }
    }
    if o.procs < 2 * o.containers {
        return Err(format!(
            "-n {} is too few for {} containers (a pair, 2 processes, each at least)",
            o.procs, o.containers
        ));
    }
    Ok(o)
}

fn main(args: Args) -> i32 {
    let opts = match parse(args) {
        Ok(o) => o,
        Err(why) => {
            eprintln!("stress-sched: {why}");
            eprintln!("{USAGE}");
            return 2;
        }
    };
    if ulib::container::getcid() != 0 {
        eprintln!("stress-sched: run it on the host (it makes containers)");
        return 1;
    }
    let mut failures = Vec::new();
    for s in SCENARIOS
        .iter()
        .filter(|s| opts.only.is_empty() || opts.only.iter().any(|n| n == s.name))
    {
        match (s.run)(&opts) {
            Ok(summary) => println!("stress-sched: {}: ok: {summary}", s.name),
            Err(why) => {
                println!("stress-sched: {}: FAILED: {why}", s.name);
                failures.push(format!("{}: {why}", s.name));
            }
        }
    }
    if failures.is_empty() {
        println!("stress-sched: PASS");
        0
    } else {
        println!("stress-sched: FAIL: {}", failures.join("; "));
        1
    }
}
