//! berth: an xv6-style SMP kernel for x86_64.
//!
//! The crate is a library so that its pure logic (frame bitmap, ACPI
//! decoding, banner formatting, ...) is unit-tested on the host with
//! `cargo test -p berth-kernel --lib`; everything that needs the hardware
//! is compiled only for `target_os = "none"`. The `kernel` binary
//! (`main.rs`) is a thin shell that links this library.
#![cfg_attr(target_os = "none", no_std)]

extern crate alloc;

pub mod banner;
pub mod cmdline;
pub mod container;
pub mod fs;
pub mod param;

pub mod arch;
#[cfg(target_os = "none")]
pub mod console;
#[cfg(target_os = "none")]
pub mod drivers;
#[cfg(not(target_os = "none"))]
pub mod drivers {
    //! Host build: only the IDE driver's pure PRD-table builder.
    pub mod prd;
}
#[cfg(target_os = "none")]
pub mod file;
#[cfg(target_os = "none")]
pub mod mm;
#[cfg(not(target_os = "none"))]
pub mod mm {
    //! Host build: only the pure frame bitmap, memory accounts and typed
    //! user addresses.
    pub mod account;
    pub mod frame;
    pub mod refs;
    pub mod user;
}
#[cfg(target_os = "none")]
pub mod panic;
pub mod proc;
pub mod sched;
pub mod sync;
#[cfg(target_os = "none")]
pub mod syscall;
#[cfg(target_os = "none")]
pub mod time;
#[cfg(not(target_os = "none"))]
pub mod time {
    //! Host build: only the tick clock's arithmetic.
    pub mod clock;
}
pub mod trace;

#[cfg(target_os = "none")]
mod kmain;
#[cfg(target_os = "none")]
pub use kmain::{ap_main, kmain};
