//! QEMU `isa-debug-exit`: lets a test image end QEMU with a status.

use berth_abi::exit::{ExitCode, DEBUG_EXIT_PORT};

/// Asks QEMU to exit with `code`. Returns only if the device is absent.
pub fn exit_qemu(code: ExitCode) {
    super::cpu::outl(DEBUG_EXIT_PORT, code.port_value());
}
