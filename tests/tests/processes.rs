//! Process tests, the second layer: user programs embedded in the kernel run
//! as init's child (`-append "test=run run=PROGRAM"`), print one line per
//! check and a closing `N passed, M failed`; the kernel ends QEMU with the
//! program's exit status. Covers fork/wait trees, pipes, sbrk, kill of
//! sleeping and running processes, exec with arguments, user faults that
//! kill only the faulting process, every system call with hostile
//! arguments, and the C-ABI program built by gcc.

use berth_abi::markers::PANIC_PREFIX;
use berth_tests::{skip_if_unusable, Accel, ExitCode, Qemu, QemuConfig, TestFailure};
use std::time::Duration;

/// Generous bound for one program run (KVM runs kernel code slowly here).
const RUN_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `program` and checks its closing line and exit status.
fn run(program: &str, cpus: usize, accel: Accel) -> Result<(), TestFailure> {
    if skip_if_unusable(accel) {
        return Ok(());
    }
    let mut qemu =
        Qemu::spawn(QemuConfig::new(cpus, accel).append(&format!("test=run run={program}")))?;
    let summary = qemu.wait_for_line_matching(
        "the closing `N passed, M failed` line",
        |l| l.ends_with(" failed") && l.contains(" passed, "),
        RUN_TIMEOUT,
    )?;
    qemu.ensure(summary.ends_with(" 0 failed"), || {
        format!("{program}: {summary}")
    })?;
    qemu.ensure(!qemu.output().contains(PANIC_PREFIX), || {
        "the kernel panicked".into()
    })?;
    qemu.expect_exit(ExitCode::Success, RUN_TIMEOUT)
}

macro_rules! program_tests {
    ($($name:ident: $program:literal, $cpus:literal, $accel:ident;)*) => {
        $(
            #[test]
            fn $name() -> Result<(), TestFailure> {
                run($program, $cpus, Accel::$accel)
            }
        )*
    };
}

program_tests! {
    proctests_1cpu_tcg: "proctests", 1, Tcg;
    proctests_2cpu_tcg: "proctests", 2, Tcg;
    proctests_8cpu_tcg: "proctests", 8, Tcg;
    proctests_8cpu_kvm: "proctests", 8, Kvm;
    syscalltest_1cpu_tcg: "syscalltest", 1, Tcg;
    syscalltest_8cpu_tcg: "syscalltest", 8, Tcg;
    syscalltest_2cpu_kvm: "syscalltest", 2, Kvm;
    abitest_1cpu_tcg: "abitest", 1, Tcg;
    abitest_8cpu_tcg: "abitest", 8, Tcg;
    abitest_2cpu_kvm: "abitest", 2, Kvm;
}
