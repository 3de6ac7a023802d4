//! System-call dispatch: from the `syscall` entry's trap frame to a handler.
//!
//! The number → handler table is generated from `berth_abi::for_each_syscall!`,
//! the same list the user stubs come from, so a call missing a handler does
//! not compile. Handlers return `Result<i64, Errno>`; this module alone turns
//! an error into `-errno` in `rax`.

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
    /// Argument `i` (0-based) as passed in rdi, rsi, rdx, r10, r8, r9.
    pub fn arg(&self, i: usize) -> u64 {
        let f = &self.frame;
        [f.rdi, f.rsi, f.rdx, f.r10, f.r8, f.r9][i]
    }

    /// Argument `i` as a C `int` (the low 32 bits, sign-extended).
    pub fn arg_i32(&self, i: usize) -> i32 {
        self.arg(i) as u32 as i32
    }
}

macro_rules! dispatcher {
    ($($num:literal $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        fn dispatch(num: u64, ctx: &mut Ctx) -> Result<i64, Errno> {
            match num {
                $($num => handlers::$name(ctx),)*
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
