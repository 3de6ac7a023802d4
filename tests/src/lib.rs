//! berth's QEMU integration-test harness.
//!
//! A test builds (or is given) the kernel ELF, boots it in QEMU with a
//! [`QemuConfig`], waits for console output with bounded deadlines, types on
//! the serial port, and checks how QEMU exited. Every failure is a
//! [`TestFailure`] that carries the last console lines, so a test written as
//! `fn t() -> Result<(), TestFailure>` with `?` reports what the kernel said.
//!
//! Modules, each owning one job:
//! - [`kernel`]: where the kernel ELF comes from (built once per test binary).
//! - [`accel`]: KVM or TCG, and whether KVM is usable here.
//! - [`config`]: the QEMU command line.
//! - [`console`]: the captured serial output and the read cursor (pure).
//! - [`exit`]: decoding QEMU's exit status (pure).
//! - [`report`]: failures and notes shown to whoever runs the tests.
//! - [`qemu`]: a running QEMU: wait, send, exit, kill on drop.
//! - [`lines`]: parsers for the kernel's well-known console lines (pure).
//! - [`boot`]: waiting for a complete boot and checking what it reported.
//! - [`stress`]: running the guest `stress` program and reading its table.

pub mod accel;
pub mod boot;
pub mod config;
pub mod console;
pub mod exit;
pub mod image;
pub mod kernel;
pub mod lines;
pub mod qemu;
pub mod report;
pub mod shell;
pub mod stress;
pub mod symbols;

use std::time::Duration;

pub use accel::{kvm_usable, skip_if_unusable, Accel};
pub use berth_abi::exit::ExitCode;
pub use boot::{expect_banner, expect_boot, Banner, BootReport};
pub use config::QemuConfig;
pub use exit::ExitOutcome;
pub use image::{fs_image, ImageCopy};
pub use kernel::kernel_elf;
pub use qemu::Qemu;
pub use report::{note, TestFailure};

/// Bound for any single wait. An 8-CPU boot under the software KVM here
/// takes 2-3 s and TCG well under 1 s; 60 s absorbs a loaded 2-core machine
/// while still ending a hung test.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Most CPUs the kernel accepts (the kernel's `param::MAX_CPUS`; not in
/// `berth_abi`, so it is repeated here).
pub const MAX_CPUS: usize = 8;
