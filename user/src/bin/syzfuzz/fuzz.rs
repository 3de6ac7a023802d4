//! The fuzz child: its state, the one door every fuzzed system call goes
//! through ([`Fuzzer::call`]: report the call, make it, check that a
//! failure is a real `-errno`), the contract checks, and the main loop.
//!
//! Memory layout, the heart of "wild pointers without wrecking ourselves":
//! after allocating its state the child moves the break up by
//! [`SCRATCH`] bytes and never allocates again (every record is formatted
//! into a stack buffer, see `line.rs`). The scratch area `[scratch, edge)`
//! is then the last mapped memory below the unmapped gap up to the stack,
//! so any pointer into it is safe with any length: a range that fits is
//! scratch the kernel may scribble on, one that does not runs off `edge`
//! and must be refused with `EFAULT`. The only other writable buffer the
//! kernel is handed is a small array on the stack, always with a length
//! that fits. The break is checked regularly: if anything moved it (an
//! accidental allocation), the run stops with a fuzzer error instead of
//! corrupting itself.

use core::fmt::Write;

use ulib::abi::errno::Errno;
use ulib::abi::limits::NOFILE;
use ulib::abi::syscall::TABLE;
use ulib::sys;

use crate::line::{Line, Reg};
use crate::model::{Kind, Model};
use crate::rng::Rng;

/// Bytes of scratch memory at the top of the break.
pub const SCRATCH: u64 = 64 * 1024;
/// Bytes of the stack buffer.
pub const STACK_BUF: usize = 512;
/// Most grandchildren alive at once.
pub const MAX_GRANDCHILDREN: usize = 4;
/// Most containers a host-mode child keeps alive at once.
pub const MAX_OWN_CONTAINERS: usize = 3;
const PAGE: u64 = 4096;

/// What the parent tells the child.
#[derive(Clone, Copy)]
pub struct Config {
    pub seed: u64,
    /// Most recorded calls (u64::MAX: no limit).
    pub max_calls: u64,
    /// Uptime tick at which to stop (None: no time limit).
    pub deadline: Option<u64>,
    pub verbose: bool,
    /// Fuzzing on the host (`-H`) rather than inside a container.
    pub host: bool,
    /// The container the child runs in (0: the host).
    pub cid: i32,
    /// The report pipe's write end.
    pub report: i32,
}

/// What the kernel must answer.
#[derive(Clone, Copy, Debug)]
pub enum Want {
    /// Anything that is a value or a real errno.
    Any,
    /// A value (>= 0).
    Ok,
    /// Exactly this value.
    Eq(i64),
    /// A failure (any errno).
    Fail,
    /// Exactly this errno.
    Err(Errno),
    /// One of these errnos.
    OneOf(&'static [Errno]),
    /// This errno or any value.
    ErrOrOk(Errno),
}

impl Want {
    fn holds(self, ret: i64) -> bool {
        match self {
            Want::Any => true,
            Want::Ok => ret >= 0,
            Want::Eq(v) => ret == v,
            Want::Fail => ret < 0,
            Want::Err(e) => ret == e.as_return(),
            Want::OneOf(es) => es.iter().any(|e| ret == e.as_return()),
            Want::ErrOrOk(e) => ret >= 0 || ret == e.as_return(),
        }
    }
}

impl core::fmt::Display for Want {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match *self {
            Want::Any => write!(f, "anything"),
            Want::Ok => write!(f, "success"),
            Want::Eq(v) => write!(f, "{v}"),
            Want::Fail => write!(f, "a failure"),
            Want::Err(e) => write!(f, "-{e:?}"),
            Want::OneOf(es) => {
                for (i, e) in es.iter().enumerate() {
                    write!(f, "{}-{e:?}", if i > 0 { "/" } else { "" })?;
                }
                Ok(())
            }
            Want::ErrOrOk(e) => write!(f, "success or -{e:?}"),
        }
    }
}

/// A raw return value as `-EFAULT` or the number.
pub struct Ret(pub i64);

impl core::fmt::Display for Ret {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        match Errno::from_return(self.0) {
            Some(e) if self.0 < 0 => write!(f, "-{e:?}"),
            _ => write!(f, "{}", self.0),
        }
    }
}

/// A grandchild the child forked: its pid and the status it should exit with.
#[derive(Clone, Copy, Debug)]
pub struct Grandchild {
    pub pid: i32,
    /// The status its plan ends with, if it is certain.
    pub status: Option<i32>,
    /// May be killed (it sleeps).
    pub sleeper: bool,
    /// Joins one of our containers (destroy may take it away).
    pub joined: bool,
}

/// The fuzz child's whole state.
pub struct Fuzzer {
    pub cfg: Config,
    pub rng: Rng,
    pub m: Model,
    /// Recorded calls made so far.
    pub calls: u64,
    pub violations: u64,
    /// Whether records go to the report pipe (not in grandchildren).
    pub reporting: bool,
    /// Inside a grandchild: no forks, no container management.
    pub in_grandchild: bool,
    /// `[scratch, edge)`: the scratch area at the top of the break.
    pub scratch: u64,
    pub edge: u64,
    /// The stack buffer's address.
    pub stack_buf: u64,
    /// Text of the call in flight, for violation messages.
    pub last: Line,
    pub grandchildren: [Option<Grandchild>; MAX_GRANDCHILDREN],
    /// Containers this (host-mode) child made and has not destroyed.
    pub own: [i32; MAX_OWN_CONTAINERS],
    pub own_n: usize,
    /// Containers it destroyed (for `ESRCH` probes), most recent last.
    pub destroyed: [i32; 8],
    pub destroyed_n: usize,
    /// The child recording a trace (host mode).
    pub tracing: bool,
    /// The caller's pid, and its parent's (a grandchild never kills it).
    pub my_pid: i32,
    pub parent_pid: i32,
    pub last_uptime: i64,
    /// Bytes written to files under /fz (bounded per run).
    pub fz_bytes: u64,
    /// Known bugs already reported (by name pointer).
    pub known_sent: [*const u8; 4],
    /// Path buffer the path generators build into.
    pub path: [u8; 192],
    /// A second path buffer (link's other name).
    pub path2: [u8; 192],
}

impl Fuzzer {
    /// A fresh state; `stack_buf` is the address of the caller's stack buffer.
    pub fn new(cfg: Config, stack_buf: u64) -> Fuzzer {
        Fuzzer {
            cfg,
            rng: Rng::new(cfg.seed),
            m: Model::new(cfg.report),
            calls: 0,
            violations: 0,
            reporting: true,
            in_grandchild: false,
            scratch: 0,
            edge: 0,
            stack_buf,
            last: Line::new(),
            grandchildren: [None; MAX_GRANDCHILDREN],
            own: [0; MAX_OWN_CONTAINERS],
            own_n: 0,
            destroyed: [0; 8],
            destroyed_n: 0,
            tracing: false,
            my_pid: 0,
            parent_pid: 0,
            last_uptime: 0,
            fz_bytes: 0,
            known_sent: [core::ptr::null(); 4],
            path: [0; 192],
            path2: [0; 192],
        }
    }

    /// Sends one record line to the parent (nothing in a grandchild).
    pub fn send(&mut self, line: &mut Line) {
        if self.reporting {
            let _ = ulib::fd::write_all(self.cfg.report, line.finish());
        }
    }

    /// Makes recorded call `nr`: reports it first (so a hang names it),
    /// then checks that a negative result is an errno the ABI knows.
    pub fn call(&mut self, nr: u64, args: [u64; 6]) -> i64 {
        let i = self.calls;
        self.calls += 1;
        self.last = Line::new();
        describe(&mut self.last, nr, &args);
        self.describe_paths(nr, &args);
        if self.reporting {
            let mut l = Line::new();
            let _ = write!(l, "C {i} {}", self.last.text());
            self.send(&mut l);
        }
        // SAFETY: the generators only hand the kernel memory it may write
        // (the scratch area, with any length: past its end nothing is
        // mapped; the stack buffer with a length that fits) or addresses it
        // must refuse; calls that would end or replace this process are
        // made only where that is intended (see `calls.rs`).
        let ret = unsafe { sys::syscall6(nr, args) };
        if self.cfg.verbose && self.reporting {
            let mut l = Line::new();
            let _ = write!(l, "R {i} {}", Ret(ret));
            self.send(&mut l);
        }
        if ret < 0 && Errno::from_return(ret).is_none() {
            self.violation(format_args!("returned {ret}, which is no errno"));
        }
        ret
    }

    /// Appends the path strings of a path call to the call's text, when
    /// they lie in memory the fuzzer owns (its path buffers, scratch).
    fn describe_paths(&mut self, nr: u64, args: &[u64; 6]) {
        use ulib::sys::nr as n;
        let paths: &[usize] = match nr as usize {
            n::open | n::chdir | n::mkdir | n::mknod | n::unlink | n::exec => &[0],
            n::link => &[0, 1],
            _ => return,
        };
        for &i in paths {
            let addr = args[i];
            let bufs = [
                (self.path.as_ptr() as u64, self.path.len() as u64),
                (self.path2.as_ptr() as u64, self.path2.len() as u64),
                (self.scratch, self.edge - self.scratch),
            ];
            let Some(&(base, len)) = bufs.iter().find(|(b, l)| addr >= *b && addr < b + l) else {
                continue;
            };
            let max = (base + len - addr).min(48) as usize;
            // SAFETY: [addr, addr + max) lies inside one of the fuzzer's own buffers.
            let bytes = unsafe { core::slice::from_raw_parts(addr as *const u8, max) };
            let s = &bytes[..bytes.iter().position(|&b| b == 0).unwrap_or(max)];
            let _ = write!(self.last, " {}", crate::line::Escaped(s));
        }
    }

    /// Reports a broken contract of the call in flight (grandchildren
    /// report these too, through their copy of the report pipe).
    pub fn violation(&mut self, why: core::fmt::Arguments) {
        self.violations += 1;
        let mut l = Line::new();
        let _ = write!(l, "V {} ", self.calls.saturating_sub(1));
        if self.in_grandchild {
            let _ = write!(l, "(grandchild {}) ", self.my_pid);
        }
        let _ = write!(l, "{why} in {}", self.last.text());
        let _ = ulib::fd::write_all(self.cfg.report, l.finish());
    }

    /// A kernel bug already known and written down: reported once per run
    /// as a `B` record, not a violation. (None is known today: the last,
    /// open directories of a container found again by path, is fixed.)
    #[allow(dead_code)]
    pub fn known_bug(&mut self, name: &str) {
        if !self.known_sent.contains(&name.as_ptr()) {
            if let Some(slot) = self.known_sent.iter_mut().find(|p| p.is_null()) {
                *slot = name.as_ptr();
            }
            let mut l = Line::new();
            let _ = write!(l, "B {name} in {}", self.last.text());
            let _ = ulib::fd::write_all(self.cfg.report, l.finish());
        }
    }

    /// Checks `ret` against `want`; a mismatch is a violation.
    pub fn expect(&mut self, ret: i64, want: Want) -> i64 {
        if !want.holds(ret) {
            self.violation(format_args!("got {}, want {want}", Ret(ret)));
        }
        ret
    }

    /// A recorded call whose answer must be `want`.
    pub fn call_expect(&mut self, nr: u64, args: [u64; 6], want: Want) -> i64 {
        let ret = self.call(nr, args);
        self.expect(ret, want)
    }

    /// Whether the run's call or time budget is spent.
    pub fn done(&mut self) -> bool {
        if self.calls >= self.cfg.max_calls {
            return true;
        }
        match self.cfg.deadline {
            // SAFETY: no memory is involved.
            Some(d) => (unsafe { sys::uptime() }) as u64 >= d,
            None => false,
        }
    }

    /// Live grandchildren.
    pub fn live(&self) -> usize {
        self.grandchildren.iter().flatten().count()
    }

    /// Checks that the break is still `edge` (nothing allocated behind our back).
    pub fn break_intact(&mut self) -> bool {
        // SAFETY: sbrk(0) moves nothing.
        let brk = unsafe { sys::sbrk(0) } as u64;
        if brk != self.edge {
            let mut l = Line::new();
            let _ = write!(
                l,
                "X fuzzer error: the break moved from {:#x} to {brk:#x}",
                self.edge
            );
            self.send(&mut l);
            return false;
        }
        true
    }

    /// Compares the model's descriptor table with the kernel's (fstat of
    /// every fd): a mismatch is a leaked or lost descriptor.
    pub fn check_fd_table(&mut self) {
        for fd in 0..NOFILE as i32 {
            let open = self.m.is_open(fd);
            let st = self.scratch;
            let want = if open {
                Want::Ok
            } else {
                Want::Err(Errno::EBADF)
            };
            let ret = self.call(ulib::sys::nr::fstat as u64, [fd as u64, st, 0, 0, 0, 0]);
            let closed = ret == Errno::EBADF.as_return();
            if ret < 0 && !closed {
                self.violation(format_args!("fstat of fd {fd} failed: {}", Ret(ret)));
            } else if want.holds(ret) {
                continue;
            } else {
                self.violation(format_args!(
                    "descriptor table: fd {fd} is {} but the model says {}",
                    if closed { "closed" } else { "open" },
                    if open { "open" } else { "closed" }
                ));
            }
            // Believe the kernel from now on.
            if closed {
                self.m.fds[fd as usize] = crate::model::Entry::FREE;
            } else if !open {
                self.m.fds[fd as usize] = crate::model::Entry {
                    kind: Kind::Device,
                    read: false,
                    write: false,
                    precious: true,
                };
            }
        }
    }
}

/// Writes `name(arg, ...)` for call `nr` (unknown numbers: `sys#nr`).
pub fn describe(l: &mut Line, nr: u64, args: &[u64; 6]) {
    match TABLE.iter().find(|(n, _, _)| *n as u64 == nr) {
        Some(&(_, name, argc)) => {
            let _ = write!(l, "{name}(");
            for (i, a) in args[..argc].iter().enumerate() {
                let _ = write!(l, "{}{}", if i > 0 { ", " } else { "" }, Reg(*a));
            }
        }
        None => {
            let _ = write!(l, "sys#{}(", Reg(nr));
            for (i, a) in args.iter().enumerate() {
                let _ = write!(l, "{}{}", if i > 0 { ", " } else { "" }, Reg(*a));
            }
        }
    }
    let _ = l.write_str(")");
}

/// Rounds `a` up to a page.
pub fn page_up(a: u64) -> u64 {
    a.div_ceil(PAGE) * PAGE
}
