//! How a QEMU run ended, decoded once from the process exit status.
//!
//! The kernel ends a run by writing an [`ExitCode`] to `isa-debug-exit`;
//! QEMU then exits with `(code << 1) | 1` (see `berth_abi::exit`). Any
//! other status means QEMU stopped for another reason (an error, a signal).

use std::fmt;
use std::process::ExitStatus;

use berth_abi::exit::ExitCode;

/// The end of a QEMU run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitOutcome {
    /// The kernel asked QEMU to exit with this code.
    Kernel(ExitCode),
    /// QEMU exited with a status that is not a kernel code (e.g. 1: QEMU error;
    /// 0: shut down without the kernel's word).
    Status(i32),
    /// QEMU was killed by this signal (9 when the harness killed it).
    Signal(i32),
}

impl ExitOutcome {
    /// Decodes an exit status given as (exit code, terminating signal).
    pub fn decode(code: Option<i32>, signal: Option<i32>) -> ExitOutcome {
        match (code, signal) {
            (Some(status), _) => match ExitCode::from_qemu_status(status) {
                Some(kernel) => ExitOutcome::Kernel(kernel),
                None => ExitOutcome::Status(status),
            },
            (None, Some(sig)) => ExitOutcome::Signal(sig),
            // Neither: not possible on Unix; report it as an odd status.
            (None, None) => ExitOutcome::Status(-1),
        }
    }

    /// Decodes a process exit status.
    pub fn from_status(status: ExitStatus) -> ExitOutcome {
        use std::os::unix::process::ExitStatusExt;
        ExitOutcome::decode(status.code(), status.signal())
    }
}

impl fmt::Display for ExitOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitOutcome::Kernel(code) => {
                write!(
                    f,
                    "kernel exit {code:?} (QEMU status {})",
                    code.qemu_status()
                )
            }
            ExitOutcome::Status(s) => write!(f, "QEMU status {s} (not a kernel exit code)"),
            ExitOutcome::Signal(sig) => write!(f, "QEMU killed by signal {sig}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_codes_are_decoded() {
        for code in ExitCode::ALL {
            let outcome = ExitOutcome::decode(Some(code.qemu_status()), None);
            assert_eq!(outcome, ExitOutcome::Kernel(code));
        }
        assert_eq!(
            ExitOutcome::decode(Some(33), None),
            ExitOutcome::Kernel(ExitCode::Success)
        );
    }

    #[test]
    fn other_statuses_and_signals_are_kept() {
        assert_eq!(ExitOutcome::decode(Some(0), None), ExitOutcome::Status(0));
        assert_eq!(ExitOutcome::decode(Some(1), None), ExitOutcome::Status(1));
        assert_eq!(ExitOutcome::decode(None, Some(9)), ExitOutcome::Signal(9));
        assert_eq!(
            ExitOutcome::Kernel(ExitCode::Panic).to_string(),
            "kernel exit Panic (QEMU status 37)"
        );
    }
}
