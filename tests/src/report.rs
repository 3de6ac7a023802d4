//! What a test tells the person running it: failures with the kernel's last
//! words, and notes that are always shown.
//!
//! A test returns `Result<(), TestFailure>`. libtest prints a returned error
//! with `{:?}`, so `Debug` here is the full human report (message, which QEMU
//! run, the last [`TAIL_LINES`] console lines and QEMU's stderr), not a
//! struct dump: the first thing one reads on a red test is what the kernel
//! printed before it went wrong.

use std::fmt;
use std::io::Write;

/// Console lines carried by a failure.
pub const TAIL_LINES: usize = 40;

/// A failed expectation, with the console context to debug it.
pub struct TestFailure {
    /// What was expected and what happened instead.
    pub message: String,
    /// Which QEMU run (configuration, time since start), when there was one.
    pub run: Option<String>,
    /// The last console lines, oldest first.
    pub console_tail: Vec<String>,
    /// The last lines QEMU wrote to stderr (its own errors and warnings).
    pub stderr_tail: Vec<String>,
}

impl TestFailure {
    /// A failure outside any QEMU run (e.g. the kernel did not build).
    pub fn new(message: impl Into<String>) -> TestFailure {
        TestFailure {
            message: message.into(),
            run: None,
            console_tail: Vec::new(),
            stderr_tail: Vec::new(),
        }
    }
}

impl fmt::Display for TestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.message)?;
        let Some(run) = &self.run else {
            return Ok(());
        };
        writeln!(f, "  QEMU run: {run}")?;
        if self.console_tail.is_empty() {
            writeln!(f, "--- the console printed nothing ---")?;
        } else {
            writeln!(f, "--- last {} console lines ---", self.console_tail.len())?;
            for line in &self.console_tail {
                writeln!(f, "| {line}")?;
            }
            writeln!(f, "--- end of console ---")?;
        }
        if !self.stderr_tail.is_empty() {
            writeln!(f, "--- QEMU stderr ---")?;
            for line in &self.stderr_tail {
                writeln!(f, "| {line}")?;
            }
        }
        Ok(())
    }
}

// `Debug` is what libtest prints for a returned error: make it the report.
impl fmt::Debug for TestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for TestFailure {}

/// Prints one line that shows in the test output even when the test passes.
///
/// libtest captures `print!`/`eprint!` of passing tests; a direct write to
/// the process's stderr is not captured, so skips and timings stay visible.
pub fn note(line: &str) {
    let mut err = std::io::stderr().lock();
    // Nothing useful to do if stderr is gone.
    let _ = writeln!(err, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_shows_message_run_console_and_stderr() {
        let failure = TestFailure {
            message: "timed out waiting for \"boot test: passed\"".to_string(),
            run: Some("2 CPUs, TCG".to_string()),
            console_tail: vec!["cpu 0 online (apic id 0)".to_string()],
            stderr_tail: vec!["qemu: warning".to_string()],
        };
        let text = format!("{failure:?}");
        assert!(text.starts_with("timed out waiting for \"boot test: passed\"\n"));
        assert!(text.contains("QEMU run: 2 CPUs, TCG"));
        assert!(text.contains("--- last 1 console lines ---\n| cpu 0 online (apic id 0)\n"));
        assert!(text.contains("--- QEMU stderr ---\n| qemu: warning\n"));
    }

    #[test]
    fn a_failure_without_qemu_is_just_the_message() {
        assert_eq!(TestFailure::new("no kernel").to_string(), "no kernel\n");
    }
}
