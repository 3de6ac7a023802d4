//! The entry contract, call numbers, `int` arguments, and the documented
//! errors of wait, kill, sleep and open.

use ulib::abi::fcntl::O_ALL;
use ulib::abi::limits::{NPROC, USER_STACK_TOP};
use ulib::abi::syscall::{proc_state, ProcInfo, TABLE};
use ulib::fd;
use ulib::prelude::*;
use ulib::process;
use ulib::sys::nr;
use ulib::test::{describe, errno, expect_errno, reap, TestResult};
use ulib::{ensure, ensure_eq, rt};

use crate::common::{all_fail_with, raw, wait_for_state, Pipe};

/// Junk for the upper half of a register carrying an `int`.
const JUNK: u64 = 0xdead_beef_0000_0000;

/// `_start` got an aligned stack, `argc`/`argv` as documented.
pub fn entry_contract() -> TestResult {
    let rsp = rt::entry_stack_pointer();
    ensure!(
        rsp != 0 && rsp.is_multiple_of(16),
        "rsp at _start was {rsp:#x}: not 16-byte aligned"
    );
    let args = rt::args();
    let argv = args.as_ptr() as u64;
    ensure!(
        argv >= rsp && argv.is_multiple_of(8),
        "argv {argv:#x} is not an aligned array above rsp {rsp:#x}"
    );
    ensure!(args.argc() >= 1, "argc is 0");
    ensure_eq!(args.get(0), Some("syscalltest"), "argv[0]");
    // SAFETY: argv holds argc pointers and then the terminating null.
    let last = unsafe { *args.as_ptr().add(args.argc()) };
    ensure!(last.is_null(), "argv[argc] is {last:p}, not null");
    for i in 0..args.argc() {
        // SAFETY: i < argc.
        let s = unsafe { *args.as_ptr().add(i) } as u64;
        ensure!(
            s > argv && s < USER_STACK_TOP,
            "argv[{i}] at {s:#x} is not on the stack above argv"
        );
    }
    Ok(())
}

pub fn unknown_numbers() -> TestResult {
    let unknown = [
        999u64,
        0,
        TABLE.len() as u64 + 1,
        1_000_000,
        u64::MAX,
        (1 << 32) | nr::getpid as u64,
        1 << 63,
    ];
    let mut results = Vec::new();
    for n in unknown {
        // SAFETY: unknown numbers do nothing; the arguments are all zero.
        results.push((format!("{n:#x}"), unsafe { ulib::sys::syscall6(n, [0; 6]) }));
    }
    all_fail_with("system call", &results, Errno::ENOSYS)
}

/// The kernel reads an `int` argument from the low 32 bits of its register
/// (C leaves the upper half undefined).
pub fn int_args_use_low_32_bits() -> TestResult {
    let p = Pipe::new()?;
    let (r, w) = (JUNK | p.r as u64, JUNK | p.w as u64);
    let mut buf = [0u8; 4];
    // SAFETY: `buf` is ours; the junk-laden fds name our pipe.
    let (wn, rn) = unsafe {
        (
            raw(nr::write, &[w, b"junk".as_ptr() as u64, 4]),
            raw(nr::read, &[r, buf.as_mut_ptr() as u64, 4]),
        )
    };
    ensure!(
        wn == 4 && rn == 4 && &buf == b"junk",
        "write {}, read {}",
        describe(wn),
        describe(rn)
    );
    // SAFETY: no memory is involved.
    let d = unsafe { raw(nr::dup, &[JUNK | 1]) };
    ensure!(d > 2, "dup(junk | 1): {}", describe(d));
    // SAFETY: no memory is involved.
    let c = unsafe { raw(nr::close, &[JUNK | d as u64]) };
    ensure_eq!(c, 0, "close(junk | {d})");
    ensure_eq!(
        fd::close(d as i32),
        Err(Errno::EBADF),
        "fd {d} after closing it with junk above"
    );
    let t0 = process::uptime();
    // SAFETY: no memory is involved.
    let s = unsafe { raw(nr::sleep, &[JUNK]) };
    ensure!(
        s == 0 && process::uptime() - t0 < 100,
        "sleep(junk | 0): {} after {} ticks",
        describe(s),
        process::uptime() - t0
    );
    let pid = process::spawn(|| {
        // SAFETY: no memory is involved; exit does not return.
        unsafe { raw(nr::exit, &[0x1234_5678_0000_0005]) };
        1
    })
    .map_err(errno("fork"))?;
    ensure_eq!(reap(pid)?, 5, "status of exit(junk | 5)");
    Ok(())
}

pub fn open_unknown_flags() -> TestResult {
    let mut results = Vec::new();
    for flags in [0x4u32, 0x100, 0x2000, 0x8000_0000, !O_ALL] {
        results.push((
            format!("flags {flags:#x}"),
            fd::open("console", flags).map_or_else(|e| e.as_return(), i64::from),
        ));
    }
    all_fail_with("open", &results, Errno::EINVAL)
}

pub fn wait_no_children() -> TestResult {
    // SAFETY: null: no status is stored.
    expect_errno("wait(null)", unsafe { raw(nr::wait, &[0]) }, Errno::ECHILD)?;
    let mut status = 5i32;
    // SAFETY: the kernel may write one int into `status`.
    let got = unsafe { raw(nr::wait, &[&mut status as *mut i32 as u64]) };
    expect_errno("wait(&status)", got, Errno::ECHILD)?;
    ensure_eq!(status, 5, "status after a failed wait");
    Ok(())
}

pub fn kill_no_such_process() -> TestResult {
    let mut results = Vec::new();
    for pid in [-1, 0, i32::MIN, i32::MAX, 1000 * NPROC as i32] {
        results.push((
            format!("{pid}"),
            process::kill(pid).map_or_else(|e| e.as_return(), |()| 0),
        ));
    }
    all_fail_with("kill", &results, Errno::ESRCH)
}

/// Init (pid 1) adopts orphans and keeps the shell running: not killable.
pub fn kill_init_refused() -> TestResult {
    ensure_eq!(process::kill(1), Err(Errno::EPERM), "kill(1)");
    let mut rows = vec![ProcInfo::default(); NPROC];
    let n = process::ps(&mut rows).map_err(errno("ps"))?;
    let init = rows[..n].iter().find(|r| r.pid == 1);
    ensure!(
        init.is_some_and(|r| r.state != proc_state::ZOMBIE),
        "init after kill(1): {init:?}"
    );
    Ok(())
}

/// Ticks to wait for a child to become a zombie.
const ZOMBIE_TIMEOUT: u64 = 500;

/// A zombie is not a live process: `ESRCH`, and its exit status stays.
pub fn kill_zombie() -> TestResult {
    let pid = process::spawn(|| 3).map_err(errno("fork"))?;
    let zombie = wait_for_state(pid, proc_state::ZOMBIE, ZOMBIE_TIMEOUT)?;
    let killed = process::kill(pid);
    let status = reap(pid)?;
    ensure!(zombie, "ps never showed child {pid} as a zombie");
    ensure_eq!(killed, Err(Errno::ESRCH), "kill of a zombie");
    ensure_eq!(status, 3, "the zombie's status after the kill");
    Ok(())
}

pub fn sleep_negative() -> TestResult {
    for ticks in [-1, -100, i32::MIN] {
        ensure_eq!(process::sleep(ticks), Err(Errno::EINVAL), "sleep({ticks})");
    }
    ensure_eq!(process::sleep(0), Ok(()), "sleep(0)");
    Ok(())
}
