//! Plain data shared by the berth kernel, its user programs and the host tools.
//!
//! Numbers, codes and layouts only: no logic, no `unsafe`. Anything that
//! crosses the kernel boundary (QEMU exit codes, console markers, later the
//! syscall table, errno values, on-disk layout and trace records) is defined
//! here once, so the two sides cannot drift apart.
#![no_std]

pub mod exit;
pub mod markers;
