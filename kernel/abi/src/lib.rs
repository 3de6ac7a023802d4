//! Plain data shared by the berth kernel, its user programs and the host tools.
//!
//! Numbers, codes and layouts only: no logic beyond `const fn` helpers.
//! The one `unsafe` is the [`pod::Pod`] marker and its byte views: every
//! `#[repr(C)]` structure here is defined through [`pod!`], which checks
//! at compile time that it has no padding, so it can cross the kernel
//! boundary as its bytes. Anything that crosses the kernel boundary (QEMU exit codes,
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
pub mod pod;
pub mod stat;
pub mod syscall;
pub mod trace;
