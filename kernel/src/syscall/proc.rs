//! Process system calls: fork, exit, wait, kill, exec, getpid, sbrk, sleep,
//! uptime, yield and the process listing.

use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fs::MAXPATH;
use berth_abi::limits::{MAXARG, MAXARGBYTES};
use berth_abi::syscall::ProcInfo;

use super::Ctx;
use crate::mm::user::UserPtr;
use crate::proc::{exec as pexec, lifecycle, sched};
use crate::sync::SleepLock;

/// Runs `f` on the caller's address space.
pub(super) fn with_mm<R>(
    ctx: &Ctx,
    f: impl FnOnce(&mut crate::mm::uvm::AddressSpace) -> Result<R, Errno>,
) -> Result<R, Errno> {
    let mut g = ctx.proc.lock_mm();
    f(g.as_mut().ok_or(Errno::EFAULT)?)
}

pub fn fork(ctx: &mut Ctx) -> Result<i64, Errno> {
    crate::mm::heap::check_room()?;
    lifecycle::fork(&ctx.proc, ctx.frame).map(i64::from)
}

pub fn exit(ctx: &mut Ctx, status: i32) -> Result<i64, Errno> {
    ctx.exit_status = Some(status);
    Ok(0)
}

pub fn wait(ctx: &mut Ctx, out: UserPtr<i32>) -> Result<i64, Errno> {
    if !out.is_null() {
        with_mm(ctx, |mm| mm.check_writable(out.array(1)?))?;
    }
    let (pid, status) = lifecycle::wait(&ctx.proc)?;
    if !out.is_null() {
        with_mm(ctx, |mm| mm.write(out, &status))?;
    }
    Ok(i64::from(pid))
}

pub fn kill(ctx: &mut Ctx, pid: i32) -> Result<i64, Errno> {
    lifecycle::kill(&ctx.proc, pid).map(|()| 0)
}

/// Reads a NUL-terminated path argument.
pub(super) fn path_arg(ctx: &Ctx, path: UserPtr<u8>) -> Result<Vec<u8>, Errno> {
    with_mm(ctx, |mm| mm.read_cstr(path, MAXPATH - 1))
}

/// Argument bytes an `exec` may hold in kernel heap without taking
/// [`BIG_ARGS`].
const SMALL_ARGS_BYTES: usize = 4096;

/// Held by the one `exec` at a time whose arguments exceed
/// [`SMALL_ARGS_BYTES`] (up to `MAXARGBYTES`, 64 KiB): a thousand processes
/// exec'ing with the largest arguments at once would otherwise hold 64 MiB
/// of kernel heap, about all of it on a 512 MiB machine.
static BIG_ARGS: SleepLock<()> = SleepLock::new("exec args", ());

pub fn exec(ctx: &mut Ctx, path: UserPtr<u8>, argv: UserPtr<UserPtr<u8>>) -> Result<i64, Errno> {
    crate::mm::heap::check_room()?;
    let path = path_arg(ctx, path)?;
    let mut args: Vec<Vec<u8>> = Vec::new();
    let mut total = 0usize;
    let mut big = None;
    let too_long_is_e2big = |e| {
        if e == Errno::ENAMETOOLONG {
            Errno::E2BIG
        } else {
            e
        }
    };
    with_mm(ctx, |mm| {
        for i in 0.. {
            let ptr = mm.read_ptr(argv.at(i)?)?;
            if ptr.is_null() {
                break;
            }
            if i >= MAXARG {
                return Err(Errno::E2BIG);
            }
            let small_room = SMALL_ARGS_BYTES.saturating_sub(total + 1);
            let s = match mm.read_cstr(
                ptr,
                if big.is_some() {
                    MAXARGBYTES
                } else {
                    small_room
                },
            ) {
                Err(Errno::ENAMETOOLONG) if big.is_none() => {
                    big = Some(BIG_ARGS.lock());
                    mm.read_cstr(ptr, MAXARGBYTES - total)
                        .map_err(too_long_is_e2big)?
                }
                other => other.map_err(too_long_is_e2big)?,
            };
            total += s.len() + 1;
            if total > MAXARGBYTES {
                return Err(Errno::E2BIG);
            }
            args.push(s);
        }
        Ok(())
    })?;
    pexec::exec(&ctx.proc, &path, &args, ctx.frame)?;
    drop(args);
    drop(big);
    Ok(0)
}

pub fn getpid(ctx: &mut Ctx) -> Result<i64, Errno> {
    Ok(i64::from(
        ctx.proc.vpid.load(core::sync::atomic::Ordering::Relaxed),
    ))
}

pub fn sbrk(ctx: &mut Ctx, n: isize) -> Result<i64, Errno> {
    with_mm(ctx, |mm| mm.sbrk(n as i64)).map(|old| old as i64)
}

pub fn sleep(_ctx: &mut Ctx, n: i32) -> Result<i64, Errno> {
    if n < 0 {
        return Err(Errno::EINVAL);
    }
    crate::time::sleep_ticks(n as u64).map(|()| 0)
}

pub fn uptime(_ctx: &mut Ctx) -> Result<i64, Errno> {
    Ok(crate::time::ticks() as i64)
}

pub fn yield_cpu(_ctx: &mut Ctx) -> Result<i64, Errno> {
    sched::yield_now();
    Ok(0)
}

/// One `ps` at a time: a listing holds ~100 KiB of kernel heap while it
/// is built and copied out, and a thousand preempted callers at once could
/// otherwise run the heap dry.
static PS_LOCK: SleepLock<()> = SleepLock::new("ps", ());

pub fn ps(ctx: &mut Ctx, out: UserPtr<ProcInfo>, max: usize) -> Result<i64, Errno> {
    let _one_at_a_time = PS_LOCK.lock();
    let rows: Vec<ProcInfo> = lifecycle::process_rows(Some(&ctx.proc), max);
    with_mm(ctx, |mm| mm.write_all(out, &rows))?;
    Ok(rows.len() as i64)
}

pub fn setpgid(ctx: &mut Ctx, pid: i32, pgid: i32) -> Result<i64, Errno> {
    lifecycle::setpgid(&ctx.proc, pid, pgid).map(|()| 0)
}

pub fn tcsetpgrp(ctx: &mut Ctx, pgid: i32) -> Result<i64, Errno> {
    lifecycle::set_foreground(&ctx.proc, pgid).map(|()| 0)
}
