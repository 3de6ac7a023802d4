//! System-call dispatch: from the `syscall` entry's trap frame to a handler.
//!
//! The number → handler table is generated from `berth_abi::for_each_syscall!`,
//! the same list the user stubs come from, so a call missing a handler does
//! not compile. Each handler takes the caller's [`Ctx`] and its arguments as
//! the table declares them, decoded here (`args.rs`): a pointer arrives as
//! a `mm::user::UserPtr`, never as a number. Handlers return
//! `Result<i64, Errno>`; this module alone turns an error into `-errno` in
//! `rax`.

mod args;
mod container;
mod fs;
mod proc;
mod system;
mod trace;

use alloc::sync::Arc;

use berth_abi::errno::Errno;
use berth_abi::trace::event;

use crate::arch::x86_64::cpu;
use crate::arch::x86_64::trap::TrapFrame;
use crate::proc::Proc;

/// What a handler gets: the caller, its saved registers and the arguments.
pub struct Ctx<'a> {
    pub proc: Arc<Proc>,
    pub frame: &'a mut TrapFrame,
    /// Set by `exit`: the dispatcher ends the process once the handler has
    /// returned, so no reference to it is left behind on the stack (a
    /// process exiting from inside a handler would leak the one `Ctx` holds,
    /// and with it the process's kernel stack and table entry memory).
    pub exit_status: Option<i32>,
}

impl Ctx<'_> {
    /// The argument registers, in order: rdi, rsi, rdx, r10, r8, r9.
    fn registers(&self) -> [u64; 6] {
        let f = &self.frame;
        [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9]
    }
}

/// Decodes each argument with the type the table declares (`args.rs`) and
/// calls the handler of that name with them.
macro_rules! dispatcher {
    ($($num:literal $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        fn dispatch(num: u64, ctx: &mut Ctx) -> Result<i64, Errno> {
            #[allow(unused_variables, unused_mut)]
            let mut regs = ctx.registers().into_iter();
            match num {
                $($num => {
                    $(let $arg = <$ty as args::Arg>::decode(regs.next().unwrap_or(0));)*
                    handlers::$name(ctx $(, $arg)*)
                })*
                _ => Err(Errno::ENOSYS),
            }
        }
    };
}
berth_abi::for_each_syscall!(dispatcher);

/// Every handler, by the table's names.
mod handlers {
    pub use super::container::{
        container_diff, containers, create_container, destroy_container, getcid, gethostname,
        join_container, leave_container, memory_log_off, memory_log_on, pause_container,
        resume_container, scheduler_log_off, scheduler_log_on, sethostname, update_container,
    };
    pub use super::fs::{
        chdir, close, dup, fstat, link, mkdir, mknod, open, pipe, read, unlink, write,
    };
    pub use super::proc::{
        exec, exit, fork, getpid, kill, ps, sbrk, setpgid, sleep, tcsetpgrp, uptime, wait,
        yield_cpu,
    };
    pub use super::system::kstats;
    pub use super::trace::{trace_dump, trace_start, trace_stop};
}

/// Called by the entry assembly (a `sym` operand: the compiler checks the
/// name) with interrupts off, and by the redelivery of a misdelivered
/// `syscall` (`arch::x86_64::syscall_entry`).
pub extern "C" fn syscall_dispatch(frame: &mut TrapFrame) {
    let p = crate::proc::current().expect("system call without a process");
    let num = frame.rax;
    if crate::trace::on(event::SYSCALL_ENTER) {
        let cid = p.container.load(core::sync::atomic::Ordering::Relaxed);
        crate::trace::emit_irqs_off(event::SYSCALL_ENTER, p.pid, cid, num as u32, 0);
    }
    cpu::enable_interrupts();
    if p.killed() {
        crate::proc::lifecycle::exit_killed(p);
    }
    let mut ctx = Ctx {
        proc: p,
        frame,
        exit_status: None,
    };
    // The container's deny set (Docker's seccomp, answered with EPERM).
    let refused = !ctx.proc.on_host() && ctx.proc.container().refuses(num);
    let ret = if refused {
        Errno::EPERM.as_return()
    } else {
        dispatch(num, &mut ctx).unwrap_or_else(Errno::as_return)
    };
    let Ctx {
        proc: p,
        frame,
        exit_status,
    } = ctx;
    if crate::trace::on(event::SYSCALL_EXIT) {
        let cid = p.container.load(core::sync::atomic::Ordering::Relaxed);
        // Interrupts are on here: off for the record, without asking.
        cpu::disable_interrupts();
        crate::trace::emit_irqs_off(event::SYSCALL_EXIT, p.pid, cid, num as u32, ret as u64);
        cpu::enable_interrupts();
    }
    if let Some(status) = exit_status {
        crate::proc::lifecycle::exit(p, status);
    }
    frame.rax = ret as u64;
    crate::container::members::freeze_point(&p);
    if p.killed() {
        crate::proc::lifecycle::exit_killed(p);
    }
    drop(p);
    crate::proc::sched::preempt_if_asked();
    cpu::disable_interrupts();
}
