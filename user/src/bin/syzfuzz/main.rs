//! syzfuzz: a system-call fuzzer. For each seed a child makes random
//! system calls generated from the seed, every call of the ABI table with
//! random and boundary arguments (wild, kernel, unmapped, misaligned and
//! edge-straddling pointers, huge lengths, bad descriptors and ids, odd
//! paths and flags), and checks what the contract makes certain (a bad
//! argument is a negative errno, the specific one where it is clear). The
//! kernel must survive it all; the parent watches for hangs and deaths.
//!
//! ```text
//! syzfuzz [-s SEED] [-n SEEDS] [-t SECS] [-c CALLS] [-w SECS] [-v] [-H]
//! ```
//! `-s` first seed (default 1), `-n` number of seeds (1), `-t` seconds for
//! the whole run, split over the seeds (default 10 unless `-c` is given),
//! `-c` most calls per seed, `-w` watchdog seconds (10), `-v` print each
//! call and its result, `-H` fuzz on the host (host-only calls such as
//! tracing and container management are exercised) instead of inside a
//! container the run makes per seed.
//!
//! Prints `seed S: N calls, ok` or `seed S: FAIL <why> (replay: syzfuzz
//! -s S -c N)` per seed and finally `N passed, M failed`; exits 0 iff all
//! passed.
//!
//! Modules: `supervise` (the parent: container, ticker, watchdog,
//! cleanup), `child` (the fuzz child's setup and teardown), `fuzz` (its
//! state and the call door), `calls` (one step per call), `gen` and
//! `paths` (argument generators), `grandchild` (what the child forks),
//! `model` (the descriptor table it believes in), `cleanup` (removing
//! `/fz`), `line` (heap-free text), `rng` (splitmix64).
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

extern crate alloc;

mod calls;
mod child;
mod cleanup;
mod fuzz;
mod gen;
mod grandchild;
mod line;
mod model;
mod paths;
mod rng;
mod supervise;

use ulib::prelude::*;

use crate::supervise::Opts;

entry!(main);

const USAGE: &str = "usage: syzfuzz [-s SEED] [-n SEEDS] [-t SECS] [-c CALLS] [-w SECS] [-v] [-H]";

fn parse(args: Args) -> Result<Opts, String> {
    let mut o = Opts {
        seed: 1,
        seeds: 1,
        secs: None,
        calls: None,
        verbose: false,
        host: false,
        watchdog_secs: 10,
    };
    let mut it = args.skip(1);
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            let v = it.next().ok_or_else(|| format!("{name} needs a value"))?;
            v.parse::<u64>()
                .map_err(|_| format!("{name}: {v} is not a number"))
        };
        match a {
            "-s" => o.seed = num("-s")?,
            "-n" => o.seeds = num("-n")?.max(1),
            "-t" => o.secs = Some(num("-t")?),
            "-c" => o.calls = Some(num("-c")?),
            "-w" => o.watchdog_secs = num("-w")?.max(1),
            "-v" => o.verbose = true,
            "-H" => o.host = true,
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    if o.secs.is_none() && o.calls.is_none() {
        o.secs = Some(10);
    }
    Ok(o)
}

fn main(args: Args) -> i32 {
    let o = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("syzfuzz: {e}\n{USAGE}");
            return 2;
        }
    };
    if o.host && ulib::container::getcid() != 0 {
        eprintln!("syzfuzz: -H needs the host");
        return 2;
    }
    let budget = o.secs.map(|s| s * 100 / o.seeds);
    let (mut passed, mut failed) = (0, 0);
    for seed in o.seed..o.seed + o.seeds {
        let out = supervise::run_seed(&o, seed, budget);
        match out.failure {
            None => {
                passed += 1;
                if out.known.is_empty() {
                    println!("seed {seed}: {} calls, ok", out.calls);
                } else {
                    println!(
                        "seed {seed}: {} calls, ok (known kernel bugs: {})",
                        out.calls,
                        out.known.join(", ")
                    );
                }
            }
            Some((why, replay)) => {
                failed += 1;
                println!(
                    "seed {seed}: FAIL {why} (replay: syzfuzz{} -s {seed} -c {replay})",
                    if o.host { " -H" } else { "" }
                );
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    i32::from(failed > 0)
}
