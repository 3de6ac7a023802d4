//! The trace calls (numbers 42-44; see `berth_abi::syscall`): the host's
//! only, since a recording sees every container.

use berth_abi::errno::Errno;

use super::Ctx;
use crate::mm::user::UserPtr;

fn host_only(ctx: &Ctx) -> Result<(), Errno> {
    if ctx.proc.on_host() {
        Ok(())
    } else {
        Err(Errno::EPERM)
    }
}

pub fn trace_start(ctx: &mut Ctx, events: u64, cid: i32) -> Result<i64, Errno> {
    host_only(ctx)?;
    crate::trace::start(events, cid).map(|()| 0)
}

pub fn trace_stop(ctx: &mut Ctx) -> Result<i64, Errno> {
    host_only(ctx)?;
    crate::trace::stop().map(|()| 0)
}

pub fn trace_dump(ctx: &mut Ctx, buf: UserPtr<u8>, len: usize) -> Result<i64, Errno> {
    host_only(ctx)?;
    let bytes = crate::trace::dump()?;
    let n = bytes.len().min(len);
    if n > 0 {
        super::proc::with_mm(ctx, |mm| mm.copy_out(buf.slice(n)?, &bytes[..n]))?;
    }
    Ok(bytes.len() as i64)
}
