//! Fuzz tests: boot under TCG and run syzfuzz (seeded random system calls
//! with random and boundary arguments, user/src/bin/syzfuzz), in its
//! default mode (each seed inside a container it makes) and on the host
//! (`-H`, where the host-only calls are exercised too). Each test checks
//! that every seed passed (`N passed, 0 failed`), that the kernel printed
//! no panic, that the shell still answers, and that after power off the
//! disk is clean and holds exactly the inodes and blocks the image had:
//! the fuzzer removed what it made, and the kernel leaked nothing on disk.

use std::time::{Duration, Instant};

use berth_abi::markers::PANIC_PREFIX;
use berth_tests::shell::Shell;
use berth_tests::{Accel, TestFailure};

/// Bound for booting and for a short command.
const CMD: Duration = Duration::from_secs(60);
/// Bound for a syzfuzz run: its time budget, teardown, and a loaded host.
const RUN: Duration = Duration::from_secs(90);

/// Powers off and checks the disk: fsck-clean and using exactly the
/// inodes and data blocks of the original image.
fn power_off_unchanged(sh: Shell) -> Result<(), TestFailure> {
    let bytes = sh.power_off_clean("syzfuzz")?;
    berth_tests::image::expect_same_usage(&bytes, "syzfuzz")
}

/// Boots `cpus` CPUs, runs `syzfuzz ARGS` (with `seeds` seeds) and checks
/// its verdict, the console and the disk.
fn fuzz(cpus: usize, args: &str, seeds: usize) -> Result<(), TestFailure> {
    let mut sh = Shell::boot(cpus, Accel::Tcg, CMD)?;
    let started = Instant::now();
    let out = sh.run(&format!("syzfuzz {args}"), RUN)?;
    berth_tests::note(&format!(
        "syzfuzz {args} ({cpus} CPUs): {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    let verdict = format!("{seeds} passed, 0 failed");
    sh.qemu.ensure(out.lines().any(|l| l == verdict), || {
        format!("syzfuzz did not print {verdict:?}; it printed:\n{out}")
    })?;
    let ok_lines = out
        .lines()
        .filter(|l| l.starts_with("seed ") && l.contains(" calls, ok"))
        .count();
    sh.qemu.ensure(ok_lines == seeds, || {
        format!("{ok_lines} `seed S: N calls, ok` lines, want {seeds}:\n{out}")
    })?;
    let alive = sh.run("echo alive", CMD)?;
    sh.qemu.ensure(alive.lines().any(|l| l == "alive"), || {
        format!("the shell did not answer after syzfuzz: {alive:?}")
    })?;
    let console = sh.qemu.output();
    let panic = console.lines().find(|l| l.starts_with(PANIC_PREFIX));
    sh.qemu.ensure(panic.is_none(), || {
        format!("the kernel panicked: {panic:?}")
    })?;
    power_off_unchanged(sh)
}

#[test]
fn syzfuzz_4_seeds_in_containers_2cpu_tcg() -> Result<(), TestFailure> {
    fuzz(2, "-n 4 -t 20", 4)
}

#[test]
fn syzfuzz_8cpu_tcg() -> Result<(), TestFailure> {
    fuzz(8, "-s 11 -n 2 -t 8", 2)
}

#[test]
fn syzfuzz_on_the_host_2cpu_tcg() -> Result<(), TestFailure> {
    fuzz(2, "-H -s 21 -n 2 -t 10", 2)
}
