//! ulib: the runtime every berth user program in Rust links against.
//!
//! A program is `#![no_std]` + `#![no_main]`, names its entry point with
//! [`entry!`] and gets back its arguments:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//! use ulib::{entry, println, Args};
//! entry!(main);
//! fn main(args: Args) -> i32 {
//!     for a in args { println!("{a}"); }
//!     0
//! }
//! ```
//!
//! What is here:
//! - [`sys`]: one raw stub per system call, generated from
//!   `berth_abi::for_each_syscall!` (the list the kernel's dispatcher and the
//!   C stubs come from), returning the kernel's `rax` (`-errno` on failure);
//! - [`process`], [`fd`] and [`container`]: safe wrappers returning
//!   `Result<T, Errno>` (and `container`'s pure helpers for `ctr`);
//! - [`print!`]/[`println!`] (fd 1) and [`eprint!`]/[`eprintln!`] (fd 2), one
//!   `write` per line;
//! - a global allocator on `linked_list_allocator` that grows with `sbrk`
//!   ([`heap`]), so `alloc` (`Vec`, `String`, `format!`) works;
//! - `_start`, the panic handler (`panic: <msg> at file:line` on fd 2, exit
//!   status 101) and [`Args`] ([`rt`], [`args`]);
//! - [`test`]: the table-driven runner of the test programs;
//! - [`fairshare`]: weighted max-min fair CPU shares (`schedtest`'s
//!   expectation) and [`stress`]: `stress-sched`'s report records and the
//!   ledger that judges them; [`stresskit`]: what the other stress
//!   programs share (options, leak checks on `kstats`, report pipes).
//!
//! The pure parts (argument and C-string building, line buffering, the
//! allocator's arenas, the test runner, fair shares, the stress ledger) are unit-tested on the host; the
//! runtime pieces that only make sense in a berth process (`_start`, the
//! panic handler, the global allocator) are compiled out of host tests.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

pub mod args;
pub mod container;
pub mod cstr;
pub mod fairshare;
pub mod fd;
pub mod heap;
pub mod io;
pub mod process;
pub mod rt;
pub mod stress;
pub mod stresskit;
pub mod sys;
pub mod test;
pub mod trace;

pub use args::{for_each_operand, Args};
pub use berth_abi as abi;
pub use berth_abi::errno::Errno;

/// What most programs want in scope: the heap types and the I/O macros.
pub mod prelude {
    pub use crate::{entry, eprint, eprintln, print, println, Args, Errno};
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::format;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

/// Names the program's entry point: `entry!(main)` with
/// `fn main(args: Args) -> i32`. ulib's `_start` calls it with the
/// arguments and exits with the value it returns.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The program's entry, called by ulib's `_start` (see `ulib::rt`).
        #[unsafe(export_name = "__ulib_main")]
        fn __ulib_entry(args: $crate::Args) -> i32 {
            let main: fn($crate::Args) -> i32 = $main;
            main(args)
        }
    };
}
