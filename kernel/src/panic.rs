//! Kernel panic: report CPU, message and location once, then stop every CPU.
//!
//! The first CPU to panic prints `panic: cpu N: message at file:line:col`
//! without taking the console lock, sends an NMI to every other CPU (whose
//! NMI handler sees the flag and halts), and, when the kernel runs a
//! self-test, ends QEMU with `ExitCode::Panic` so the test fails at once.

use core::sync::atomic::{AtomicBool, Ordering};

use berth_abi::exit::ExitCode;
use berth_abi::markers::PANIC_PREFIX;

use crate::arch::x86_64::{apic, cpu, debug_exit, percpu};
use crate::console::write_unlocked;

static PANICKED: AtomicBool = AtomicBool::new(false);

/// Whether some CPU has panicked.
pub fn panicked() -> bool {
    PANICKED.load(Ordering::Relaxed)
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    cpu::disable_interrupts();
    let first = !PANICKED.swap(true, Ordering::SeqCst);
    let cpu_id = percpu::identify_for_panic();
    let loc = info.location();
    let (file, line, col) = loc.map_or(("?", 0, 0), |l| (l.file(), l.line(), l.column()));
    let message = info.message();
    match cpu_id {
        Some((index, false)) => write_unlocked(format_args!(
            "\n{PANIC_PREFIX}{index}: {message} at {file}:{line}:{col}\n"
        )),
        Some((index, true)) => write_unlocked(format_args!(
            "\n{PANIC_PREFIX}{index} (user GS loaded): {message} at {file}:{line}:{col}\n"
        )),
        None => write_unlocked(format_args!(
            "\n{PANIC_PREFIX}?: {message} at {file}:{line}:{col}\n"
        )),
    }
    if first {
        if cpu_id.is_some() {
            apic::send_nmi_to_others();
        }
        if crate::cmdline::test_mode() {
            debug_exit::exit_qemu(ExitCode::Panic);
        }
    }
    cpu::halt_forever()
}

/// NMI handler: halts this CPU for good once a panic is under way.
pub fn on_nmi() {
    if panicked() {
        cpu::halt_forever();
    }
}
