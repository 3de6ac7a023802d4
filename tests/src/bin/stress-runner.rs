//! stress-runner: `make stress`'s host side. Boots berth under QEMU, runs
//! the guest `stress` program at the shell, prints its lines as they come
//! (the table at the end), then checks the console for a kernel panic,
//! that the shell still answers, and, after power off, the disk with fsck
//! (clean, and exactly the image's inodes and blocks in use).
//!
//! `stress-runner [--cpus N] [--secs SECS] [--kvm] [-- GUEST ARGS...]`:
//! the guest runs `stress -t SECS GUEST ARGS...` (SECS per program,
//! default 60). The kernel and image come from `$BERTH_KERNEL` and
//! `$BERTH_FSIMG` (else `build/`). Exit status 0 only if every program
//! passed with a clean row and the checks after hold.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use berth_tests::shell::Shell;
use berth_tests::{stress, Accel};

fn main() -> ExitCode {
    let mut cpus = 8usize;
    let mut secs = 60u64;
    let mut accel = Accel::Tcg;
    let mut extra: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |what: &str| -> Option<u64> {
            let v = args.next()?;
            v.parse().ok().or_else(|| {
                eprintln!("stress-runner: {what} {v}: not a number");
                None
            })
        };
        match a.as_str() {
            "--cpus" => match num("--cpus") {
                Some(n) if (1..=berth_tests::MAX_CPUS as u64).contains(&n) => cpus = n as usize,
                _ => return usage(),
            },
            "--secs" => match num("--secs") {
                Some(n) if n >= 2 => secs = n,
                _ => return usage(),
            },
            "--kvm" => accel = Accel::Kvm,
            "--" => {
                extra.extend(args.by_ref());
            }
            _ => return usage(),
        }
    }
    let mut command = format!("stress -t {secs}");
    for a in &extra {
        command += &format!(" {a}");
    }
    eprintln!("stress-runner: berth on {cpus} CPUs under {accel}: {command}");
    let started = Instant::now();
    let mut sh = match Shell::boot(cpus, accel, Duration::from_secs(120)) {
        Ok(sh) => sh,
        Err(f) => {
            eprintln!("stress-runner: boot failed:\n{f}");
            return ExitCode::FAILURE;
        }
    };
    // The longest a single program may stay silent: its budget, its own
    // checks and settle waits, on a loaded host.
    let quiet = Duration::from_secs(secs * 4 + 300);
    let report = match stress::run(&mut sh, &command, quiet, |l| println!("{l}")) {
        Ok(r) => r,
        Err(f) => {
            eprintln!("stress-runner: the run failed:\n{f}");
            return ExitCode::FAILURE;
        }
    };
    let after = stress::check_after(sh, "the stress run");
    eprintln!(
        "stress-runner: {} passed, {} failed in {:.0} s",
        report.passed,
        report.failed,
        started.elapsed().as_secs_f64()
    );
    match after {
        Ok(()) => eprintln!("stress-runner: no panic, the shell answered, fsck clean"),
        Err(f) => {
            eprintln!("stress-runner: after the run:\n{f}");
            return ExitCode::FAILURE;
        }
    }
    if report.failed == 0 && !report.rows.is_empty() && report.rows.iter().all(|r| r.ok()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn usage() -> ExitCode {
    eprintln!("usage: stress-runner [--cpus N] [--secs SECS] [--kvm] [-- GUEST ARGS...]");
    ExitCode::from(2)
}
