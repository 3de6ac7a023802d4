//! Plain data shared by the berth kernel, its user programs and the host tools.
//!
//! Numbers, codes and layouts only: no logic beyond `const fn` helpers, no
//! `unsafe`. Anything that crosses the kernel boundary (QEMU exit codes,
//! console markers, the syscall table, errno values, file-system types, the
//! on-disk layout and trace records) is defined here once, so the sides
//! cannot drift apart.
#![no_std]

pub mod container;
pub mod errno;
pub mod exit;
pub mod fcntl;
pub mod fs;
pub mod limits;
pub mod markers;
pub mod stat;
pub mod syscall;
pub mod trace;
