//! Processes, memory and time: safe wrappers over [`crate::sys`].

use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::syscall::{KernelStats, ProcInfo};

use crate::cstr::{c_string, Argv};
use crate::sys::{self, result};

/// A process id.
pub type Pid = i32;

/// Which side of a `fork` we are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fork {
    /// The new process.
    Child,
    /// The caller; the child has this pid.
    Parent(Pid),
}

/// Creates a copy of the calling process.
pub fn fork() -> Result<Fork, Errno> {
    // SAFETY: no memory is involved; the child continues with a copy of everything.
    match result(unsafe { sys::fork() })? {
        0 => Ok(Fork::Child),
        pid => Ok(Fork::Parent(pid as Pid)),
    }
}

/// Runs `f` in a new child process, which exits with `f`'s result; the
/// caller gets the child's pid. The child never returns into the caller's code.
pub fn spawn(f: impl FnOnce() -> i32) -> Result<Pid, Errno> {
    match fork()? {
        Fork::Child => exit(f()),
        Fork::Parent(pid) => Ok(pid),
    }
}

/// Ends the calling process with `status`, which its parent's `wait` reports.
pub fn exit(status: i32) -> ! {
    // SAFETY: no memory is involved.
    unsafe { sys::exit(status) };
    // The kernel never returns from exit; if it did, fault loudly rather than run on.
    // SAFETY: `ud2` raises an invalid-opcode exception; nothing else happens.
    unsafe { core::arch::asm!("ud2", options(noreturn, nomem, nostack)) }
}

/// Waits for a child to exit: `(pid, status)`; `ECHILD` if there are none.
/// A child killed by `kill` or by a fault has status `KILLED_STATUS` (-1).
pub fn wait() -> Result<(Pid, i32), Errno> {
    let mut status = 0i32;
    // SAFETY: the kernel writes one int into `status`.
    let pid = result(unsafe { sys::wait(&mut status) })?;
    Ok((pid as Pid, status))
}

/// Waits until the child `pid` has exited and returns its status. Other
/// children that exit meanwhile are reaped and reported through `others`.
pub fn wait_for(pid: Pid, others: &mut Vec<(Pid, i32)>) -> Result<i32, Errno> {
    loop {
        let (p, status) = wait()?;
        if p == pid {
            return Ok(status);
        }
        others.push((p, status));
    }
}

/// Reaps every child, in the order they exit: `(pid, status)` each.
pub fn wait_all() -> Vec<(Pid, i32)> {
    let mut all = Vec::new();
    while let Ok(r) = wait() {
        all.push(r);
    }
    all
}

/// Asks the kernel to kill process `pid` (it dies at its next entry to or exit from the kernel).
pub fn kill(pid: Pid) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    result(unsafe { sys::kill(pid) }).map(drop)
}

/// The caller's pid.
pub fn getpid() -> Pid {
    // SAFETY: no memory is involved.
    unsafe { sys::getpid() as Pid }
}

/// Replaces the calling process with the program `path`, passing `args`
/// (by convention `args[0]` is the program's name). Returns only on failure,
/// with the reason; the caller goes on unchanged.
pub fn exec(path: &str, args: &[&str]) -> Errno {
    let (p, argv) = match (c_string(path), Argv::new(args)) {
        (Ok(p), Ok(argv)) => (p, argv),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    // SAFETY: `p` and every `argv` string are NUL-terminated and `argv` ends
    // with a null pointer; the kernel only reads them.
    let ret = unsafe { sys::exec(p.as_ptr(), argv.as_ptr()) };
    match result(ret) {
        Err(e) => e,
        // The kernel never returns success from exec: the caller is gone.
        Ok(_) => Errno::EIO,
    }
}

/// Moves the program break by `delta` bytes and returns the old break: the
/// start of the new memory when growing. `ENOMEM` past the memory limit or
/// free memory, `EINVAL` below the program's initial break.
///
/// ulib's allocator takes its memory from the break too: shrinking below
/// memory the allocator obtained hands its pages back to the kernel under
/// it. Grow and shrink by the same amount, with no allocation in between
/// that could grow the heap, or keep to the allocator.
pub fn sbrk(delta: isize) -> Result<*mut u8, Errno> {
    // SAFETY: moving the break changes no memory Rust knows about; new
    // memory is only used through the returned pointer.
    result(unsafe { sys::sbrk(delta) }).map(|a| a as usize as *mut u8)
}

/// Sleeps for `ticks` clock ticks (100 per second). `EINVAL` if negative;
/// `EINTR` if the process was killed meanwhile (it dies on the way out).
pub fn sleep(ticks: i32) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    result(unsafe { sys::sleep(ticks) }).map(drop)
}

/// Clock ticks (100 per second) since boot.
pub fn uptime() -> u64 {
    // SAFETY: no memory is involved.
    unsafe { sys::uptime() as u64 }
}

/// Gives up the CPU to another runnable process, if any.
pub fn yield_cpu() {
    // SAFETY: no memory is involved.
    unsafe { sys::yield_cpu() };
}

/// Puts process `pid` (0: the caller; else the caller or its child) in the
/// process group `pgid` (0: a new group numbered `pid`).
pub fn setpgid(pid: Pid, pgid: Pid) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    result(unsafe { sys::setpgid(pid, pgid) }).map(drop)
}

/// Makes group `pgid` the console's foreground group, the one ^C kills (0: none).
pub fn tcsetpgrp(pgid: Pid) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    result(unsafe { sys::tcsetpgrp(pgid) }).map(drop)
}

/// Fills `rows` with the process listing (sorted by pid); returns how many rows were written.
pub fn ps(rows: &mut [ProcInfo]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `rows.len()` rows into `rows`.
    result(unsafe { sys::ps(rows.as_mut_ptr(), rows.len()) }).map(|n| n as usize)
}

/// Kernel-wide counters (the host's only: `EPERM` in a container).
pub fn kstats() -> Result<KernelStats, Errno> {
    let mut s = KernelStats::default();
    // SAFETY: the kernel writes one KernelStats into `s`.
    result(unsafe { sys::kstats(&mut s) }).map(|_| s)
}

/// The name in a [`ProcInfo`] row, up to its NUL.
pub fn proc_name(row: &ProcInfo) -> &str {
    let n = row
        .name
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(row.name.len());
    core::str::from_utf8(&row.name[..n]).unwrap_or("?")
}
