//! What the tests share: the bad addresses, raw calls, the edge of mapped
//! memory, pipes that close themselves, error tables, and waiting for a
//! process to reach a state.

use ulib::abi::limits::{NPROC, USER_STACK_BYTES, USER_STACK_TOP};
use ulib::abi::syscall::ProcInfo;
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, sbrk, Pid};
use ulib::sys;
use ulib::test::{describe, errno, TestResult};

pub const PAGE: u64 = 4096;

/// Addresses no system call may accept as a buffer, with their names.
pub const BAD: &[(&str, u64)] = &[
    ("null", 0),
    ("page zero", 0x800),
    ("kernel half", 0xffff_8000_0000_0000),
    ("kernel image", 0xffff_ffff_8010_0000),
    ("non-canonical", 0x0000_8000_0000_0000),
    ("unmapped", 0x7000_0000_0000),
    ("above the stack", USER_STACK_TOP),
    ("below the stack", USER_STACK_TOP - USER_STACK_BYTES - PAGE),
    ("wrapping", u64::MAX - 3),
];

/// Read-only data (the compiler puts an immutable static in .rodata).
static RODATA: [u8; 64] = [0x5a; 64];

/// An address in the text segment (mapped, not writable).
pub fn text_addr() -> u64 {
    text_addr as *const () as u64
}

/// An address in the rodata segment (mapped, not writable).
pub fn rodata_addr() -> u64 {
    RODATA.as_ptr() as u64
}

/// Addresses the kernel must refuse to write to: [`BAD`] plus read-only memory.
pub fn unwritable() -> Vec<(&'static str, u64)> {
    let mut v = BAD.to_vec();
    v.push(("text", text_addr()));
    v.push(("rodata", rodata_addr()));
    v
}

/// System call `nr` with raw register values.
///
/// # Safety
/// Any memory the kernel may write through the arguments must be invalid
/// (the call must fail) or owned by the caller and free to change.
pub unsafe fn raw(nr: usize, args: &[u64]) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { sys::syscall(nr as u64, args) }
}

/// Runs `f` with the end of mapped memory: `f(end)` may use the bytes just
/// below `end` (a fresh page from sbrk), while `end` itself is unmapped.
/// `f` must not allocate (that could grow the heap past `end`); the page
/// is given back afterwards.
pub fn with_edge(f: impl FnOnce(u64) -> i64) -> Result<i64, String> {
    let brk = sbrk(0).map_err(errno("sbrk(0)"))? as u64;
    let pad = (PAGE - brk % PAGE) % PAGE;
    let grow = (pad + PAGE) as isize;
    sbrk(grow).map_err(errno("sbrk(page)"))?;
    let end = brk + pad + PAGE;
    let ret = f(end);
    sbrk(-grow).map_err(errno("giving the page back"))?;
    Ok(ret)
}

/// A pipe closed when dropped.
pub struct Pipe {
    pub r: Fd,
    pub w: Fd,
}

impl Pipe {
    pub fn new() -> Result<Pipe, String> {
        let (r, w) = fd::pipe().map_err(errno("pipe"))?;
        Ok(Pipe { r, w })
    }

    /// Everything buffered, read with one call into a fresh buffer.
    pub fn drain(&self, max: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; max];
        let n = fd::read(self.r, &mut buf).map_err(errno("read"))?;
        buf.truncate(n);
        Ok(buf)
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        let _ = (fd::close(self.r), fd::close(self.w));
    }
}

/// Checks every `(case, result)` is `-want`; fails listing all that are not.
pub fn all_fail_with(call: &str, results: &[(String, i64)], want: Errno) -> TestResult {
    let wrong: Vec<String> = results
        .iter()
        .filter(|(_, r)| *r != want.as_return())
        .map(|(case, r)| format!("{call} {case}: {}", describe(*r)))
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("want -{want:?}, got: {}", wrong.join("; ")))
    }
}

/// How many descriptors are open (those `fstat` accepts).
pub fn open_fds() -> usize {
    (0..ulib::abi::limits::NOFILE as i32)
        .filter(|&f| fd::fstat(f).is_ok())
        .count()
}

/// Polls `ps` once a tick until process `pid` is in `state` (a
/// `proc_state` value): `Ok(false)` if it is not after `timeout` ticks.
pub fn wait_for_state(pid: Pid, state: i32, timeout: u64) -> Result<bool, String> {
    let mut rows = vec![ProcInfo::default(); NPROC];
    let t0 = process::uptime();
    loop {
        let n = process::ps(&mut rows).map_err(errno("ps"))?;
        if rows[..n].iter().any(|r| r.pid == pid && r.state == state) {
            return Ok(true);
        }
        if process::uptime() - t0 > timeout {
            return Ok(false);
        }
        let _ = process::sleep(1);
    }
}
