//! Limits user programs can rely on.

/// Open files per process (fds 0..NOFILE).
pub const NOFILE: usize = 64;
/// Most arguments `exec` accepts (not counting the terminating null).
pub const MAXARG: usize = 32;
/// Most bytes of argument strings (terminators included) `exec` accepts.
pub const MAXARGBYTES: usize = 64 * 1024;
/// Most processes at once.
pub const NPROC: usize = 1024;
/// Largest user heap + program image (`sbrk` fails with `-ENOMEM` beyond it).
pub const MAX_USER_MEMORY: u64 = 2 << 30;
/// Virtual address programs are linked at.
pub const USER_TEXT_BASE: u64 = 0x40_0000;
/// Top of the user stack (exclusive).
pub const USER_STACK_TOP: u64 = 0x7fff_ffff_0000;
/// Size of the user stack.
pub const USER_STACK_BYTES: u64 = 256 * 1024;
/// Exit status `wait` reports for a process killed by `kill` or by a fault.
pub const KILLED_STATUS: i32 = -1;
