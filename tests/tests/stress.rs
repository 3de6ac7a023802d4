//! Stress tests, short: the guest `stress` runner runs `stress-fork`,
//! `stress-mem`, `stress-ctr` and `stress-fs` for a few seconds each at 2
//! and at 8 CPUs under TCG (stress-sched and syzfuzz have their own tests
//! in sched.rs and fuzz.rs). Each test asserts every program's PASS line,
//! a clean leak row (kstats back after a settle wait), no `panic: cpu ` on
//! the console, the shell answering, and fsck clean with exactly the
//! image's inodes and blocks after power off. The 2-CPU run adds the
//! runner's `-L` row, which leaves a process behind on purpose: it must be
//! reported as a leak and failure (the check can fail). Timeouts only
//! catch hangs; nothing is asserted on speed.

use std::time::{Duration, Instant};

use berth_tests::shell::Shell;
use berth_tests::{stress, Accel, TestFailure};

const BOOT: Duration = Duration::from_secs(120);
/// Longest silence from a program (its budget, settle waits, a loaded host).
const QUIET: Duration = Duration::from_secs(300);
const PROGRAMS: [&str; 4] = ["stress-fork", "stress-mem", "stress-ctr", "stress-fs"];

fn short_run(cpus: usize, secs: u32, leak_check: bool) -> Result<(), TestFailure> {
    let mut sh = Shell::boot(cpus, Accel::Tcg, BOOT)?;
    let mut command = format!("stress -t {secs}");
    for p in PROGRAMS {
        command += &format!(" -p {p}");
    }
    if leak_check {
        command += " -L";
    }
    let started = Instant::now();
    let report = stress::run(&mut sh, &command, QUIET, |_| {})?;
    berth_tests::note(&format!(
        "{command} ({cpus} CPUs): {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let mut why = Vec::new();
    for p in PROGRAMS {
        let pass = format!("{p}: PASS");
        if !report.lines.contains(&pass) {
            let said: Vec<&String> = report
                .lines
                .iter()
                .filter(|l| l.starts_with(&format!("{p}: ")))
                .collect();
            why.push(format!("{p} did not pass: {said:?}"));
        }
        match report.rows.iter().find(|r| r.program == p) {
            Some(r) if r.ok() => {}
            Some(r) => why.push(format!("{p}'s row: {r:?}")),
            None => why.push(format!("no table row for {p}")),
        }
    }
    let want_failed = usize::from(leak_check);
    if report.failed != want_failed || report.passed != PROGRAMS.len() {
        why.push(format!(
            "the summary says {} passed, {} failed (want {}, {want_failed})",
            report.passed,
            report.failed,
            PROGRAMS.len()
        ));
    }
    if leak_check {
        match report.rows.iter().find(|r| r.program == "leak-check") {
            Some(r) if !r.clean && r.deltas[0] >= 1 => {}
            other => why.push(format!(
                "the deliberate leak was not reported as one: {other:?}"
            )),
        }
    }
    sh.qemu.ensure(why.is_empty(), || {
        format!("{}\n{}", why.join("\n"), report.lines.join("\n"))
    })?;
    stress::check_after(sh, "the stress programs")
}

#[test]
fn stress_programs_2cpu_tcg() -> Result<(), TestFailure> {
    short_run(2, 3, true)
}

#[test]
fn stress_programs_8cpu_tcg() -> Result<(), TestFailure> {
    short_run(8, 3, false)
}
