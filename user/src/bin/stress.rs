//! stress: runs every stress program one after another and checks the
//! kernel's counters around each. Run from the host.
//!
//! `stress [-t SECS] [-p PROGRAM]... [-L]`: each program (all, or those named
//! with `-p`) runs for SECS seconds (default 10; the budget is per
//! program): `stress-fork`, `stress-mem`, `stress-ctr`, `stress-fs`,
//! `stress-sched` (all `-t SECS`) and `syzfuzz -n 2 -t SECS`. Before each
//! the runner takes `kstats`; after it, it waits up to 5 s for the figures
//! to come back (init reaps orphans, destroyed containers drain) and prints
//! a row of the table: the program, its seconds, its verdict (its exit
//! status: 0 is PASS) and the change of each counter (procs, containers,
//! frames_free, pages_committed, pages_charged, heap_used, inodes_cached).
//! A row is clean when every counter is back exactly, but heap_used, which
//! may stay up to `stresskit::HEAP_ALLOWANCE` (16 KiB) higher: the
//! kernel's caches are preallocated, so that only covers fragmentation.
//! A program passes when it exits 0 and its row is clean. The last line is
//! `stress: N passed, M failed`. `-L` adds a row `leak-check` that leaves a
//! process sleeping past the settle wait on purpose: its row must show the
//! leak (the check's own test).
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::stresskit::{self, Allowance, DELTA_NAMES};

entry!(main);

const PROGRAMS: &[&str] = &[
    "stress-fork",
    "stress-mem",
    "stress-ctr",
    "stress-fs",
    "stress-sched",
    "syzfuzz",
];

const USAGE: &str = "usage: stress [-t SECS] [-p PROGRAM]... [-L]";

/// Ticks the runner waits for the counters to come back after a program.
const SETTLE_TICKS: u64 = 500;

fn main(args: Args) -> i32 {
    let mut secs = 10u32;
    let mut only: Vec<&str> = Vec::new();
    let mut leak_check = false;
    let mut it = args.skip(1);
    while let Some(a) = it.next() {
        match a {
            "-t" => match it.next().and_then(|v| v.parse::<u32>().ok()) {
                Some(n) if (2..=3600).contains(&n) => secs = n,
                _ => return usage("-t needs a number of seconds in 2..3600"),
            },
            "-p" => match it.next() {
                Some(p) if PROGRAMS.contains(&p) => only.push(p),
                _ => return usage(&format!("-p needs one of {}", PROGRAMS.join(", "))),
            },
            "-L" => leak_check = true,
            _ => return usage(&format!("unknown argument {a}")),
        }
    }
    if ulib::container::getcid() != 0 {
        println!("stress: run it on the host");
        return 1;
    }
    stresskit::prewarm(128 * 1024);
    let t = format!("{secs}");
    let mut header = format!("stress: {:<13} {:>5} {:<7}", "program", "secs", "verdict");
    for n in DELTA_NAMES {
        header += &format!(" {n:>11}");
    }
    header += "  leaks";
    let mut rows: Vec<String> = Vec::with_capacity(16);
    let mut notes: Vec<String> = Vec::with_capacity(16);
    let (mut passed, mut failed) = (0, 0);
    let mut list: Vec<(&str, Vec<&str>)> = PROGRAMS
        .iter()
        .filter(|p| only.is_empty() || only.contains(p))
        .map(|&p| {
            let argv = if p == "syzfuzz" {
                vec![p, "-n", "2", "-t", t.as_str()]
            } else {
                vec![p, "-t", t.as_str()]
            };
            (p, argv)
        })
        .collect();
    if leak_check {
        list.push(("leak-check", Vec::new()));
    }
    for (name, argv) in list {
        let before = match stresskit::kstats() {
            Ok(k) => k,
            Err(why) => {
                println!("stress: {why}");
                return 1;
            }
        };
        println!("stress: running {}", argv.join(" "));
        let t0 = process::uptime();
        let status = if name == "leak-check" {
            leaky()
        } else {
            run(&argv)
        };
        let ticks = process::uptime() - t0;
        let verdict = match status {
            Ok(0) => "PASS",
            Ok(_) => "FAIL",
            Err(_) => "ERROR",
        };
        let (after, left) = match stresskit::settle(&before, Allowance::EXACT, SETTLE_TICKS) {
            Ok(x) => x,
            Err(why) => {
                println!("stress: {why}");
                return 1;
            }
        };
        let mut row = format!("stress: {name:<13} {:>5} {verdict:<7}", (ticks + 50) / 100);
        for d in stresskit::deltas(&before, &after) {
            row += &format!(" {d:>+11}");
        }
        row += if left.is_empty() { "  clean" } else { "  LEAK" };
        if !left.is_empty() {
            notes.push(format!("stress: {name}: leaked: {}", left.join(", ")));
        }
        if let Err(why) = status {
            notes.push(format!("stress: {name}: {why}"));
        }
        if verdict == "PASS" && left.is_empty() {
            passed += 1;
        } else {
            failed += 1;
        }
        rows.push(row);
    }
    println!("{header}");
    for r in &rows {
        println!("{r}");
    }
    for n in &notes {
        println!("{n}");
    }
    println!("stress: {passed} passed, {failed} failed");
    if failed == 0 {
        0
    } else {
        1
    }
}

fn usage(why: &str) -> i32 {
    eprintln!("stress: {why}");
    eprintln!("{USAGE}");
    2
}

/// Runs `/argv[0]` with `argv` and returns its exit status.
fn run(argv: &[&str]) -> Result<i32, String> {
    let path = format!("/{}", argv[0]);
    match process::fork() {
        Ok(Fork::Child) => {
            let err = process::exec(&path, argv);
            eprintln!("stress: exec {path}: {}", err.description());
            process::exit(127)
        }
        Ok(Fork::Parent(pid)) => {
            let mut others = Vec::new();
            let status = process::wait_for(pid, &mut others)
                .map_err(|e| format!("wait: {}", e.description()))?;
            if status == 127 {
                return Err(format!("could not exec {path}"));
            }
            Ok(status)
        }
        Err(e) => Err(format!("fork: {}", e.description())),
    }
}

/// The leak check's own test: a child that outlives the settle wait.
fn leaky() -> Result<i32, String> {
    process::spawn(|| {
        let _ = process::sleep(SETTLE_TICKS as i32 + 300);
        0
    })
    .map(|_| 0)
    .map_err(|e| format!("fork: {}", e.description()))
}
