//! One fuzz step per call of the ABI table: each picks the call's
//! arguments (random and boundary values, see `gen.rs` and `paths.rs`),
//! makes it through [`Fuzzer::call`] and checks what the contract makes
//! certain. Calls that could wreck the fuzzer are guarded here: reads and
//! writes that would block forever are turned into ones that cannot,
//! `exit` and successful `exec`s happen in grandchildren, `kill` targets
//! only the child's own grandchildren (or pids that cannot be anyone
//! else's), `sbrk` grows and shrinks back within one step, `sleep` is
//! short, `tcsetpgrp` never takes the console from the shell, and the
//! host-only calls (container management, logs, tracing) touch only
//! containers this child made.

use core::fmt::Write;

use ulib::abi::container::{ContainerSpec, MAX_CONTAINERS};
use ulib::abi::errno::Errno::{self, *};
use ulib::abi::fcntl::{O_ALL, O_APPEND, O_CREATE, O_DIRECTORY, O_RDWR, O_TRUNC, O_WRONLY};
use ulib::abi::limits::MAXARG;
use ulib::abi::stat::{T_DEVICE, T_DIR, T_FILE};
use ulib::sys::nr;

use crate::fuzz::{page_up, Fuzzer, Grandchild, Want, MAX_GRANDCHILDREN, MAX_OWN_CONTAINERS};
use crate::gen::{Ptr, Region, Verdict, JUNK};
use crate::grandchild::Plan;
use crate::line::Line;
use crate::model::{Entry, Kind, PIPE_SIZE};
use crate::paths::{Path, PathVerdict, Purpose};

type Step = fn(&mut Fuzzer);

/// Every step with its weight.
const STEPS: &[(Step, u32)] = &[
    (Fuzzer::read, 8),
    (Fuzzer::write, 8),
    (Fuzzer::open, 8),
    (Fuzzer::close, 5),
    (Fuzzer::dup, 4),
    (Fuzzer::pipe, 3),
    (Fuzzer::fstat, 4),
    (Fuzzer::chdir, 2),
    (Fuzzer::mkdir, 3),
    (Fuzzer::mknod, 2),
    (Fuzzer::unlink, 3),
    (Fuzzer::link, 3),
    (Fuzzer::fork, 3),
    (Fuzzer::wait, 2),
    (Fuzzer::kill, 2),
    (Fuzzer::exec, 2),
    (Fuzzer::getpid, 1),
    (Fuzzer::sbrk, 3),
    (Fuzzer::sleep, 1),
    (Fuzzer::uptime, 1),
    (Fuzzer::yield_cpu, 1),
    (Fuzzer::ps, 2),
    (Fuzzer::setpgid, 1),
    (Fuzzer::tcsetpgrp, 1),
    (Fuzzer::create_container, 2),
    (Fuzzer::destroy_container, 2),
    (Fuzzer::join_container, 1),
    (Fuzzer::leave_container, 1),
    (Fuzzer::containers, 1),
    (Fuzzer::update_container, 1),
    (Fuzzer::pause_resume, 2),
    (Fuzzer::logs, 1),
    (Fuzzer::sethostname, 1),
    (Fuzzer::gethostname, 1),
    (Fuzzer::container_diff, 1),
    (Fuzzer::getcid, 1),
    (Fuzzer::trace, 2),
    (Fuzzer::kstats, 1),
    (Fuzzer::unknown, 1),
];

fn a(args: &[u64]) -> [u64; 6] {
    let mut r = [0u64; 6];
    r[..args.len()].copy_from_slice(args);
    r
}

fn path_want(p: Path) -> Option<Want> {
    match p.verdict {
        PathVerdict::Fault => Some(Want::Err(EFAULT)),
        PathVerdict::TooLong => Some(Want::Err(ENAMETOOLONG)),
        PathVerdict::Fine => None,
    }
}

impl Fuzzer {
    /// One random step.
    pub fn step(&mut self) {
        let total: u32 = STEPS.iter().map(|s| s.1).sum();
        let mut r = self.rng.below(u64::from(total)) as u32;
        for &(f, w) in STEPS {
            if r < w {
                return f(self);
            }
            r -= w;
        }
    }

    fn on_host(&self) -> bool {
        self.cfg.host && !self.in_grandchild
    }

    /// Inside the child's own container (not host mode).
    fn contained(&self) -> bool {
        !self.cfg.host
    }

    fn entry(&self, fd: i32) -> Entry {
        self.m.get(fd).copied().unwrap_or(Entry::FREE)
    }

    fn read(&mut self) {
        let (raw, fd) = self.fd();
        let e = self.entry(fd);
        let mut p = self.ptr(true);
        let mut len = self.len_for(p, true);
        let open = e.kind != Kind::Free;
        if open && e.read && len > 0 && self.verdict(p, len, true) != Verdict::Fault {
            let blocks = match e.kind {
                Kind::PipeR(_) => {
                    let ps = self.m.pipe_of(&e).unwrap_or_default();
                    ps.buffered == 0 && (ps.writers > 0 || self.live() > 0)
                }
                Kind::Device => true,
                _ => false,
            };
            if blocks {
                if self.rng.chance(1, 2) {
                    len = 0;
                } else {
                    p = Ptr {
                        addr: self.wild(),
                        region: Region::Bad,
                        room: 0,
                    };
                }
            }
        }
        let want = if !open || !e.read {
            Want::Err(EBADF)
        } else if len == 0 {
            Want::Eq(0)
        } else {
            match self.verdict(p, len, true) {
                Verdict::Fault => Want::Err(EFAULT),
                Verdict::Unknown => Want::Any,
                Verdict::Valid => match self.m.pipe_of(&e) {
                    Some(ps) if self.live() == 0 => {
                        Want::Eq(len.min(ps.buffered as u64).min(PIPE_SIZE as u64) as i64)
                    }
                    _ => Want::Ok,
                },
            }
        };
        let ret = self.call(nr::read as u64, a(&[raw, p.addr, len]));
        self.expect(ret, want);
        if ret > 0 {
            if let Some(ps) = self.m.pipe_mut(&e) {
                ps.buffered = ps.buffered.saturating_sub(ret as usize);
            }
            if ret as u64 > len {
                self.violation(format_args!(
                    "read returned {ret}, more than the {len} asked"
                ));
            }
        }
    }

    fn write(&mut self) {
        let (raw, fd) = self.fd();
        let e = self.entry(fd);
        let mut p = self.ptr(false);
        let mut len = self.len_for(p, false);
        let open = e.kind != Kind::Free;
        if open && e.write && len > 0 && self.verdict(p, len, false) != Verdict::Fault {
            match e.kind {
                Kind::PipeW(_) => {
                    let ps = self.m.pipe_of(&e).unwrap_or_default();
                    if ps.readers > 0 || self.live() > 0 {
                        len = len.min((PIPE_SIZE - ps.buffered) as u64);
                    }
                }
                Kind::File if !e.precious && self.fz_bytes < 1 << 20 => len = len.min(4096),
                // The console, the report pipe, files of the image: bad pointers only.
                _ => {
                    p = Ptr {
                        addr: self.wild(),
                        region: Region::Bad,
                        room: 0,
                    };
                    if len == 0 {
                        len = 1;
                    }
                }
            }
        }
        let live = self.live();
        let want = if !open || !e.write {
            Want::Err(EBADF)
        } else if len == 0 {
            Want::Eq(0)
        } else {
            match self.verdict(p, len, false) {
                Verdict::Fault => Want::Err(EFAULT),
                Verdict::Unknown => Want::Any,
                Verdict::Valid => match self.m.pipe_of(&e) {
                    Some(ps) if live == 0 && ps.readers == 0 => Want::Err(EPIPE),
                    Some(_) if live == 0 => Want::Eq(len as i64),
                    _ => Want::Any,
                },
            }
        };
        let ret = self.call_expect(nr::write as u64, a(&[raw, p.addr, len]), want);
        if ret > 0 {
            if ret as u64 > len {
                self.violation(format_args!(
                    "write returned {ret}, more than the {len} given"
                ));
            }
            if let Some(ps) = self.m.pipe_mut(&e) {
                ps.buffered = (ps.buffered + ret as usize).min(PIPE_SIZE);
            } else {
                self.fz_bytes += ret as u64;
            }
        }
    }

    fn open(&mut self) {
        let mut flags: u64 = self.rng.pick(&[0, 0, O_WRONLY, O_RDWR, O_RDWR | O_WRONLY]) as u64;
        for f in [O_CREATE, O_TRUNC, O_APPEND, O_DIRECTORY] {
            if self.rng.chance(1, 5) {
                flags |= f as u64;
            }
        }
        let unknown = self.rng.chance(1, 12);
        if unknown {
            let bit = loop {
                let b = 1u32 << self.rng.below(32);
                if b & O_ALL == 0 {
                    break b;
                }
            };
            flags |= bit as u64;
        }
        if self.rng.chance(1, 10) {
            flags |= JUNK; // open reads an int: the upper half is ignored
        }
        let f32 = flags as u32;
        // A writable open may be written next: only under /fz (a write to
        // the container's copy of /nop broke every later exec of it in a
        // 10-minute run, and on the host it would change the image).
        let changes = f32 & (O_CREATE | O_TRUNC | O_WRONLY | O_RDWR) != 0;
        let purpose = if changes || self.rng.chance(1, 2) {
            Purpose::Write
        } else {
            Purpose::Probe
        };
        let p = self.path(purpose, 0);
        let want = if unknown {
            Want::Err(EINVAL)
        } else if let Some(w) = path_want(p) {
            w
        } else {
            match self.m.lowest_free() {
                Some(_) => Want::Any,
                None => Want::Fail,
            }
        };
        let ret = self.call_expect(nr::open as u64, a(&[p.addr, flags]), want);
        if ret < 0 {
            return;
        }
        let fd = ret as i32;
        let lowest = self.m.lowest_free();
        if Some(fd) != lowest {
            self.violation(format_args!(
                "open returned fd {fd}, the lowest free is {lowest:?}"
            ));
            if !(0..64).contains(&fd) {
                return;
            }
        }
        // What was opened: fstat into scratch.
        let st = self.scratch;
        let r = self.call_expect(nr::fstat as u64, a(&[fd as u64, st]), Want::Eq(0));
        // SAFETY: fstat wrote a 24-byte Stat at the start of scratch; its type is the i16 at 8.
        let kind = unsafe { ((st + 8) as *const i16).read_unaligned() };
        let kind = match kind {
            _ if r < 0 => Kind::Device,
            T_DIR => Kind::Dir,
            T_FILE => Kind::File,
            T_DEVICE => Kind::Device,
            _ => Kind::Device,
        };
        let read = f32 & O_WRONLY == 0;
        let write = f32 & (O_WRONLY | O_RDWR) != 0;
        if kind == Kind::Dir && write {
            self.violation(format_args!("a directory was opened for writing"));
        }
        self.m.install(
            fd,
            Entry {
                kind,
                read,
                write,
                precious: purpose == Purpose::Probe || kind != Kind::File,
            },
        );
    }

    fn close(&mut self) {
        let (mut raw, mut fd) = self.fd();
        if fd == self.m.report {
            raw = u64::MAX;
            fd = -1;
        }
        let open = self.m.is_open(fd);
        let want = if open { Want::Eq(0) } else { Want::Err(EBADF) };
        if self.call_expect(nr::close as u64, a(&[raw]), want) == 0 && open {
            self.m.remove(fd);
        }
    }

    fn dup(&mut self) {
        let (raw, fd) = self.fd();
        let e = self.entry(fd);
        let want = if e.kind == Kind::Free {
            Want::Err(EBADF)
        } else {
            match self.m.lowest_free() {
                Some(f) => Want::Eq(i64::from(f)),
                None => Want::Err(EMFILE),
            }
        };
        let ret = self.call_expect(nr::dup as u64, a(&[raw]), want);
        if (0..64).contains(&ret) && e.kind != Kind::Free {
            self.m.install(ret as i32, e);
        }
    }

    fn pipe(&mut self) {
        let p = self.ptr(true);
        let v = self.verdict(p, 8, true);
        let (lo, hi) = self.two_lowest_free();
        let want = match v {
            Verdict::Fault => Want::Err(EFAULT),
            _ if hi.is_none() => Want::Err(EMFILE),
            Verdict::Valid => Want::Any,
            Verdict::Unknown => Want::Any,
        };
        let ret = self.call_expect(nr::pipe as u64, a(&[p.addr]), want);
        if ret == 0 && v == Verdict::Valid {
            // SAFETY: the kernel wrote two ints at p.addr, which is scratch or the stack buffer.
            let (r, w) = unsafe {
                (
                    (p.addr as *const i32).read_unaligned(),
                    ((p.addr + 4) as *const i32).read_unaligned(),
                )
            };
            if (Some(r), Some(w)) != (lo, hi) {
                self.violation(format_args!(
                    "pipe gave fds {r} and {w}, the lowest free are {lo:?} and {hi:?}"
                ));
            }
            if let Some(slot) = self.m.new_pipe() {
                for (fd, kind, rd) in [(r, Kind::PipeR(slot), true), (w, Kind::PipeW(slot), false)]
                {
                    if (0..64).contains(&fd) {
                        self.m.install(
                            fd,
                            Entry {
                                kind,
                                read: rd,
                                write: !rd,
                                precious: false,
                            },
                        );
                    }
                }
            }
        } else if ret < 0
            && !matches!(
                Errno::from_return(ret),
                Some(EFAULT | EMFILE | ENOMEM | ENFILE)
            )
        {
            self.violation(format_args!("unexpected pipe error"));
        }
    }

    fn two_lowest_free(&self) -> (Option<i32>, Option<i32>) {
        let mut it = self
            .m
            .fds
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == Kind::Free)
            .map(|(i, _)| i as i32);
        (it.next(), it.next())
    }

    fn fstat(&mut self) {
        let (raw, fd) = self.fd();
        let e = self.entry(fd);
        let p = self.ptr(true);
        let v = self.verdict(p, 24, true);
        let want = match (e.kind, v) {
            (Kind::Free, _) => Want::Err(EBADF),
            (_, Verdict::Fault) => Want::Err(EFAULT),
            (_, Verdict::Valid) => Want::Eq(0),
            _ => Want::Any,
        };
        let ret = self.call(nr::fstat as u64, a(&[raw, p.addr]));
        self.expect(ret, want);
        if ret == 0 && v == Verdict::Valid {
            // SAFETY: the kernel wrote a Stat at p.addr (scratch or the stack buffer).
            let kind = unsafe { ((p.addr + 8) as *const i16).read_unaligned() };
            let want_kind = match e.kind {
                Kind::File => Some(T_FILE),
                Kind::Dir => Some(T_DIR),
                _ => None,
            };
            if want_kind.is_some_and(|k| k != kind) {
                self.violation(format_args!("fstat type {kind}, want {want_kind:?}"));
            }
        }
    }

    fn path_call(&mut self, num: usize, purpose: Purpose) {
        let p = self.path(purpose, 0);
        let want = path_want(p).unwrap_or(Want::Any);
        self.call_expect(num as u64, a(&[p.addr]), want);
    }

    fn chdir(&mut self) {
        self.path_call(nr::chdir, Purpose::Probe);
    }

    fn mkdir(&mut self) {
        self.path_call(nr::mkdir, Purpose::Change);
    }

    fn unlink(&mut self) {
        self.path_call(nr::unlink, Purpose::Change);
    }

    fn mknod(&mut self) {
        let p = self.path(Purpose::Change, 0);
        let major: i64 = self.rng.pick(&[
            0,
            1,
            2,
            3,
            7,
            -1,
            32767,
            32768,
            -32769,
            0x7fff,
            i32::MAX as i64,
            1 << 33,
        ]);
        let minor: i64 = self.rng.pick(&[0, 1, 255, -1, 65536, i32::MIN as i64]);
        let (mj, mn) = (major as u64 as u32 as i32, minor as u64 as u32 as i32);
        let out_of_range = i16::try_from(mj).is_err() || i16::try_from(mn).is_err();
        let want = match path_want(p) {
            Some(w) => w,
            None if out_of_range => Want::Err(EINVAL),
            None => Want::Any,
        };
        self.call_expect(
            nr::mknod as u64,
            a(&[p.addr, major as u64, minor as u64]),
            want,
        );
    }

    fn link(&mut self) {
        // A source outside /fz could be a real file of the image: then the
        // new name must be one that cannot be made, or writing through it
        // later would change that file.
        let outside = self.rng.chance(1, 3);
        let old = self.path(
            if outside {
                Purpose::Probe
            } else {
                Purpose::Write
            },
            0,
        );
        let new = if outside {
            let roll = self.rng.below(3);
            let (addr, verdict) = match roll {
                0 => (self.wild(), PathVerdict::Fault),
                1 => {
                    let n = b"/zqzq/zq/x\0";
                    self.path2[..n.len()].copy_from_slice(n);
                    (self.path2.as_ptr() as u64, PathVerdict::Fine)
                }
                _ => {
                    let at = self.edge - 3;
                    // SAFETY: the last bytes of scratch are ours.
                    unsafe { core::ptr::write_bytes(at as *mut u8, b'z', 3) };
                    (at, PathVerdict::Fault)
                }
            };
            Path { addr, verdict }
        } else {
            self.path(Purpose::Change, 1)
        };
        let want = path_want(old)
            .or_else(|| path_want(new))
            .unwrap_or(if outside { Want::Fail } else { Want::Any });
        // Both paths are read before anything is looked up: a bad one is
        // EFAULT whichever it is, unless the other is too long.
        let want = match (old.verdict, new.verdict) {
            (PathVerdict::Fine, PathVerdict::Fine) => want,
            (PathVerdict::Fault, _) => Want::Err(EFAULT),
            (PathVerdict::TooLong, _) => Want::Err(ENAMETOOLONG),
            (_, PathVerdict::Fault) => Want::Err(EFAULT),
            (_, PathVerdict::TooLong) => Want::Err(ENAMETOOLONG),
        };
        self.call_expect(nr::link as u64, a(&[old.addr, new.addr]), want);
    }

    fn fork(&mut self) {
        if self.in_grandchild {
            return self.getpid();
        }
        if self.live() >= MAX_GRANDCHILDREN {
            return self.reap_one();
        }
        let plan = self.plan();
        let ret = self.call(nr::fork as u64, a(&[]));
        if ret == 0 {
            crate::grandchild::run(self, plan);
        }
        if ret > 0 {
            let slot = self.grandchildren.iter().position(Option::is_none);
            if let Some(s) = slot {
                self.grandchildren[s] = Some(Grandchild {
                    pid: ret as i32,
                    status: plan.status(),
                    sleeper: matches!(plan, Plan::Sleep(_)),
                    joined: matches!(plan, Plan::Join(_)),
                });
            }
        } else {
            self.expect(ret, Want::OneOf(&[EAGAIN, ENOMEM]));
        }
    }

    fn plan(&mut self) -> Plan {
        match self.rng.below(24) {
            0..=4 => Plan::Exit(
                self.rng
                    .pick(&[0, 1, 42, 255, 256, -1, -2, i32::MIN, i32::MAX]),
            ),
            5..=7 => Plan::Sleep(self.rng.range(0, 30) as i32),
            8..=10 => Plan::ExecNop,
            11 | 12 => Plan::ExecEcho,
            13 => Plan::ExecMaxArgs,
            14 if self.rng.chance(1, 8) => Plan::Fault,
            15..=17 if self.on_host() && self.own_n > 0 => {
                Plan::Join(self.own[self.rng.below(self.own_n as u64) as usize])
            }
            _ => Plan::Mini(self.rng.range(4, 16) as u32),
        }
    }

    /// Before a wait that may block: thaw our containers (a frozen member
    /// never exits) and sometimes kill the sleepers.
    fn before_blocking_wait(&mut self) {
        if self.on_host() {
            for i in 0..self.own_n {
                let id = self.own[i];
                self.call_expect(nr::resume_container as u64, a(&[id as u64]), Want::Eq(0));
            }
        }
    }

    /// Waits for one grandchild (valid status pointer) and checks its status.
    fn reap_one(&mut self) {
        self.before_blocking_wait();
        let st = self.scratch + 64;
        let ret = self.call(nr::wait as u64, a(&[st]));
        // SAFETY: wait wrote an int into scratch on success.
        let status = unsafe { (st as *const i32).read_unaligned() };
        self.reaped(ret, Some(status));
    }

    fn reaped(&mut self, ret: i64, status: Option<i32>) {
        if ret == ECHILD.as_return() {
            let unexplained = self.grandchildren.iter().flatten().any(|g| !g.joined);
            if unexplained {
                let live = self.live();
                self.violation(format_args!("ECHILD with {live} grandchildren alive"));
            }
            self.grandchildren = [None; MAX_GRANDCHILDREN];
            return;
        }
        if ret <= 0 {
            self.expect(ret, Want::Ok);
            return;
        }
        let pid = ret as i32;
        let Some(slot) = self
            .grandchildren
            .iter()
            .position(|g| g.is_some_and(|g| g.pid == pid))
        else {
            self.violation(format_args!("wait returned pid {pid}, no child of ours"));
            return;
        };
        let g = self.grandchildren[slot].take();
        if let (Some(g), Some(got)) = (g, status) {
            if let Some(want) = g.status {
                if got != want {
                    self.violation(format_args!(
                        "grandchild {pid} exited with status {got}, want {want}"
                    ));
                }
            }
        }
    }

    fn wait(&mut self) {
        let p = if self.rng.chance(1, 4) {
            Ptr {
                addr: 0,
                region: Region::Scratch,
                room: 4,
            }
        } else {
            self.ptr(true)
        };
        let v = if p.addr == 0 {
            // Null: no status wanted, a valid wait.
            Verdict::Valid
        } else {
            self.verdict(p, 4, true)
        };
        if v == Verdict::Fault && p.addr != 0 {
            self.call_expect(nr::wait as u64, a(&[p.addr]), Want::Err(EFAULT));
            return;
        }
        if self.live() > 0 {
            self.before_blocking_wait();
        }
        let ret = self.call(nr::wait as u64, a(&[p.addr]));
        let status = if p.addr != 0 && ret > 0 {
            // SAFETY: wait wrote an int at p.addr (scratch or the stack buffer).
            Some(unsafe { (p.addr as *const i32).read_unaligned() })
        } else {
            None
        };
        self.reaped(ret, status);
    }

    fn kill(&mut self) {
        let sleepers = self
            .grandchildren
            .iter()
            .flatten()
            .filter(|g| g.sleeper)
            .count();
        let roll = self.rng.below(8);
        let (pid, want) = if roll < 3 && sleepers > 0 && !self.in_grandchild {
            let g = self
                .grandchildren
                .iter()
                .flatten()
                .filter(|g| g.sleeper)
                .nth(self.rng.below(sleepers as u64) as usize)
                .copied();
            match g {
                Some(g) => (g.pid, Want::OneOf(&[ESRCH])),
                None => return,
            }
        } else if roll == 3 && self.on_host() {
            (1, Want::Err(EPERM)) // init
        } else if roll == 4 && self.contained() && !self.in_grandchild {
            // Inside our own container every pid is ours: any but our own.
            let pid = self.rng.range(2, 40) as i32;
            if pid == self.my_pid || pid == self.parent_pid {
                return;
            }
            (pid, Want::Any)
        } else {
            (
                self.rng.pick(&[-1, 0, i32::MIN, i32::MAX, 1 << 30, -77]),
                Want::Fail,
            )
        };
        let reg = self.int_reg(pid);
        let ret = self.call(nr::kill as u64, a(&[reg]));
        match want {
            Want::OneOf(_) => {
                if ret != 0 {
                    self.expect(ret, Want::Err(ESRCH));
                }
            }
            w => {
                self.expect(ret, w);
            }
        }
        if ret == 0 {
            for g in self.grandchildren.iter_mut().flatten() {
                if g.pid == pid {
                    g.status = None;
                    g.sleeper = false;
                }
            }
        }
    }

    /// Puts the NUL-terminated `s` at scratch offset `off`; returns its address.
    pub fn put_str(&mut self, off: u64, s: &[u8]) -> u64 {
        let at = self.scratch + off;
        // SAFETY: `off + s.len() + 1` stays inside scratch (callers keep offsets small).
        unsafe {
            core::ptr::copy_nonoverlapping(s.as_ptr(), at as *mut u8, s.len());
            ((at + s.len() as u64) as *mut u8).write(0);
        }
        at
    }

    /// An argv array at scratch offset `off` of `ptrs`, null-terminated
    /// unless `terminate` is false.
    pub fn put_argv(&mut self, off: u64, ptrs: &[u64], terminate: bool) -> u64 {
        let at = self.scratch + off;
        for (i, p) in ptrs.iter().enumerate() {
            // SAFETY: the array stays inside scratch (callers keep it small).
            unsafe { ((at + 8 * i as u64) as *mut u64).write_unaligned(*p) };
        }
        if terminate {
            // SAFETY: as above.
            unsafe { ((at + 8 * ptrs.len() as u64) as *mut u64).write_unaligned(0) };
        }
        at
    }

    /// exec that must fail, made by the child itself (a success would
    /// replace it: the parent reports the child vanishing).
    fn exec(&mut self) {
        let nop = self.put_str(0, b"/nop");
        let x = self.put_str(16, b"x");
        let good_argv = self.put_argv(32, &[nop, x], true);
        let (path, argv, want): (u64, u64, Want) = match self.rng.below(10) {
            0 => (self.wild(), good_argv, Want::Err(EFAULT)),
            1 => {
                let p = self.path(Purpose::Change, 0);
                // /fz names (maybe files we made, never executables) or bad paths.
                let w = path_want(p).unwrap_or(Want::Fail);
                (p.addr, good_argv, w)
            }
            2 => (self.put_str(300, b"/README"), good_argv, Want::Err(ENOEXEC)),
            3 => (self.put_str(300, b"/notelf"), good_argv, Want::Err(ENOEXEC)),
            4 => (self.put_str(300, b"/"), good_argv, Want::Err(EACCES)),
            5 => (nop, self.wild(), Want::Err(EFAULT)),
            6 => {
                let ptrs = [x; MAXARG + 1];
                (nop, self.put_argv(400, &ptrs, true), Want::Err(E2BIG))
            }
            7 => {
                // (A null would just end the array: a valid argv.)
                let w = self.wild().max(1);
                (nop, self.put_argv(400, &[nop, w], true), Want::Err(EFAULT))
            }
            8 => {
                // An argv running into the unmapped page without its null.
                let k = self.rng.range(1, 8);
                let at = self.edge - 8 * k;
                for i in 0..k {
                    // SAFETY: the array lies in the last bytes of scratch.
                    unsafe { ((at + 8 * i) as *mut u64).write_unaligned(x) };
                }
                (nop, at, Want::Err(EFAULT))
            }
            _ => {
                // An argument string running off the edge.
                let at = self.edge - 5;
                // SAFETY: the last bytes of scratch are ours.
                unsafe { core::ptr::write_bytes(at as *mut u8, b'q', 5) };
                (nop, self.put_argv(400, &[nop, at], true), Want::Err(EFAULT))
            }
        };
        self.call_expect(nr::exec as u64, a(&[path, argv]), want);
    }

    fn getpid(&mut self) {
        let want = if self.my_pid > 0 {
            Want::Eq(i64::from(self.my_pid))
        } else {
            Want::Ok
        };
        self.call_expect(nr::getpid as u64, a(&[]), want);
    }

    fn sbrk(&mut self) {
        if !self.break_intact() {
            return;
        }
        let edge = self.edge;
        match self.rng.below(6) {
            0 => {
                let d: i64 = self.rng.pick(&[1 << 40, i64::MAX, 2 << 30, 1 << 47]);
                self.call_expect(nr::sbrk as u64, a(&[d as u64]), Want::Err(ENOMEM));
            }
            1 => {
                let d: i64 =
                    self.rng
                        .pick(&[-(1 << 40), i64::MIN, -(edge as i64) - 4096, -(1 << 47)]);
                self.call_expect(nr::sbrk as u64, a(&[d as u64]), Want::Err(EINVAL));
            }
            2 => {
                self.call_expect(nr::sbrk as u64, a(&[0]), Want::Eq(edge as i64));
            }
            _ => self.sbrk_grow_and_shrink(),
        }
    }

    /// Grows the break, checks the new memory is zero and mapped (and the
    /// new edge is an edge), and gives it back, in one step.
    fn sbrk_grow_and_shrink(&mut self) {
        let edge = self.edge;
        let k = match self.rng.below(4) {
            0 => self.rng.range(1, 4096),
            1 => 4096 * self.rng.range(1, 16),
            2 => self.rng.range(1, 1 << 21),
            _ => 4096 * self.rng.range(16, 2048),
        };
        let ret = self.call(nr::sbrk as u64, a(&[k]));
        if ret < 0 {
            self.expect(ret, Want::Err(ENOMEM));
            return;
        }
        self.expect(ret, Want::Eq(edge as i64));
        let top = edge + k;
        // Sample pages of the new memory: zero-filled, then scribbled on.
        let mut at = edge;
        let mut nonzero = None;
        while at < top {
            // SAFETY: [edge, top) was just mapped for us by sbrk.
            let b = unsafe { (at as *const u8).read_volatile() };
            if b != 0 && nonzero.is_none() {
                nonzero = Some((at, b));
            }
            // SAFETY: as above.
            unsafe { (at as *mut u8).write_volatile(0xa5) };
            at += 4096 * self.rng.range(1, 8);
        }
        if let Some((addr, b)) = nonzero {
            self.violation(format_args!(
                "fresh sbrk memory at {addr:#x} holds {b:#x}, not 0"
            ));
        }
        // The new edge must be one: a range running past it is EFAULT.
        let new_edge = page_up(top);
        let fd = self.m.report as u64;
        self.call_expect(nr::fstat as u64, a(&[fd, new_edge - 8]), Want::Err(EFAULT));
        self.call_expect(nr::pipe as u64, a(&[new_edge - 4]), Want::Err(EFAULT));
        self.call_expect(nr::fstat as u64, a(&[fd, new_edge - 24]), Want::Eq(0));
        let back = self.call(nr::sbrk as u64, a(&[(k as i64).wrapping_neg() as u64]));
        self.expect(back, Want::Eq(top as i64));
        if !self.break_intact() {
            // Stop fuzzing memory we no longer understand.
            ulib::process::exit(3);
        }
    }

    fn sleep(&mut self) {
        let t: i32 = self.rng.pick(&[0, 1, 2, 3, -1, i32::MIN, -100]);
        let reg = self.int_reg(t);
        let want = if t < 0 {
            Want::Err(EINVAL)
        } else {
            Want::ErrOrOk(EINTR)
        };
        self.call_expect(nr::sleep as u64, a(&[reg]), want);
    }

    fn uptime(&mut self) {
        let last = self.last_uptime;
        let ret = self.call(nr::uptime as u64, a(&[]));
        if ret < last {
            self.violation(format_args!("uptime went back from {last} to {ret}"));
        }
        self.last_uptime = ret;
    }

    fn yield_cpu(&mut self) {
        self.call_expect(nr::yield_cpu as u64, a(&[]), Want::Eq(0));
    }

    fn ps(&mut self) {
        const ROW: u64 = 56;
        let p = self.ptr(true);
        let mut max: u64 = self.rng.pick(&[0, 1, 2, 16, 1024, 1 << 40, u64::MAX, 7]);
        if p.region == Region::Stack {
            max = max.min(p.room / ROW);
        }
        let want = match p.region {
            Region::Bad | Region::Ro if max > 0 => Want::Err(EFAULT),
            _ => Want::Any,
        };
        let ret = self.call_expect(nr::ps as u64, a(&[p.addr, max]), want);
        if ret < 0 {
            return;
        }
        if ret as u64 > max {
            self.violation(format_args!("ps returned {ret} rows, max was {max}"));
            return;
        }
        if self.contained() && matches!(p.region, Region::Scratch | Region::Stack) {
            for i in 0..ret as u64 {
                // SAFETY: row i lies in scratch or the stack buffer (the call succeeded); container is the i32 at 8.
                let cid = unsafe { ((p.addr + i * ROW + 8) as *const i32).read_unaligned() };
                let me = self.cfg.cid;
                if cid != me {
                    self.violation(format_args!(
                        "ps inside container {me} lists a process of container {cid}"
                    ));
                    break;
                }
            }
        }
    }

    fn setpgid(&mut self) {
        let gc = self
            .grandchildren
            .iter()
            .flatten()
            .next()
            .map_or(0, |g| g.pid);
        let pid: i32 = self.rng.pick(&[0, self.my_pid, gc, -1, 99_999, i32::MIN]);
        let pgid: i32 = self.rng.pick(&[0, self.my_pid, gc, -1, 99_999]);
        let want = if [0, self.my_pid, gc].contains(&pid) {
            Want::Any
        } else {
            Want::Fail
        };
        let (r1, r2) = (self.int_reg(pid), self.int_reg(pgid));
        self.call_expect(nr::setpgid as u64, a(&[r1, r2]), want);
    }

    fn tcsetpgrp(&mut self) {
        if self.contained() {
            // Not the console's container: EPERM whatever the group.
            let g: i32 = self.rng.pick(&[0, 1, self.my_pid, 12345, -1, i32::MIN]);
            let want = if g < 0 {
                Want::Err(EINVAL)
            } else {
                Want::Err(EPERM)
            };
            let reg = self.int_reg(g);
            self.call_expect(nr::tcsetpgrp as u64, a(&[reg]), want);
        } else {
            // On the host only refusals: the shell keeps its console.
            let g: i32 = self.rng.pick(&[-1, i32::MIN, -4096]);
            let reg = self.int_reg(g);
            self.call_expect(nr::tcsetpgrp as u64, a(&[reg]), Want::Err(EINVAL));
        }
    }

    /// A container id: one of ours (or that we destroyed), or a bad one.
    fn some_cid(&mut self) -> (i32, Want) {
        match self.rng.below(4) {
            0 | 1 if self.own_n > 0 => (
                self.own[self.rng.below(self.own_n as u64) as usize],
                Want::Eq(0),
            ),
            2 if self.destroyed_n > 0 => {
                let id = self.destroyed[self.rng.below(self.destroyed_n as u64) as usize];
                if self.own[..self.own_n].contains(&id) {
                    (id, Want::Eq(0))
                } else {
                    (id, Want::Err(ESRCH))
                }
            }
            _ => (
                self.rng
                    .pick(&[-1, 0, MAX_CONTAINERS as i32 + 1, 1000, i32::MAX, i32::MIN]),
                Want::Err(EINVAL),
            ),
        }
    }

    /// A ContainerSpec in scratch at a random offset; `ok` says whether
    /// its fields are all acceptable for create.
    fn spec(&mut self, update: bool) -> (u64, bool) {
        let mut s = ContainerSpec::default();
        let mut ok = true;
        match self.rng.below(5) {
            0 => {
                s.id = self.rng.range(1, MAX_CONTAINERS as u64) as i32;
            }
            1 => {
                s.id = self.rng.pick(&[-1, 65, 1000, i32::MIN]);
                ok = false;
            }
            _ => {}
        }
        s.flags = if update {
            self.rng.pick(&[0, 1, 2, 4, 8, 15, 16, u32::MAX])
        } else {
            self.rng.pick(&[0, 0, 1, 2, 3, 4, 1 << 31])
        };
        if !update && s.flags > 3 {
            ok = false;
        }
        s.cpu_weight = self.rng.pick(&[0, 0, 1, 100, 10_000, 10_001, u32::MAX]);
        if s.cpu_weight > 10_000 {
            ok = false;
        }
        s.max_procs = self.rng.pick(&[0, 0, 4, 1024, 1025, u32::MAX]);
        s.max_pages = self.rng.pick(&[0, 0, 64, 4096, u64::MAX]);
        match self.rng.below(6) {
            0 => s.deny[0] = 1 << nr::sbrk,
            1 => {
                s.deny[0] = 1 << nr::exit;
                ok = false;
            }
            2 => {
                s.deny[1] = 1 << 40;
                ok = false;
            }
            _ => {}
        }
        let name: &[u8] = self.rng.pick(&[
            b"" as &[u8],
            b"",
            b"fzc",
            b"9lives",
            b"has space",
            b"\x01ctl",
            b"sixteen-bytes-xx",
            b"fz-\xff",
        ]);
        if matches!(name.first(), Some(b'9' | b'h' | 1)) || name.len() >= 16 || name.contains(&0xff)
        {
            ok = false;
        }
        s.name[..name.len().min(16)].copy_from_slice(&name[..name.len().min(16)]);
        let off = self.rng.below(1024);
        let at = self.scratch + 2048 + off;
        // SAFETY: 56 bytes at scratch + 2048..3128 are ours.
        unsafe { (at as *mut ContainerSpec).write_unaligned(s) };
        (at, ok)
    }

    fn create_container(&mut self) {
        if !self.on_host() {
            if self.in_grandchild {
                return self.getpid();
            }
            let (at, _) = self.spec(false);
            self.call_expect(nr::create_container as u64, a(&[at]), Want::Err(EPERM));
            return;
        }
        let full = self.own_n >= MAX_OWN_CONTAINERS;
        let (addr, want) = match self.rng.below(5) {
            // (A null spec asks for all defaults.)
            0 => (self.wild().max(1), Want::Err(EFAULT)),
            1 if !full => (0, Want::Any),
            _ => {
                let (at, ok) = self.spec(false);
                if full && ok {
                    // At our cap: only specs that must be refused.
                    // SAFETY: the spec we just wrote into scratch.
                    unsafe { ((at + 8) as *mut u32).write_unaligned(10_001) };
                    (at, Want::Err(EINVAL))
                } else if ok {
                    (at, Want::Any)
                } else {
                    (at, Want::Fail)
                }
            }
        };
        let ret = self.call_expect(nr::create_container as u64, a(&[addr]), want);
        if ret > 0 {
            let id = ret as i32;
            if self.own_n < MAX_OWN_CONTAINERS {
                self.own[self.own_n] = id;
                self.own_n += 1;
            }
            let mut l = Line::new();
            let _ = write!(l, "K {id}");
            self.send(&mut l);
        }
    }

    fn destroy_container(&mut self) {
        if !self.on_host() {
            if self.in_grandchild {
                return self.getpid();
            }
            let id: i32 = self.rng.pick(&[self.cfg.cid, 0, 1, -1, 65]);
            self.call_expect(nr::destroy_container as u64, a(&[id as u64]), Want::Fail);
            return;
        }
        let (id, want) = self.some_cid();
        let reg = self.int_reg(id);
        let ret = self.call_expect(nr::destroy_container as u64, a(&[reg]), want);
        if ret == 0 {
            self.forget_container(id);
        }
    }

    /// Records that our container `id` is gone.
    pub fn forget_container(&mut self, id: i32) {
        if let Some(i) = self.own[..self.own_n].iter().position(|&c| c == id) {
            self.own[i] = self.own[self.own_n - 1];
            self.own_n -= 1;
        }
        if self.destroyed_n < self.destroyed.len() {
            self.destroyed[self.destroyed_n] = id;
            self.destroyed_n += 1;
        } else {
            self.destroyed[self.rng.below(8) as usize] = id;
        }
        // Its members were killed and taken away (no status to expect).
        for g in self.grandchildren.iter_mut().flatten() {
            if g.joined {
                g.status = None;
            }
        }
        let mut l = Line::new();
        let _ = write!(l, "D {id}");
        self.send(&mut l);
    }

    fn join_container(&mut self) {
        if self.in_grandchild {
            return self.getpid();
        }
        // The child itself never moves: only ids that must be refused
        // (inside a container, any: EPERM).
        let id: i32 = if self.contained() {
            self.rng.pick(&[self.cfg.cid, 0, 1, -1, 65])
        } else {
            let (id, w) = self.some_cid();
            if matches!(w, Want::Eq(0)) {
                -1
            } else {
                id
            }
        };
        let reg = self.int_reg(id);
        self.call_expect(nr::join_container as u64, a(&[reg]), Want::Fail);
    }

    fn leave_container(&mut self) {
        let want = if self.contained() {
            Want::Err(EPERM)
        } else if self.in_grandchild {
            return self.getpid();
        } else {
            Want::Err(EINVAL)
        };
        self.call_expect(nr::leave_container as u64, a(&[]), want);
    }

    fn containers(&mut self) {
        const ROW: u64 = 392;
        let p = self.ptr(true);
        let mut max: u64 = self.rng.pick(&[0, 1, 2, 64, 65, 1 << 40, u64::MAX]);
        if p.region == Region::Stack {
            max = max.min(p.room / ROW);
        }
        let bad = matches!(p.region, Region::Bad | Region::Ro) && max > 0;
        let want = if bad && self.contained() {
            Want::Err(EFAULT)
        } else if bad {
            Want::ErrOrOk(EFAULT)
        } else {
            Want::Any
        };
        let ret = self.call_expect(nr::containers as u64, a(&[p.addr, max]), want);
        if ret >= 0
            && self.contained()
            && max > 0
            && !bad
            && self.verdict(p, ROW, true) == Verdict::Valid
        {
            if ret != 1 {
                self.violation(format_args!(
                    "a container sees {ret} containers, want itself only"
                ));
            } else {
                // SAFETY: the kernel wrote one row at p.addr; its id is the first i32.
                let id = unsafe { (p.addr as *const i32).read_unaligned() };
                let me = self.cfg.cid;
                if id != me {
                    self.violation(format_args!("container {me} sees container {id}"));
                }
            }
        }
    }

    fn update_container(&mut self) {
        if !self.on_host() {
            if self.in_grandchild {
                return self.getpid();
            }
            let (at, _) = self.spec(true);
            self.call_expect(
                nr::update_container as u64,
                a(&[self.cfg.cid as u64, at]),
                Want::Err(EPERM),
            );
            return;
        }
        let (id, idw) = self.some_cid();
        let (at, _) = self.spec(true);
        let want = if matches!(idw, Want::Eq(0)) {
            Want::Any
        } else {
            Want::Fail
        };
        self.call_expect(nr::update_container as u64, a(&[id as u64, at]), want);
    }

    fn pause_resume(&mut self) {
        let num = if self.rng.chance(1, 2) {
            nr::pause_container
        } else {
            nr::resume_container
        };
        if !self.on_host() {
            if self.in_grandchild {
                return self.getpid();
            }
            let id: i32 = self.rng.pick(&[self.cfg.cid, 0, -1]);
            self.call_expect(num as u64, a(&[id as u64]), Want::Fail);
            return;
        }
        let (id, want) = self.some_cid();
        let reg = self.int_reg(id);
        self.call_expect(num as u64, a(&[reg]), want);
    }

    fn logs(&mut self) {
        let (on, off) = if self.rng.chance(1, 2) {
            (nr::scheduler_log_on, nr::scheduler_log_off)
        } else {
            (nr::memory_log_on, nr::memory_log_off)
        };
        if !self.on_host() {
            if self.in_grandchild {
                return self.getpid();
            }
            let num = if self.rng.chance(1, 2) { on } else { off };
            self.call_expect(num as u64, a(&[]), Want::Err(EPERM));
            return;
        }
        // On the host the logs flood the console: on is always followed by off.
        if self.rng.chance(1, 3) {
            self.call_expect(on as u64, a(&[]), Want::Eq(0));
        }
        self.call_expect(off as u64, a(&[]), Want::Eq(0));
    }

    fn sethostname(&mut self) {
        if self.in_grandchild {
            return self.getpid();
        }
        let p = self.ptr(false);
        let len = self.rng.pick(&[0, 1, 5, 12, 31, 32, 33, 1 << 40, u64::MAX]);
        let printable = self.rng.chance(2, 3);
        let fill = matches!(p.region, Region::Scratch | Region::Stack) && len <= p.room && len < 32;
        if fill {
            for i in 0..len {
                let b = if printable {
                    b'a' + ((self.calls + i) % 26) as u8
                } else {
                    self.rng.pick(&[b' ', 0x01, 0x7f, 0xff, 0])
                };
                // SAFETY: [p.addr, p.addr + len) is scratch or the stack buffer.
                unsafe { ((p.addr + i) as *mut u8).write(b) };
            }
            if !printable && len > 0 {
                // SAFETY: as above; at least one bad byte for sure.
                unsafe { (p.addr as *mut u8).write(b' ') };
            }
        }
        let want = if len >= 32 {
            Want::Err(EINVAL)
        } else if len == 0 {
            Want::Any
        } else {
            match self.verdict(p, len, false) {
                Verdict::Fault => Want::Err(EFAULT),
                Verdict::Valid if fill && printable => Want::Eq(0),
                Verdict::Valid if fill => Want::Err(EINVAL),
                _ => Want::Any,
            }
        };
        self.call_expect(nr::sethostname as u64, a(&[p.addr, len]), want);
    }

    fn gethostname(&mut self) {
        let p = self.ptr(true);
        let len = self
            .len_for(p, true)
            .min(if self.rng.chance(1, 2) { 40 } else { u64::MAX });
        let len = if p.region == Region::Stack {
            len.min(p.room)
        } else {
            len
        };
        // The name is at most 31 bytes: a length of 32 always fits.
        let want = if len >= 32 {
            match self.verdict(p, 32, true) {
                Verdict::Fault if p.region != Region::Scratch => Want::Err(EFAULT),
                Verdict::Valid => Want::Ok,
                _ => Want::Any,
            }
        } else {
            Want::Any
        };
        let ret = self.call_expect(nr::gethostname as u64, a(&[p.addr, len]), want);
        if ret >= 0 && ret as u64 + 1 > len {
            self.violation(format_args!(
                "gethostname copied {} bytes into {len}",
                ret + 1
            ));
        }
    }

    fn container_diff(&mut self) {
        let p = self.ptr(true);
        let len = self.len_for(p, true);
        if !self.on_host() {
            if self.in_grandchild {
                return self.getpid();
            }
            let cid = self.cfg.cid as u64;
            self.call_expect(
                nr::container_diff as u64,
                a(&[cid, p.addr, len]),
                Want::Err(EPERM),
            );
            return;
        }
        let (id, idw) = self.some_cid();
        let want = if matches!(idw, Want::Eq(0)) {
            Want::Any
        } else {
            idw
        };
        self.call_expect(
            nr::container_diff as u64,
            a(&[id as u64, p.addr, len]),
            want,
        );
    }

    fn getcid(&mut self) {
        let want = if self.in_grandchild && self.cfg.host {
            Want::Ok
        } else {
            Want::Eq(i64::from(self.cfg.cid))
        };
        self.call_expect(nr::getcid as u64, a(&[]), want);
    }

    fn trace(&mut self) {
        let which = self.rng.below(3);
        if !self.on_host() {
            if self.in_grandchild {
                return self.getpid();
            }
            let num = [nr::trace_start, nr::trace_stop, nr::trace_dump][which as usize];
            let s = self.scratch;
            self.call_expect(num as u64, a(&[0, s, 16]), Want::Err(EPERM));
            return;
        }
        match which {
            0 => {
                let events: u64 =
                    self.rng
                        .pick(&[0, 1 << 1, (1 << 13) - 2, 1 << 20, u64::MAX, 1 << 3 | 1 << 4]);
                let cid: i32 = self.rng.pick(&[-1, 0, -2, i32::MIN, 5]);
                let bad = events & !((1 << 13) - 2) != 0 || cid < -1;
                let want = if self.tracing {
                    Want::OneOf(&[EBUSY, EINVAL])
                } else if bad {
                    Want::Err(EINVAL)
                } else {
                    Want::Eq(0)
                };
                let ret = self.call_expect(nr::trace_start as u64, a(&[events, cid as u64]), want);
                if ret == 0 {
                    self.tracing = true;
                    let mut l = Line::new();
                    let _ = l.write_str("T 1");
                    self.send(&mut l);
                }
            }
            1 => {
                let want = if self.tracing {
                    Want::Eq(0)
                } else {
                    Want::Err(EINVAL)
                };
                let ret = self.call_expect(nr::trace_stop as u64, a(&[]), want);
                if ret == 0 {
                    self.tracing = false;
                    let mut l = Line::new();
                    let _ = l.write_str("T 0");
                    self.send(&mut l);
                }
            }
            _ => {
                let p = self.ptr(true);
                let len = self.len_for(p, true);
                let want = if self.tracing {
                    Want::Err(EBUSY)
                } else {
                    Want::Any
                };
                self.call_expect(nr::trace_dump as u64, a(&[p.addr, len]), want);
            }
        }
    }

    /// `kstats(out)`: the host's only; a bad buffer is `EFAULT`.
    fn kstats(&mut self) {
        let size = core::mem::size_of::<ulib::abi::syscall::KernelStats>() as u64;
        let p = self.ptr(true);
        let want = if self.in_grandchild {
            // Maybe joined a container of its own.
            Want::Any
        } else if !self.on_host() {
            Want::Err(EPERM)
        } else if self.verdict(p, size, true) == Verdict::Fault {
            Want::Err(EFAULT)
        } else {
            Want::Eq(0)
        };
        self.call_expect(nr::kstats as u64, a(&[p.addr]), want);
    }

    fn unknown(&mut self) {
        let num: u64 = self.rng.pick(&[
            0,
            ulib::abi::syscall::TABLE.len() as u64 + 1,
            46,
            63,
            64,
            127,
            128,
            1000,
            (1 << 32) | nr::getpid as u64,
            1 << 63,
            u64::MAX,
        ]);
        let mut args = [0u64; 6];
        for v in &mut args {
            *v = self.rng.next_u64();
        }
        self.call_expect(num, args, Want::Err(ENOSYS));
    }
}
