//! The fuzz child's life: replace the console descriptors with pipes that
//! cannot block (fd 0 reads end-of-file, fds 1 and 2 have no reader),
//! make `/fz`, put the scratch area at the top of the break, run steps
//! until the call or time budget is spent, then tear down: kill and reap
//! every grandchild, destroy its containers, stop a trace it started,
//! close every descriptor it opened and check the kernel agrees that only
//! the report pipe is left. The last record is `E <calls> <violations>`.

use alloc::boxed::Box;
use core::fmt::Write;

use ulib::abi::errno::Errno;
use ulib::sys::{self, nr};

use crate::fuzz::{Config, Fuzzer, Want, SCRATCH, STACK_BUF};
use crate::line::Line;
use crate::model::{Entry, Kind};

fn a(args: &[u64]) -> [u64; 6] {
    let mut r = [0u64; 6];
    r[..args.len()].copy_from_slice(args);
    r
}

/// Runs the fuzz child; never returns.
pub fn main(cfg: Config) -> ! {
    let mut stack = [0u8; STACK_BUF];
    let stack_addr = core::hint::black_box(stack.as_mut_ptr()) as u64;
    let mut f = Box::new(Fuzzer::new(cfg, stack_addr));
    if let Err(why) = setup(&mut f) {
        let mut l = Line::new();
        let _ = write!(l, "X fuzzer setup: {why}");
        f.send(&mut l);
        ulib::process::exit(2);
    }
    f.check_fd_table();
    let mut steps = 0u64;
    while !f.done() {
        f.step();
        steps += 1;
        if steps.is_multiple_of(64) && !f.break_intact() {
            ulib::process::exit(3);
        }
        if steps.is_multiple_of(1024) {
            f.check_fd_table();
        }
    }
    teardown(&mut f);
    let mut l = Line::new();
    let _ = write!(l, "E {} {}", f.calls, f.violations);
    f.send(&mut l);
    core::hint::black_box(&mut stack);
    ulib::process::exit(0)
}

fn setup(f: &mut Fuzzer) -> Result<(), &'static str> {
    use ulib::fd;
    for n in 0..3 {
        let _ = fd::close(n);
    }
    // fd 0: a pipe whose writer is closed (reads are end of file at once).
    let (r0, w0) = fd::pipe().map_err(|_| "pipe")?;
    // fds 1 and 2: a pipe whose reader is closed (writes are EPIPE at once).
    let (r1, w1) = fd::pipe().map_err(|_| "pipe")?;
    let _ = fd::close(w0);
    let _ = fd::close(r1);
    let d1 = fd::dup(w1).map_err(|_| "dup")?;
    let d2 = fd::dup(w1).map_err(|_| "dup")?;
    let _ = fd::close(w1);
    if (r0, d1, d2) != (0, 1, 2) {
        return Err("standard descriptors not 0, 1 and 2");
    }
    let p0 = f.m.new_pipe().ok_or("pipes")?;
    f.m.install(
        0,
        Entry {
            kind: Kind::PipeR(p0),
            read: true,
            write: false,
            precious: false,
        },
    );
    let p1 = f.m.new_pipe().ok_or("pipes")?;
    for fd in [1, 2] {
        f.m.install(
            fd,
            Entry {
                kind: Kind::PipeW(p1),
                read: false,
                write: true,
                precious: false,
            },
        );
    }
    f.my_pid = ulib::process::getpid();
    // SAFETY: no memory is involved.
    f.last_uptime = unsafe { sys::uptime() };
    match fd::mkdir("/fz") {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(_) => return Err("mkdir /fz"),
    }
    let _ = fd::mkdir("/fz/d0");
    // The scratch area: page-aligned, the last thing below the break.
    let brk = ulib::process::sbrk(0).map_err(|_| "sbrk")? as u64;
    let pad = brk.next_multiple_of(4096) - brk;
    ulib::process::sbrk((pad + SCRATCH) as isize).map_err(|_| "sbrk scratch")?;
    f.scratch = brk + pad;
    f.edge = f.scratch + SCRATCH;
    Ok(())
}

fn teardown(f: &mut Fuzzer) {
    // Every grandchild: killed (they are short-lived anyway) and reaped.
    for g in f.grandchildren.iter_mut().flatten() {
        g.status = None;
    }
    let pids: [i32; crate::fuzz::MAX_GRANDCHILDREN] =
        core::array::from_fn(|i| f.grandchildren[i].map_or(0, |g| g.pid));
    for pid in pids.into_iter().filter(|&p| p > 0) {
        let r = f.call(nr::kill as u64, a(&[pid as u64]));
        if r != 0 {
            f.expect(r, Want::Err(Errno::ESRCH));
        }
    }
    for i in 0..f.own_n {
        let id = f.own[i];
        f.call_expect(nr::resume_container as u64, a(&[id as u64]), Want::Eq(0));
    }
    for _ in 0..64 {
        let st = f.scratch;
        let r = f.call(nr::wait as u64, a(&[st]));
        if r == Errno::ECHILD.as_return() {
            break;
        }
        f.expect(r, Want::Ok);
    }
    f.grandchildren = [None; crate::fuzz::MAX_GRANDCHILDREN];
    while f.own_n > 0 {
        let id = f.own[0];
        f.call_expect(nr::destroy_container as u64, a(&[id as u64]), Want::Eq(0));
        f.forget_container(id);
    }
    if f.tracing {
        f.call_expect(nr::trace_stop as u64, a(&[]), Want::Eq(0));
        f.tracing = false;
        let mut l = Line::new();
        let _ = l.write_str("T 0");
        f.send(&mut l);
    }
    for fd in 0..f.m.fds.len() as i32 {
        if fd != f.m.report && f.m.is_open(fd) {
            f.call_expect(nr::close as u64, a(&[fd as u64]), Want::Eq(0));
            f.m.remove(fd);
        }
    }
    f.check_fd_table();
}
