//! Process start and the panic handler.
//!
//! The kernel enters `_start` (the ELF entry point, see `user/user.ld`) with
//! `rdi = argc`, `rsi = argv` and a 16-byte aligned `rsp`. `_start` records
//! that stack pointer, clears `rbp` (the end of the frame chain) and calls
//! [`start`] with the registers untouched: the `call` leaves `rsp % 16 == 8`
//! at `start`'s entry, as the SysV ABI expects. `start` calls the program's
//! `main` (named by [`crate::entry!`], which exports it as `__ulib_main`)
//! and exits with its result.
//!
//! A panic prints `panic: <message> at <file>:<line>` to fd 2 in one write
//! and exits with status [`PANIC_STATUS`].

use core::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use crate::args::Args;

/// Exit status of a process that panicked.
pub const PANIC_STATUS: i32 = 101;

/// `rsp` as the kernel handed it to `_start` (0 until `_start` ran).
static ENTRY_RSP: AtomicU64 = AtomicU64::new(0);

/// `argc` and `argv` as `_start` received them.
static ARGC: AtomicUsize = AtomicUsize::new(0);
static ARGV: AtomicPtr<*const u8> = AtomicPtr::new(core::ptr::null_mut());

/// The stack pointer the kernel started the process with, for tests of the
/// entry contract (it must be 16-byte aligned, at or below `argv`).
pub fn entry_stack_pointer() -> u64 {
    ENTRY_RSP.load(Ordering::Relaxed)
}

/// The program's arguments, as `main` received them (empty before `main`).
pub fn args() -> Args {
    let argv = ARGV.load(Ordering::Relaxed).cast_const();
    // SAFETY: `start` stored the kernel's argc and argv, which stay valid
    // for the process's life (or nothing: argc 0).
    unsafe { Args::from_raw(ARGC.load(Ordering::Relaxed), argv) }
}

/// The ELF entry point.
///
/// # Safety
/// Only the kernel calls it, once, as described in the module header.
#[cfg(not(test))]
#[unsafe(naked)]
#[unsafe(no_mangle)]
#[unsafe(link_section = ".text.start")]
pub unsafe extern "C" fn _start() -> ! {
    // An AtomicU64 has the layout of a u64, so a plain store records it.
    core::arch::naked_asm!(
        "mov qword ptr [rip + {rsp}], rsp",
        "xor ebp, ebp",
        "call {start}",
        "ud2",
        rsp = sym ENTRY_RSP,
        start = sym start,
    )
}

/// Runs the program: `main(args)`, then `exit` with its result.
///
/// # Safety
/// Called only by `_start`, with the kernel's `argc` and `argv`.
#[cfg(not(test))]
unsafe extern "C" fn start(argc: usize, argv: *const *const u8) -> ! {
    unsafe extern "Rust" {
        /// The program's `main`, exported by `entry!`.
        fn __ulib_main(args: Args) -> i32;
    }
    // SAFETY: the kernel leaves `argc` strings and the pointer array on the
    // stack, above everything the program pushes, for the process's life.
    let args = unsafe { Args::from_raw(argc, argv) };
    ARGC.store(argc, Ordering::Relaxed);
    ARGV.store(argv.cast_mut(), Ordering::Relaxed);
    // SAFETY: `entry!` defines `__ulib_main` with exactly this signature; a
    // program without `entry!` fails to link instead.
    let status = unsafe { __ulib_main(args) };
    crate::process::exit(status)
}

#[cfg(not(test))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    use core::fmt::Write;
    let mut w = crate::io::LineWriter::new(crate::io::Fd(2));
    let _ = match info.location() {
        Some(l) => writeln!(w, "panic: {} at {}:{}", info.message(), l.file(), l.line()),
        None => writeln!(w, "panic: {}", info.message()),
    };
    let _ = w.flush();
    crate::process::exit(PANIC_STATUS)
}
