//! The harness's own failure paths, against the real kernel under TCG:
//! a wait that cannot succeed times out with the console tail, a wait after
//! QEMU ended fails at once instead of sleeping out its timeout, so does a
//! wait after the kernel printed a panic line, a wrong
//! exit code is reported as such, and QEMU never outlives its `Qemu`.

use std::path::Path;
use std::time::Duration;

use berth_tests::{Accel, ExitCode, ExitOutcome, Qemu, QemuConfig, TestFailure, TIMEOUT};

/// Whether the process `pid` still exists (a reaped child does not).
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Turns "the harness call should have failed" into a test failure.
fn expect_err<T>(result: Result<T, TestFailure>, what: &str) -> Result<TestFailure, TestFailure> {
    match result {
        Ok(_) => Err(TestFailure::new(format!(
            "{what} succeeded; it should have failed"
        ))),
        Err(failure) => Ok(failure),
    }
}

fn ensure(condition: bool, message: impl FnOnce() -> String) -> Result<(), TestFailure> {
    if condition {
        Ok(())
    } else {
        Err(TestFailure::new(message()))
    }
}

#[test]
fn timeouts_carry_the_console_tail_and_kill_qemu() -> Result<(), TestFailure> {
    // No self-test: the kernel boots and idles forever.
    let mut qemu = Qemu::spawn(QemuConfig::new(1, Accel::Tcg))?;
    let pid = qemu.pid();
    qemu.wait_for_line("1 of 1 CPUs online", TIMEOUT)?;

    let failure = expect_err(
        qemu.wait_for("never printed", Duration::from_millis(300)),
        "waiting for text the kernel never prints",
    )?;
    let report = format!("{failure:?}");
    ensure(
        report.contains("timed out after 300ms waiting for \"never printed\"")
            && report.contains("| 1 of 1 CPUs online")
            && report.contains("QEMU run: 1 CPUs, TCG"),
        || format!("unexpected timeout report:\n{report}"),
    )?;

    let failure = expect_err(
        qemu.wait_exit(Duration::from_millis(300)),
        "waiting for an idle kernel to exit",
    )?;
    ensure(
        failure
            .message
            .contains("did not exit within 300ms (killed it"),
        || format!("unexpected exit-timeout report:\n{failure:?}"),
    )?;
    ensure(!alive(pid), || {
        format!("QEMU {pid} still exists after wait_exit killed it")
    })
}

#[test]
fn waits_fail_at_once_when_qemu_has_ended() -> Result<(), TestFailure> {
    let mut qemu = Qemu::spawn(QemuConfig::new(1, Accel::Tcg).append("test=boot"))?;
    // The full timeout: the wait must end because QEMU did, not because time ran out.
    let failure = expect_err(
        qemu.wait_for("never printed", TIMEOUT),
        "waiting past the end",
    )?;
    ensure(
        failure
            .message
            .starts_with("QEMU ended (kernel exit Success (QEMU status 33))")
            && failure
                .console_tail
                .iter()
                .any(|l| l == "boot test: passed"),
        || format!("unexpected end-of-output report:\n{failure:?}"),
    )?;
    // Waiting for the exit again returns the recorded outcome.
    let outcome = qemu.wait_exit(TIMEOUT)?;
    ensure(outcome == ExitOutcome::Kernel(ExitCode::Success), || {
        format!("outcome {outcome}")
    })
}

#[test]
fn waits_fail_at_once_when_the_kernel_panics() -> Result<(), TestFailure> {
    let mut qemu = Qemu::spawn(QemuConfig::new(1, Accel::Tcg).append("test=panic"))?;
    let failure = expect_err(
        qemu.wait_for("never printed", TIMEOUT),
        "waiting past a panic",
    )?;
    ensure(
        failure.message.starts_with(
            "the kernel panicked while the test waited for \"never printed\": panic: cpu 0: ",
        ),
        || format!("unexpected panic report:\n{failure:?}"),
    )
}

#[test]
fn a_wrong_exit_code_is_reported() -> Result<(), TestFailure> {
    let mut qemu = Qemu::spawn(QemuConfig::new(1, Accel::Tcg).append("test=boot"))?;
    let failure = expect_err(
        qemu.expect_exit(ExitCode::Panic, TIMEOUT),
        "expecting a panic exit",
    )?;
    ensure(
        failure.message == "expected kernel exit Panic, got kernel exit Success (QEMU status 33)",
        || format!("unexpected exit-code report:\n{failure:?}"),
    )
}

#[test]
fn dropping_a_running_qemu_kills_it() -> Result<(), TestFailure> {
    let mut qemu = Qemu::spawn(QemuConfig::new(1, Accel::Tcg))?;
    let pid = qemu.pid();
    qemu.wait_for_line("1 of 1 CPUs online", TIMEOUT)?;
    drop(qemu);
    ensure(!alive(pid), || {
        format!("QEMU {pid} still exists after its Qemu was dropped")
    })
}
