//! Process system calls: fork, exit, wait, kill, exec, getpid, sbrk, sleep,
//! uptime, yield and the process listing.

use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fs::MAXPATH;
use berth_abi::limits::{MAXARG, MAXARGBYTES};
use berth_abi::syscall::ProcInfo;

use super::Ctx;
use crate::proc::{exec as pexec, lifecycle, sched};

/// Runs `f` on the caller's address space.
pub(super) fn with_mm<R>(
    ctx: &Ctx,
    f: impl FnOnce(&mut crate::mm::uvm::AddressSpace) -> Result<R, Errno>,
) -> Result<R, Errno> {
    let mut g = ctx.proc.lock_mm();
    f(g.as_mut().ok_or(Errno::EFAULT)?)
}

pub fn fork(ctx: &mut Ctx) -> Result<i64, Errno> {
    lifecycle::fork(&ctx.proc, ctx.frame).map(i64::from)
}

pub fn exit(ctx: &mut Ctx) -> Result<i64, Errno> {
    ctx.exit_status = Some(ctx.arg_i32(0));
    Ok(0)
}

pub fn wait(ctx: &mut Ctx) -> Result<i64, Errno> {
    let addr = ctx.arg(0);
    if addr != 0 {
        with_mm(ctx, |mm| mm.check_writable(addr, 4))?;
    }
    let (pid, status) = lifecycle::wait(&ctx.proc)?;
    if addr != 0 {
        with_mm(ctx, |mm| mm.copy_out(addr, &status.to_le_bytes()))?;
    }
    Ok(i64::from(pid))
}

pub fn kill(ctx: &mut Ctx) -> Result<i64, Errno> {
    lifecycle::kill(ctx.arg_i32(0)).map(|()| 0)
}

/// Reads a NUL-terminated path argument.
pub(super) fn path_arg(ctx: &Ctx, i: usize) -> Result<Vec<u8>, Errno> {
    let addr = ctx.arg(i);
    with_mm(ctx, |mm| mm.copy_in_str(addr, MAXPATH - 1))
}

pub fn exec(ctx: &mut Ctx) -> Result<i64, Errno> {
    let path = path_arg(ctx, 0)?;
    let argv = ctx.arg(1);
    let mut args: Vec<Vec<u8>> = Vec::new();
    let mut total = 0usize;
    with_mm(ctx, |mm| {
        for i in 0.. {
            let ptr = mm.read_u64(argv.checked_add(8 * i).ok_or(Errno::EFAULT)?)?;
            if ptr == 0 {
                break;
            }
            if i as usize >= MAXARG {
                return Err(Errno::E2BIG);
            }
            let s = mm.copy_in_str(ptr, MAXARGBYTES).map_err(|e| {
                if e == Errno::ENAMETOOLONG {
                    Errno::E2BIG
                } else {
                    e
                }
            })?;
            total += s.len() + 1;
            if total > MAXARGBYTES {
                return Err(Errno::E2BIG);
            }
            args.push(s);
        }
        Ok(())
    })?;
    pexec::exec(&ctx.proc, &path, &args, ctx.frame)?;
    Ok(0)
}

pub fn getpid(ctx: &mut Ctx) -> Result<i64, Errno> {
    Ok(i64::from(ctx.proc.pid))
}

pub fn sbrk(ctx: &mut Ctx) -> Result<i64, Errno> {
    let delta = ctx.arg(0) as i64;
    with_mm(ctx, |mm| mm.sbrk(delta)).map(|old| old as i64)
}

pub fn sleep(ctx: &mut Ctx) -> Result<i64, Errno> {
    let n = ctx.arg_i32(0);
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

pub fn ps(ctx: &mut Ctx) -> Result<i64, Errno> {
    let (out, max) = (ctx.arg(0), ctx.arg(1) as usize);
    let rows = lifecycle::process_rows(max);
    let size = core::mem::size_of::<ProcInfo>();
    let mut bytes = Vec::with_capacity(rows.len() * size);
    for r in &rows {
        bytes.extend_from_slice(&r.pid.to_le_bytes());
        bytes.extend_from_slice(&r.ppid.to_le_bytes());
        bytes.extend_from_slice(&r.container.to_le_bytes());
        bytes.extend_from_slice(&r.state.to_le_bytes());
        bytes.extend_from_slice(&r.cpu.to_le_bytes());
        bytes.extend_from_slice(&r.pages.to_le_bytes());
        bytes.extend_from_slice(&r.name);
    }
    with_mm(ctx, |mm| mm.copy_out(out, &bytes))?;
    Ok(rows.len() as i64)
}

pub fn setpgid(ctx: &mut Ctx) -> Result<i64, Errno> {
    lifecycle::setpgid(&ctx.proc, ctx.arg_i32(0), ctx.arg_i32(1)).map(|()| 0)
}

pub fn tcsetpgrp(ctx: &mut Ctx) -> Result<i64, Errno> {
    lifecycle::set_foreground(ctx.arg_i32(0)).map(|()| 0)
}
