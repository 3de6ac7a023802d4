//! The trace calls: start and stop a recording, and take its dump (the
//! layout of `berth_abi::trace`).

use alloc::vec::Vec;

use crate::abi::errno::Errno;
use crate::sys::{self, result};

/// Starts recording `events` (a bit per `trace::event` number; 0: all)
/// about container `cid`'s processes (-1: all).
pub fn start(events: u64, cid: i32) -> Result<(), Errno> {
    // SAFETY: no pointers.
    result(unsafe { sys::trace_start(events, cid) }).map(drop)
}

pub fn stop() -> Result<(), Errno> {
    // SAFETY: no arguments.
    result(unsafe { sys::trace_stop() }).map(drop)
}

/// The last recording's dump.
pub fn dump() -> Result<Vec<u8>, Errno> {
    // SAFETY: a zero length: the kernel writes nothing.
    let size = result(unsafe { sys::trace_dump(core::ptr::null_mut(), 0) })? as usize;
    let mut buf = Vec::new();
    buf.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
    buf.resize(size, 0);
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    let full = result(unsafe { sys::trace_dump(buf.as_mut_ptr(), buf.len()) })? as usize;
    buf.truncate(full.min(size));
    Ok(buf)
}

/// The event number named `name` (as `perf -e` spells it).
pub fn event_named(name: &str) -> Option<u16> {
    (1..=crate::abi::trace::event::LAST).find(|&e| crate::abi::trace::event::name(e) == name)
}
