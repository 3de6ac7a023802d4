//! Container system calls (26-41; contracts in `berth_abi::container`).
//! Structures cross the boundary whole (`berth_abi::pod`): a spec is
//! copied in as one value, rows out as one copy of their C layout.

use berth_abi::container::{ContainerInfo, ContainerSpec, HOSTNAME_LEN};
use berth_abi::errno::Errno;
use berth_abi::trace::{ctr_op, event};

use super::proc::with_mm;
use super::Ctx;
use crate::container::{log, manage, members, spec};
use crate::mm::user::UserPtr;

/// Copies in a [`ContainerSpec`] whole from `spec` (NULL: all defaults).
fn spec_arg(ctx: &Ctx, spec: UserPtr<ContainerSpec>) -> Result<ContainerSpec, Errno> {
    if spec.is_null() {
        return Ok(ContainerSpec::default());
    }
    with_mm(ctx, |mm| mm.read(spec))
}

pub fn create_container(ctx: &mut Ctx, spec: UserPtr<ContainerSpec>) -> Result<i64, Errno> {
    if !ctx.proc.on_host() {
        return Err(Errno::EPERM);
    }
    let s = spec_arg(ctx, spec)?;
    let id = manage::create(&ctx.proc, &s)?;
    traced(ctx, ctr_op::CREATE, id);
    Ok(i64::from(id))
}

/// A container operation that succeeded, in the trace (by host id).
fn traced(ctx: &Ctx, op: u32, id: i32) {
    if crate::trace::on(event::CONTAINER) {
        let p = &ctx.proc;
        let cid = p.container.load(core::sync::atomic::Ordering::Relaxed);
        crate::trace::emit(event::CONTAINER, p.pid, cid, op, id as u32 as u64);
    }
}

pub fn destroy_container(ctx: &mut Ctx, id: i32) -> Result<i64, Errno> {
    // Named in a recording's dump, which lists only live containers.
    let named = usize::try_from(id)
        .ok()
        .filter(|_| crate::trace::on(event::CONTAINER))
        .and_then(crate::container::lookup);
    manage::destroy(&ctx.proc, id)?;
    if let Some(c) = named {
        crate::trace::note_destroyed(&c);
    }
    traced(ctx, ctr_op::DESTROY, id);
    Ok(0)
}

pub fn join_container(ctx: &mut Ctx, id: i32) -> Result<i64, Errno> {
    members::join(&ctx.proc, id)?;
    traced(ctx, ctr_op::JOIN, id);
    Ok(0)
}

pub fn leave_container(ctx: &mut Ctx) -> Result<i64, Errno> {
    let from = ctx
        .proc
        .container
        .load(core::sync::atomic::Ordering::Relaxed);
    members::leave(&ctx.proc)?;
    traced(ctx, ctr_op::LEAVE, from);
    Ok(0)
}

pub fn containers(ctx: &mut Ctx, out: UserPtr<ContainerInfo>, max: usize) -> Result<i64, Errno> {
    let rows = manage::list(&ctx.proc, max);
    with_mm(ctx, |mm| mm.write_all(out, &rows))?;
    Ok(rows.len() as i64)
}

pub fn update_container(
    ctx: &mut Ctx,
    id: i32,
    spec: UserPtr<ContainerSpec>,
) -> Result<i64, Errno> {
    if !ctx.proc.on_host() {
        return Err(Errno::EPERM);
    }
    let s = spec_arg(ctx, spec)?;
    manage::update(&ctx.proc, id, &s).map(|()| 0)
}

pub fn pause_container(ctx: &mut Ctx, id: i32) -> Result<i64, Errno> {
    manage::pause(&ctx.proc, id)?;
    traced(ctx, ctr_op::PAUSE, id);
    Ok(0)
}

pub fn resume_container(ctx: &mut Ctx, id: i32) -> Result<i64, Errno> {
    manage::resume(&ctx.proc, id)?;
    traced(ctx, ctr_op::RESUME, id);
    Ok(0)
}

fn host_only(ctx: &Ctx) -> Result<(), Errno> {
    if ctx.proc.on_host() {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

pub fn scheduler_log_on(ctx: &mut Ctx) -> Result<i64, Errno> {
    host_only(ctx)?;
    log::set_scheduler_log(true);
    Ok(0)
}

pub fn scheduler_log_off(ctx: &mut Ctx) -> Result<i64, Errno> {
    host_only(ctx)?;
    log::set_scheduler_log(false);
    Ok(0)
}

pub fn memory_log_on(ctx: &mut Ctx) -> Result<i64, Errno> {
    host_only(ctx)?;
    log::set_memory_log(true);
    Ok(0)
}

pub fn memory_log_off(ctx: &mut Ctx) -> Result<i64, Errno> {
    host_only(ctx)?;
    log::set_memory_log(false);
    Ok(0)
}

pub fn sethostname(ctx: &mut Ctx, name: UserPtr<u8>, len: usize) -> Result<i64, Errno> {
    if len >= HOSTNAME_LEN {
        return Err(Errno::EINVAL);
    }
    let src = name.slice(len)?;
    let mut buf = [0u8; HOSTNAME_LEN];
    let name = &mut buf[..len];
    with_mm(ctx, |mm| mm.copy_in(src, name))?;
    manage::set_hostname(&ctx.proc, name).map(|()| 0)
}

pub fn gethostname(ctx: &mut Ctx, buf: UserPtr<u8>, len: usize) -> Result<i64, Errno> {
    let h = ctx.proc.container().hostname();
    let name = berth_abi::container::c_field(&h);
    if len < name.len() + 1 {
        return Err(Errno::ERANGE);
    }
    // Only the name and its NUL are written (`len` may be any larger
    // number: the caller's claim of room, not a range to check).
    let dst = buf.slice(name.len() + 1)?;
    let mut out = [0u8; HOSTNAME_LEN + 1];
    out[..name.len()].copy_from_slice(name);
    with_mm(ctx, |mm| mm.copy_out(dst, &out[..name.len() + 1]))?;
    Ok(name.len() as i64)
}

pub fn container_diff(ctx: &mut Ctx, id: i32, buf: UserPtr<u8>, len: usize) -> Result<i64, Errno> {
    if !ctx.proc.on_host() {
        return Err(Errno::EPERM);
    }
    let id = spec::check_id(id)?;
    let text = crate::container::manage::diff(id)?;
    let n = text.len().min(len);
    with_mm(ctx, |mm| mm.copy_out(buf.slice(n)?, &text[..n]))?;
    Ok(text.len() as i64)
}

pub fn getcid(ctx: &mut Ctx) -> Result<i64, Errno> {
    Ok(i64::from(
        ctx.proc
            .container
            .load(core::sync::atomic::Ordering::Relaxed),
    ))
}
