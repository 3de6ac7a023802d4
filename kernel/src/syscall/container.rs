//! Container system calls (26-41; contracts in `berth_abi::container`).
//! Structures cross the boundary whole: a spec is copied in as one value,
//! rows are copied out as their C layout.

use alloc::vec::Vec;

use berth_abi::container::{ContainerInfo, ContainerSpec, HOSTNAME_LEN};
use berth_abi::errno::Errno;
use berth_abi::trace::{ctr_op, event};

use super::proc::with_mm;
use super::Ctx;
use crate::container::{log, manage, members, spec};

/// The bytes of a plain `#[repr(C)]` value with no padding.
fn bytes_of<T: Copy>(v: &T) -> &[u8] {
    // SAFETY: `T` is one of the ABI's `#[repr(C)]` structures of integers
    // and byte arrays, laid out without padding (their sizes are asserted
    // in berth_abi), so every byte is initialised.
    unsafe { core::slice::from_raw_parts((v as *const T).cast::<u8>(), core::mem::size_of::<T>()) }
}

/// Copies in a [`ContainerSpec`] from user address `addr` (0: all defaults).
fn spec_arg(ctx: &Ctx, i: usize) -> Result<ContainerSpec, Errno> {
    let addr = ctx.arg(i);
    if addr == 0 {
        return Ok(ContainerSpec::default());
    }
    let mut raw = [0u8; core::mem::size_of::<ContainerSpec>()];
    with_mm(ctx, |mm| mm.copy_in(addr, &mut raw))?;
    let word = |o: usize| u32::from_le_bytes(raw[o..o + 4].try_into().unwrap_or([0; 4]));
    let quad = |o: usize| u64::from_le_bytes(raw[o..o + 8].try_into().unwrap_or([0; 8]));
    let mut name = [0u8; berth_abi::container::CONTAINER_NAME_LEN];
    name.copy_from_slice(&raw[40..56]);
    Ok(ContainerSpec {
        id: word(0) as i32,
        flags: word(4),
        cpu_weight: word(8),
        max_procs: word(12),
        max_pages: quad(16),
        deny: [quad(24), quad(32)],
        name,
    })
}

pub fn create_container(ctx: &mut Ctx) -> Result<i64, Errno> {
    if !ctx.proc.on_host() {
        return Err(Errno::EPERM);
    }
    let s = spec_arg(ctx, 0)?;
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

pub fn destroy_container(ctx: &mut Ctx) -> Result<i64, Errno> {
    let id = ctx.arg_i32(0);
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

pub fn join_container(ctx: &mut Ctx) -> Result<i64, Errno> {
    let id = ctx.arg_i32(0);
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

pub fn containers(ctx: &mut Ctx) -> Result<i64, Errno> {
    let (out, max) = (ctx.arg(0), ctx.arg(1) as usize);
    let rows = manage::list(&ctx.proc, max);
    let mut bytes = Vec::new();
    bytes
        .try_reserve(rows.len() * core::mem::size_of::<ContainerInfo>())
        .map_err(|_| Errno::ENOMEM)?;
    for r in &rows {
        bytes.extend_from_slice(bytes_of(r));
    }
    with_mm(ctx, |mm| mm.copy_out(out, &bytes))?;
    Ok(rows.len() as i64)
}

pub fn update_container(ctx: &mut Ctx) -> Result<i64, Errno> {
    if !ctx.proc.on_host() {
        return Err(Errno::EPERM);
    }
    let id = ctx.arg_i32(0);
    let s = spec_arg(ctx, 1)?;
    manage::update(&ctx.proc, id, &s).map(|()| 0)
}

pub fn pause_container(ctx: &mut Ctx) -> Result<i64, Errno> {
    let id = ctx.arg_i32(0);
    manage::pause(&ctx.proc, id)?;
    traced(ctx, ctr_op::PAUSE, id);
    Ok(0)
}

pub fn resume_container(ctx: &mut Ctx) -> Result<i64, Errno> {
    let id = ctx.arg_i32(0);
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

pub fn sethostname(ctx: &mut Ctx) -> Result<i64, Errno> {
    let (addr, len) = (ctx.arg(0), ctx.arg(1));
    if len >= HOSTNAME_LEN as u64 {
        return Err(Errno::EINVAL);
    }
    let mut name = alloc::vec![0u8; len as usize];
    with_mm(ctx, |mm| mm.copy_in(addr, &mut name))?;
    manage::set_hostname(&ctx.proc, &name).map(|()| 0)
}

pub fn gethostname(ctx: &mut Ctx) -> Result<i64, Errno> {
    let (addr, len) = (ctx.arg(0), ctx.arg(1));
    let h = ctx.proc.container().hostname();
    let name = berth_abi::container::c_field(&h);
    if len < name.len() as u64 + 1 {
        return Err(Errno::ERANGE);
    }
    let mut out = Vec::from(name);
    out.push(0);
    with_mm(ctx, |mm| mm.copy_out(addr, &out))?;
    Ok(name.len() as i64)
}

pub fn container_diff(ctx: &mut Ctx) -> Result<i64, Errno> {
    let (id, addr, len) = (ctx.arg_i32(0), ctx.arg(1), ctx.arg(2));
    if !ctx.proc.on_host() {
        return Err(Errno::EPERM);
    }
    let id = spec::check_id(id)?;
    let text = crate::container::manage::diff(id)?;
    let n = text.len().min(len as usize);
    with_mm(ctx, |mm| mm.copy_out(addr, &text[..n]))?;
    Ok(text.len() as i64)
}

pub fn getcid(ctx: &mut Ctx) -> Result<i64, Errno> {
    Ok(i64::from(
        ctx.proc
            .container
            .load(core::sync::atomic::Ordering::Relaxed),
    ))
}
