//! Scheduler tests: `schedtest` (containers get their weighted max-min
//! fair share, measured from the kernel's cycle counters; processes inside
//! one get equal turns; a container that slept banks no credit) at 2 and 8
//! CPUs, and `stress-sched` (200 processes in 8 containers ping-ponging
//! through pipes while containers are paused, resumed, re-weighted and
//! destroyed) at 8 CPUs, then the shell must still answer and the disk be
//! clean. The assertions are on shares and on every ping being answered,
//! never on a time: the timeouts only catch a hang.

use std::time::Duration;

use berth_tests::shell::Shell;
use berth_tests::{Accel, TestFailure};

const CMD: Duration = Duration::from_secs(120);
/// Bound for a whole program run (TCG at 8 CPUs on a shared 2-core host).
const LONG: Duration = Duration::from_secs(900);

fn schedtest(cpus: usize) -> Result<(), TestFailure> {
    let mut sh = Shell::boot(cpus, Accel::Tcg, CMD)?;
    sh.qemu.send_line("schedtest -t 6")?;
    let summary = sh.qemu.wait_for_line_matching(
        "schedtest's closing `N passed, M failed` line",
        |l| l.starts_with("schedtest: ") && l.ends_with(" failed") && l.contains(" passed, "),
        LONG,
    )?;
    let out = sh.qemu.output();
    let verdicts: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("schedtest: ") && (l.contains(": PASS") || l.contains(": FAIL")))
        .collect();
    for scenario in ["weights", "one-vs-six", "intra", "sleeper"] {
        let pass = format!("schedtest: {scenario}: PASS");
        sh.qemu.ensure(verdicts.iter().any(|l| *l == pass), || {
            format!(
                "{scenario} did not pass at {cpus} CPUs:\n{}",
                verdicts.join("\n")
            )
        })?;
    }
    sh.qemu
        .ensure(summary.ends_with(" 0 failed"), || summary.clone())?;
    sh.qemu.wait_for("$ ", CMD)?;
    // Nothing left behind: no container, only the host's processes.
    let ls = sh.run("ctr ls", CMD)?;
    sh.qemu
        .ensure(!ls.contains("st-"), || format!("containers left: {ls}"))?;
    drop(sh.power_off()?);
    Ok(())
}

#[test]
fn schedtest_2cpu_tcg() -> Result<(), TestFailure> {
    schedtest(2)
}

#[test]
fn schedtest_8cpu_tcg() -> Result<(), TestFailure> {
    schedtest(8)
}

#[test]
fn stress_sched_8cpu_tcg() -> Result<(), TestFailure> {
    let mut sh = Shell::boot(8, Accel::Tcg, CMD)?;
    sh.qemu.send_line("stress-sched -t 20")?;
    let verdict = sh.qemu.wait_for_line_matching(
        "stress-sched's PASS or FAIL line",
        |l| l.starts_with("stress-sched: PASS") || l.starts_with("stress-sched: FAIL"),
        LONG,
    )?;
    sh.qemu
        .ensure(verdict.starts_with("stress-sched: PASS"), || {
            verdict.clone()
        })?;
    sh.qemu.wait_for("$ ", CMD)?;
    // The shell still answers, and nothing of the run is left.
    let out = sh.run("echo still here", CMD)?;
    sh.qemu
        .ensure(out.contains("still here"), || format!("shell said {out:?}"))?;
    sh.power_off_clean("stress-sched").map(drop)
}
