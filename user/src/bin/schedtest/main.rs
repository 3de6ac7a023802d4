//! schedtest: does the scheduler give containers their weighted fair share
//! of the CPUs, and processes inside a container equal turns? Run from the
//! host (it makes and destroys containers).
//!
//! `schedtest [-t SECS] [-s NAME]... [-c CPUS]`: runs every scenario (or
//! those named with `-s`) with a measuring window of `SECS` seconds
//! (default 10) after a 1 s warm-up; `-c` overrides the CPU count, which is
//! otherwise measured (see `cpus.rs`).
//!
//! Shares come only from the kernel's counters: the cycles each container
//! ran (`ContainerInfo.cycles`) and each process ran (`ProcInfo.cycles`),
//! as deltas between two snapshots, never from wall time or loop counts.
//! The expectation is the weighted max-min fair share (`ulib::fairshare`:
//! a container uses at most one CPU per CPU-bound process, leftover
//! capacity goes to the others by weight).
//!
//! Scenarios (`scenarios.rs`, `sleeper.rs`):
//! - `weights`: containers of weight 50, 100 and 150, each with
//!   max(2, CPUS) CPU-bound processes; each container's share within ±3 %
//!   (relative) of expected;
//! - `one-vs-six`: 1 CPU-bound process against 6, equal weights; max-min
//!   fair (50/50 on 2 CPUs, 1/7 for the one on 8: nothing is contended);
//!   ±3 % relative;
//! - `intra`: one container with 2 x CPUS processes; each process's share
//!   of the container's cycles within ±5 % (relative) of equal;
//! - `sleeper`: container S sleeps 5 s while A runs, then both are
//!   CPU-bound; over the next 3 s A keeps its fair half (S banked no
//!   credit while asleep); ±5 % relative (see `sleeper.rs` for why).
//!
//! Output: a header line, then per scenario one line per container or
//! process (cycles, measured and expected share, relative deviation, CPUs
//! used) and `schedtest: NAME: PASS` or `schedtest: NAME: FAIL: why`; the
//! last line is `schedtest: N passed, M failed` (exit status 0 only if
//! none failed). Every scenario destroys its containers, which kills its
//! processes, so nothing is left behind.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

mod cpus;
mod group;
mod scenarios;
mod show;
mod sleeper;

use ulib::prelude::*;
use ulib::process;

entry!(main);

/// What the command line asked for, and what the machine is.
pub struct Options {
    /// Measuring window, in ticks (100 per second).
    pub window: u64,
    /// Online CPUs.
    pub cpus: usize,
    /// Scenario names; empty: all.
    pub only: Vec<String>,
}

/// Ticks of warm-up before the first snapshot.
pub const WARMUP_TICKS: u64 = 100;

/// One scenario: prints its detail lines, returns `Ok(())` for PASS or
/// the reason it failed (or could not run).
pub struct Scenario {
    pub name: &'static str,
    pub run: fn(&Options) -> Result<(), String>,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "weights",
        run: scenarios::weights,
    },
    Scenario {
        name: "one-vs-six",
        run: scenarios::one_vs_six,
    },
    Scenario {
        name: "intra",
        run: scenarios::intra,
    },
    Scenario {
        name: "sleeper",
        run: sleeper::sleeper,
    },
];

const USAGE: &str = "usage: schedtest [-t SECS] [-s NAME]... [-c CPUS]";

fn parse(args: Args) -> Result<(u64, Option<usize>, Vec<String>), String> {
    let mut secs = 10u64;
    let mut cpus = None;
    let mut only = Vec::new();
    let mut args = args.skip(1);
    while let Some(a) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{a} needs {what}"));
        match a {
            "-t" => {
                let v = value("a number of seconds")?;
                secs = match v.parse::<u64>() {
                    Ok(n) if (1..=3600).contains(&n) => n,
                    _ => return Err(format!("-t {v}: not a number of seconds in 1..3600")),
                };
            }
            "-c" => {
                let v = value("a CPU count")?;
                cpus = match v.parse::<usize>() {
                    Ok(n) if (1..=cpus::MAX_CPUS).contains(&n) => Some(n),
                    _ => return Err(format!("-c {v}: not a CPU count in 1..{}", cpus::MAX_CPUS)),
                };
            }
            "-s" => {
                let v = value("a scenario name")?;
                if !SCENARIOS.iter().any(|s| s.name == v) {
                    let names: Vec<&str> = SCENARIOS.iter().map(|s| s.name).collect();
                    return Err(format!(
                        "-s {v}: no such scenario (there are {})",
                        names.join(", ")
                    ));
                }
                only.push(v.to_string());
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    Ok((secs, cpus, only))
}

fn main(args: Args) -> i32 {
    let (secs, cpus, only) = match parse(args) {
        Ok(p) => p,
        Err(why) => {
            eprintln!("schedtest: {why}");
            eprintln!("{USAGE}");
            return 2;
        }
    };
    if ulib::container::getcid() != 0 {
        eprintln!("schedtest: run it on the host (it makes containers)");
        return 1;
    }
    let cpus = match cpus {
        Some(n) => {
            println!("schedtest: {n} CPUs online (from -c)");
            n
        }
        None => match cpus::online() {
            Ok((n, used)) => {
                println!(
                    "schedtest: {n} CPUs online ({} spinners used {used:.2} CPUs)",
                    cpus::MAX_CPUS
                );
                n
            }
            Err(why) => {
                println!("schedtest: cannot tell how many CPUs are online: {why}; use -c");
                return 1;
            }
        },
    };
    let opts = Options {
        window: secs * 100,
        cpus,
        only,
    };
    println!(
        "schedtest: window {secs} s after a {} s warm-up; shares from the kernel's cycle counters",
        WARMUP_TICKS / 100
    );
    let (mut passed, mut failed) = (0, 0);
    for s in SCENARIOS
        .iter()
        .filter(|s| opts.only.is_empty() || opts.only.iter().any(|n| n == s.name))
    {
        match (s.run)(&opts) {
            Ok(()) => {
                passed += 1;
                println!("schedtest: {}: PASS", s.name);
            }
            Err(why) => {
                failed += 1;
                println!("schedtest: {}: FAIL: {}", s.name, why.replace('\n', " | "));
            }
        }
        // Every scenario's processes died with its containers; reap any
        // that exited on their own (a failed join).
        process::wait_all();
    }
    println!("schedtest: {passed} passed, {failed} failed");
    i32::from(failed != 0)
}
