//! Console lines the kernel prints at well-known moments.
//!
//! The integration tests in `tests/` wait for these exact strings on the
//! serial port, so they are defined once here and used on both sides.

/// Printed first, followed by the version: `berth <version> (x86_64 SMP)`.
pub const BANNER_PREFIX: &str = "berth ";
/// Printed once every CPU is up: `<n> of <m> CPUs online`.
pub const CPUS_ONLINE_SUFFIX: &str = "CPUs online";
/// Printed once every online CPU's timer has ticked: `timer: all <n> CPUs ticking ...`.
pub const ALL_TICKING_PREFIX: &str = "timer: all ";
/// Printed by the kernel's boot self-test (`-append test=boot`) before it exits QEMU.
pub const BOOT_TEST_PASSED: &str = "boot test: passed";
/// Prefix of every panic line: `panic: cpu <n>: <message> at <file>:<line>:<col>`.
pub const PANIC_PREFIX: &str = "panic: cpu ";
/// Last line of the ^P listing: `free: <f>K of <t>K RAM; kernel heap <u>K of <h>K in use`.
pub const FREE_MEMORY_PREFIX: &str = "free: ";
