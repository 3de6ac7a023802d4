//! Container tests: boot with the disk image, run ctrtest (the
//! assignment's scenario), ctrprobe (isolation, limits, bad input) and
//! ctr at the shell, check the console logs the scenario turns on, that
//! destroying containers gives their memory back (^P's free line), and
//! that the disk is clean after power off (the host's fsck).

use std::time::Duration;

use berth_tests::shell::Shell;
use berth_tests::{skip_if_unusable, Accel, TestFailure};

/// Bound for one short command.
const CMD: Duration = Duration::from_secs(120);
/// Bound for ctrtest or ctrprobe (TCG at 8 CPUs on a shared 2-core host).
const LONG: Duration = Duration::from_secs(900);

fn expect(sh: &Shell, cond: bool, what: impl FnOnce() -> String) -> Result<(), TestFailure> {
    sh.qemu.ensure(cond, what)
}

/// Powers off, checks the disk with fsck, and checks that it uses exactly
/// the inodes and blocks the image had before the boot: the containers'
/// layers were discarded by destroy (not left for the next mount to clean)
/// and the programs removed what they made on the host.
fn power_off_unchanged(sh: Shell, after: &str) -> Result<(), TestFailure> {
    let bytes = sh.power_off_clean(after)?;
    berth_tests::image::expect_same_usage(&bytes, after)
}

/// Whether `line` is `Container <cid> : Scheduling process <pid>` for one of ctrtest's containers.
fn is_sched_line(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("Container ") else {
        return false;
    };
    let Some((cid, pid)) = rest.split_once(" : Scheduling process ") else {
        return false;
    };
    matches!(cid, "1" | "2" | "3") && pid.parse::<u32>().is_ok()
}

/// Whether `line` is a memory-log line: `... GVA 0x... -> HVA 0x...`.
fn is_mem_line(line: &str) -> bool {
    line.starts_with("Container ")
        && line
            .split_once("GVA 0x")
            .is_some_and(|(_, rest)| rest.contains(" -> HVA 0x"))
}

/// Runs ctrtest and checks its verdict and the two logs in what it printed.
fn ctrtest_once(sh: &mut Shell) -> Result<(), TestFailure> {
    let started = std::time::Instant::now();
    let out = sh.run("ctrtest", LONG)?;
    berth_tests::note(&format!(
        "ctrtest ({} CPUs): {:.1} s",
        sh.qemu.config().cpus,
        started.elapsed().as_secs_f64()
    ));
    let verdict = out
        .lines()
        .rev()
        .find(|l| l.starts_with("ctrtest: PASS") || l.starts_with("ctrtest: FAIL"));
    expect(sh, verdict == Some("ctrtest: PASS"), || {
        format!("ctrtest's verdict: {verdict:?}")
    })?;
    expect(sh, out.lines().any(is_sched_line), || {
        "no `Container <cid> : Scheduling process <pid>` line for containers 1-3".into()
    })?;
    expect(sh, out.lines().any(is_mem_line), || {
        "no `GVA ... -> HVA ...` line".into()
    })?;
    for step in 1..=9 {
        let tag = format!("ctrtest: step {step}: ");
        expect(sh, out.contains(&tag), || {
            format!("ctrtest did not print {tag:?}")
        })?;
    }
    Ok(())
}

fn ctrtest(cpus: usize) -> Result<(), TestFailure> {
    let mut sh = Shell::boot(cpus, Accel::Tcg, CMD)?;
    ctrtest_once(&mut sh)?;
    sh.power_off_clean("ctrtest").map(drop)
}

#[test]
fn ctrtest_1cpu_tcg() -> Result<(), TestFailure> {
    ctrtest(1)
}

#[test]
fn ctrtest_8cpu_tcg() -> Result<(), TestFailure> {
    ctrtest(8)
}

/// ctrtest twice in one boot (it must be rerunnable), memory back after
/// the second, a clean disk.
#[test]
fn ctrtest_twice_2cpu_tcg_gives_memory_back() -> Result<(), TestFailure> {
    const SLACK_KIB: u64 = 64;
    let mut sh = Shell::boot(2, Accel::Tcg, CMD)?;
    ctrtest_once(&mut sh)?;
    let before = sh.free_memory(CMD)?;
    ctrtest_once(&mut sh)?;
    let after = sh.free_memory(CMD)?;
    expect(&sh, after.gave_back(&before, SLACK_KIB), || {
        format!("ctrtest did not give its memory back: before {before:?}, after {after:?}")
    })?;
    power_off_unchanged(sh, "ctrtest twice")
}

#[test]
fn ctrprobe_1cpu_tcg() -> Result<(), TestFailure> {
    ctrprobe(1)
}

#[test]
fn ctrprobe_2cpu_tcg() -> Result<(), TestFailure> {
    ctrprobe(2)
}

#[test]
fn ctrprobe_8cpu_tcg() -> Result<(), TestFailure> {
    ctrprobe(8)
}

fn ctrprobe(cpus: usize) -> Result<(), TestFailure> {
    let mut sh = Shell::boot(cpus, Accel::Tcg, CMD)?;
    sh.qemu.send_line("ctrprobe")?;
    let summary = sh.qemu.wait_for_line_matching(
        "ctrprobe's closing `N passed, M failed` line",
        |l| l.ends_with(" failed") && l.contains(" passed, "),
        LONG,
    )?;
    let failures: Vec<String> = sh
        .qemu
        .output()
        .lines()
        .filter(|l| l.starts_with("test ") && l.contains(": FAILED"))
        .map(String::from)
        .collect();
    expect(&sh, summary.ends_with(" 0 failed"), || {
        format!("ctrprobe: {summary}\n{}", failures.join("\n"))
    })?;
    sh.qemu.wait_for("$ ", CMD)?;
    sh.power_off_clean("ctrprobe").map(drop)
}

/// ctr at the shell (which shows no exit status): its messages, the container lifecycle, and
/// memory back after destroying containers that ran programs.
#[test]
fn ctr_cli_2cpu_tcg() -> Result<(), TestFailure> {
    let mut sh = Shell::boot(2, Accel::Tcg, CMD)?;
    let check = |sh: &mut Shell, line: &str, want: &[&str]| -> Result<String, TestFailure> {
        let out = sh.run(line, CMD)?;
        for w in want {
            expect(sh, out.contains(w), || {
                format!("`{line}` printed {out:?}, want {w:?} in it")
            })?;
        }
        Ok(out)
    };
    check(&mut sh, "ctr", &["usage: ctr COMMAND"])?;
    check(
        &mut sh,
        "ctr create --cpu-weight 20000",
        &["ctr: --cpu-weight: 20000 is out of range 1..10000"],
    )?;
    check(&mut sh, "ctr rm foo", &["ctr: no such container: foo"])?;
    check(
        &mut sh,
        "ctr create --deny fork,nosuch",
        &["ctr: --deny: no such system call: nosuch"],
    )?;
    check(&mut sh, "ctr run --help", &["usage: ctr run"])?;
    check(&mut sh, "ctr create --name web --pids-limit 4", &[])?;
    let ls = check(&mut sh, "ctr ls", &["web"])?;
    expect(
        &sh,
        ls.lines()
            .any(|l| l.contains(" web ") && l.contains("running")),
        || format!("ctr ls: {ls:?}"),
    )?;
    check(
        &mut sh,
        "ctr exec web echo inside",
        &["inside", "exit status 0"],
    )?;
    check(
        &mut sh,
        "ctr exec web nosuchprogram",
        &["ctr: nosuchprogram: no such file or directory"],
    )?;
    check(&mut sh, "ctr pause web; ctr resume web", &[])?;
    check(&mut sh, "ctr update --cpu-weight 300 web; ctr ls", &["300"])?;
    check(&mut sh, "ctr stats --no-stream", &["CPU %", "web"])?;
    check(&mut sh, "ctr rm web", &["web"])?;
    let gone = check(&mut sh, "ctr ls", &[])?;
    expect(&sh, !gone.contains(" web "), || {
        format!("web still listed: {gone:?}")
    })?;

    // Memory: containers that ran forktest and pipelines, then were destroyed.
    const SLACK_KIB: u64 = 64;
    let work = "ctr run --rm --name m forktest; ctr run --rm sh -c 'cat README | wc'";
    let _ = sh.run(work, CMD)?;
    let before = sh.free_memory(CMD)?;
    for _ in 0..2 {
        let out = sh.run(work, CMD)?;
        expect(
            &sh,
            out.contains("fork test OK") && out.matches("exit status 0").count() == 2,
            || format!("the container workload printed {out:?}"),
        )?;
    }
    let after = sh.free_memory(CMD)?;
    expect(&sh, after.gave_back(&before, SLACK_KIB), || {
        format!("destroyed containers did not give memory back: before {before:?}, after {after:?}")
    })?;
    sh.power_off_clean("the ctr session").map(drop)
}

/// A short KVM smoke test: ctr run of echo.
#[test]
fn ctr_run_smoke_2cpu_kvm() -> Result<(), TestFailure> {
    if skip_if_unusable(Accel::Kvm) {
        return Ok(());
    }
    let mut sh = Shell::boot(2, Accel::Kvm, CMD)?;
    let out = sh.run("ctr run --rm echo hello from a container", CMD)?;
    expect(
        &sh,
        out.contains("hello from a container\n") && out.contains("exit status 0"),
        || format!("ctr run echo printed {out:?}"),
    )?;
    sh.power_off_clean("ctr run").map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_recognised() {
        assert!(is_sched_line("Container 2 : Scheduling process 1"));
        assert!(!is_sched_line("Container 7 : Scheduling process 1"));
        assert!(!is_sched_line("Container 1 : Scheduling process x"));
        assert!(is_mem_line(
            "Container 1 : pid 3 GVA 0x401000 -> HVA 0xffff800001234000"
        ));
        assert!(!is_mem_line("GVA -> HVA"));
    }
}
