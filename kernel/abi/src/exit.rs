//! Exit codes written to QEMU's `isa-debug-exit` device (port 0xf4).
//!
//! QEMU turns a value `v` written to the port into the process exit status
//! `(v << 1) | 1`, so every status the host sees is odd. Status 0 means QEMU
//! was shut down some other way (for example by the `quit` monitor command).

/// I/O port of the `isa-debug-exit` device (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`).
pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Why the kernel asked QEMU to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum ExitCode {
    /// A self-test or test program finished and everything passed.
    Success = 0x10,
    /// A self-test or test program finished and reported a failure.
    Failure = 0x11,
    /// The kernel panicked (after printing the CPU, message and location).
    Panic = 0x12,
    /// The machine is not one berth can run on (for example too many CPUs).
    Unsupported = 0x13,
}

impl ExitCode {
    /// Every code, for decoding.
    pub const ALL: [ExitCode; 4] = [
        ExitCode::Success,
        ExitCode::Failure,
        ExitCode::Panic,
        ExitCode::Unsupported,
    ];

    /// The value the kernel writes to the port.
    pub const fn port_value(self) -> u32 {
        self as u32
    }

    /// The exit status the QEMU process ends with after the kernel wrote this code.
    pub const fn qemu_status(self) -> i32 {
        ((self as u32 as i32) << 1) | 1
    }

    /// Decodes a QEMU process exit status, if it came from the kernel.
    pub fn from_qemu_status(status: i32) -> Option<ExitCode> {
        Self::ALL.into_iter().find(|c| c.qemu_status() == status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_are_distinct() {
        for code in ExitCode::ALL {
            assert_eq!(ExitCode::from_qemu_status(code.qemu_status()), Some(code));
            assert_eq!(code.qemu_status() & 1, 1);
        }
        assert_eq!(ExitCode::Success.qemu_status(), 33);
        assert_eq!(ExitCode::from_qemu_status(0), None);
        assert_eq!(ExitCode::from_qemu_status(1), None);
    }
}
