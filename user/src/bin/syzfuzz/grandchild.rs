//! Grandchildren: what the fuzz child forks. Each runs one short plan and
//! exits, so the child's waits never block for long: exit with a chosen
//! status, sleep a little (a target for kill), exec a harmless program
//! (the only place an exec may succeed), fault on purpose (the kernel
//! kills it), join one of the child's containers (host mode), or a few
//! fuzz steps of its own. A grandchild first closes every pipe end (so the
//! child's model of its pipes stays exact) and every copy of the report
//! pipe but one (none before an exec, so no program writes into it). It
//! sends no call records, only violations (and exits with
//! [`VIOLATION_STATUS`] after one).

use ulib::abi::limits::{KILLED_STATUS, MAXARG};
use ulib::sys::nr;

use crate::fuzz::{Fuzzer, MAX_GRANDCHILDREN};
use crate::model::Kind;

/// Exit status of a grandchild that saw a broken contract.
pub const VIOLATION_STATUS: i32 = 77;

#[derive(Clone, Copy, Debug)]
pub enum Plan {
    Exit(i32),
    Sleep(i32),
    ExecNop,
    ExecEcho,
    ExecMaxArgs,
    Fault,
    Join(i32),
    Mini(u32),
}

impl Plan {
    /// The status `wait` must report, when certain.
    pub fn status(self) -> Option<i32> {
        match self {
            Plan::Exit(s) => Some(s),
            Plan::Sleep(_) => Some(7),
            Plan::ExecNop | Plan::ExecMaxArgs => Some(0),
            Plan::Fault => Some(KILLED_STATUS),
            Plan::Mini(_) => Some(0),
            Plan::ExecEcho | Plan::Join(_) => None,
        }
    }
}

fn a(args: &[u64]) -> [u64; 6] {
    let mut r = [0u64; 6];
    r[..args.len()].copy_from_slice(args);
    r
}

/// Runs `plan` in the freshly forked grandchild; never returns.
pub fn run(f: &mut Fuzzer, plan: Plan) -> ! {
    f.reporting = false;
    f.in_grandchild = true;
    f.grandchildren = [None; MAX_GRANDCHILDREN];
    f.parent_pid = f.my_pid;
    // SAFETY: no memory is involved.
    f.my_pid = unsafe { ulib::sys::getpid() } as i32;
    for fd in 0..f.m.fds.len() as i32 {
        let kind = f.m.fds[fd as usize].kind;
        let dup_of_report = kind == Kind::Report && fd != f.cfg.report;
        let exec_plan = matches!(plan, Plan::ExecNop | Plan::ExecEcho | Plan::ExecMaxArgs);
        let report = fd == f.cfg.report && exec_plan;
        if matches!(kind, Kind::PipeR(_) | Kind::PipeW(_)) || dup_of_report || report {
            // SAFETY: no memory is involved.
            unsafe { ulib::sys::close(fd) };
            f.m.remove(fd);
        }
    }
    let status = match plan {
        Plan::Exit(s) => s,
        Plan::Sleep(t) => {
            f.call(nr::sleep as u64, a(&[t as u64]));
            7
        }
        Plan::ExecNop => {
            let p = f.put_str(0, b"/nop");
            let argv = f.put_argv(32, &[p], true);
            f.call(nr::exec as u64, a(&[p, argv]));
            99
        }
        Plan::ExecEcho => {
            // Random arguments to a program that ignores them: echoargs
            // would print them, and random bytes on the console can look
            // like the shell's prompt to whatever drives it.
            let p = f.put_str(0, b"/nop");
            let mut ptrs = [0u64; 9];
            ptrs[0] = p;
            let n = f.rng.range(0, 8) as usize;
            for (i, slot) in ptrs[1..=n].iter_mut().enumerate() {
                let mut s = [0u8; 24];
                let len = f.rng.below(24) as usize;
                for b in &mut s[..len] {
                    *b = f.rng.range(1, 255) as u8;
                }
                *slot = f.put_str(64 + 32 * i as u64, &s[..len]);
            }
            let argv = f.put_argv(512, &ptrs[..=n], true);
            f.call(nr::exec as u64, a(&[p, argv]));
            99
        }
        Plan::ExecMaxArgs => {
            let p = f.put_str(0, b"/nop");
            let x = f.put_str(16, b"arg");
            let mut ptrs = [x; MAXARG];
            ptrs[0] = p;
            let argv = f.put_argv(32, &ptrs, true);
            f.call(nr::exec as u64, a(&[p, argv]));
            99
        }
        Plan::Fault => {
            // SAFETY: deliberately not: the kernel must kill us for it.
            unsafe { core::ptr::write_volatile(0x10 as *mut u64, 1) };
            98
        }
        Plan::Join(id) => {
            f.call(nr::join_container as u64, a(&[id as u64]));
            f.call(nr::getcid as u64, a(&[]));
            f.call(nr::getpid as u64, a(&[]));
            let s = f.scratch;
            f.call(nr::ps as u64, a(&[s, 64]));
            5
        }
        Plan::Mini(n) => {
            for _ in 0..n {
                f.step();
            }
            if f.violations > 0 {
                VIOLATION_STATUS
            } else {
                0
            }
        }
    };
    ulib::process::exit(status)
}
