//! The system-call table: one list, from which the kernel's dispatcher and
//! the user-space stubs are both generated, so the ABI cannot drift.
//!
//! Calling convention (`syscall` instruction): number in `rax`, arguments
//! in `rdi, rsi, rdx, r10, r8, r9`, result in `rax`; a negative result is
//! `-errno` (see [`crate::errno`]). Pointers are user addresses; strings are
//! NUL-terminated (C strings), so a C program uses the same table.
//!
//! Numbers 1..=21 keep xv6's meaning; new calls follow:
//! - 22 `yield_cpu()`: give up the CPU, stay runnable;
//! - 23 `ps(out, max)`: fill up to `max` [`ProcInfo`] rows, return the count;
//! - 24 `setpgid(pid, pgid)`: put process `pid` (0: the caller; it must be
//!   the caller or its child) in group `pgid` (0: a new group numbered
//!   `pid`); `ESRCH` for another process;
//! - 25 `tcsetpgrp(pgid)`: make group `pgid` the console's foreground group,
//!   the one ^C kills (0: none);
//! - 26..=41: the container calls, documented in [`crate::container`];
//! - 42 `trace_start(events, cid)`: empty the per-CPU trace rings and
//!   record `events` (a bit per `trace::event` number; 0: all) about
//!   container `cid`'s processes (-1: all); `EBUSY` while recording,
//!   `EINVAL` for unknown event bits or `cid < -1`, `ENOMEM` when the
//!   kernel heap cannot hold the rings (allocated at the first start);
//! - 43 `trace_stop()`: stop recording (`EINVAL` if not recording);
//! - 44 `trace_dump(buf, len)`: copy the last recording's dump (the layout
//!   of [`crate::trace`]) into `buf`, at most `len` bytes, and return its
//!   whole size (call with `len` 0 to learn it); `EBUSY` while recording,
//!   `ENOENT` before any. The trace calls are the host's: `EPERM` inside
//!   a container.
//! - 45 `kstats(out)`: fill one [`KernelStats`] (kernel-wide counters:
//!   memory, processes, containers, cached inodes) and return 0; the
//!   host's only (`EPERM` inside a container: the figures are the whole
//!   machine's).
//!
//! Pids are those of the caller's numbering: inside a container (unless it
//! shares the host's, `SPEC_PID_HOST`) pids start at 1 and `getpid`, `fork`,
//! `wait`, `kill`, `setpgid` and `ps` use them; on the host, real pids.
//! A caller sees, waits for, signals and groups only processes of its own
//! container; the host sees every process.

/// Invokes `$m!` with the whole table, one entry per call:
/// `number name(arg: type, ...) -> return type;`. Argument types are the
/// C-visible ones; every argument travels in a 64-bit register.
#[macro_export]
macro_rules! for_each_syscall {
    ($m:ident) => {
        $m! {
            1 fork() -> i64;
            2 exit(status: i32) -> i64;
            3 wait(status: *mut i32) -> i64;
            4 pipe(fds: *mut i32) -> i64;
            5 read(fd: i32, buf: *mut u8, n: usize) -> i64;
            6 kill(pid: i32) -> i64;
            7 exec(path: *const u8, argv: *const *const u8) -> i64;
            8 fstat(fd: i32, st: *mut $crate::stat::Stat) -> i64;
            9 chdir(path: *const u8) -> i64;
            10 dup(fd: i32) -> i64;
            11 getpid() -> i64;
            12 sbrk(n: isize) -> i64;
            13 sleep(ticks: i32) -> i64;
            14 uptime() -> i64;
            15 open(path: *const u8, flags: u32) -> i64;
            16 write(fd: i32, buf: *const u8, n: usize) -> i64;
            17 mknod(path: *const u8, major: i32, minor: i32) -> i64;
            18 unlink(path: *const u8) -> i64;
            19 link(old: *const u8, new: *const u8) -> i64;
            20 mkdir(path: *const u8) -> i64;
            21 close(fd: i32) -> i64;
            22 yield_cpu() -> i64;
            23 ps(out: *mut $crate::syscall::ProcInfo, max: usize) -> i64;
            24 setpgid(pid: i32, pgid: i32) -> i64;
            25 tcsetpgrp(pgid: i32) -> i64;
            26 create_container(spec: *const $crate::container::ContainerSpec) -> i64;
            27 destroy_container(id: i32) -> i64;
            28 join_container(id: i32) -> i64;
            29 leave_container() -> i64;
            30 containers(out: *mut $crate::container::ContainerInfo, max: usize) -> i64;
            31 update_container(id: i32, spec: *const $crate::container::ContainerSpec) -> i64;
            32 pause_container(id: i32) -> i64;
            33 resume_container(id: i32) -> i64;
            34 scheduler_log_on() -> i64;
            35 scheduler_log_off() -> i64;
            36 memory_log_on() -> i64;
            37 memory_log_off() -> i64;
            38 sethostname(name: *const u8, len: usize) -> i64;
            39 gethostname(buf: *mut u8, len: usize) -> i64;
            40 container_diff(id: i32, buf: *mut u8, len: usize) -> i64;
            41 getcid() -> i64;
            42 trace_start(events: u64, cid: i32) -> i64;
            43 trace_stop() -> i64;
            44 trace_dump(buf: *mut u8, len: usize) -> i64;
            45 kstats(out: *mut $crate::syscall::KernelStats) -> i64;
        }
    };
}

macro_rules! numbers {
    ($($num:literal $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        /// System-call numbers, named after the calls.
        #[allow(non_upper_case_globals)]
        pub mod nr {
            $(pub const $name: usize = $num;)*
        }
        /// `(number, name, argument count)` of every call.
        pub const TABLE: &[(usize, &str, usize)] = &[
            $(($num, stringify!($name), <[&str]>::len(&[$(stringify!($arg)),*])),)*
        ];
    };
}
for_each_syscall!(numbers);

/// Longest process name kept (and shown by `ps`), including the terminator.
pub const PROC_NAME_LEN: usize = 16;

/// Process states as `ps` reports them.
pub mod proc_state {
    pub const UNUSED: i32 = 0;
    pub const EMBRYO: i32 = 1;
    pub const SLEEPING: i32 = 2;
    pub const RUNNABLE: i32 = 3;
    pub const RUNNING: i32 = 4;
    pub const ZOMBIE: i32 = 5;
    /// Held by its container's freezer (paused); shown only to the host:
    /// inside, a frozen process reads as sleeping (it cannot tell).
    pub const FROZEN: i32 = 6;

    /// Short name of a state, as `ps` prints it.
    pub const fn name(state: i32) -> &'static str {
        match state {
            EMBRYO => "embryo",
            SLEEPING => "sleep",
            RUNNABLE => "runble",
            RUNNING => "run",
            ZOMBIE => "zombie",
            FROZEN => "frozen",
            _ => "unused",
        }
    }
}

crate::pod! {
/// One row of the process listing filled in by `ps` (48 bytes; C-compatible).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcInfo {
    /// In the caller's numbering.
    pub pid: i32,
    /// In the caller's numbering; 0 when the parent is not visible to it.
    pub ppid: i32,
    /// Container id (0 = host).
    pub container: i32,
    /// One of [`proc_state`].
    pub state: i32,
    /// CPU it runs or last ran on (-1: never ran).
    pub cpu: i32,
    /// Size of its user memory in bytes / 4096.
    pub pages: u32,
    /// Its pid in its own container's numbering (= `pid` on the host).
    pub vpid: i32,
    /// Process group, in the caller's numbering.
    pub pgid: i32,
    /// NUL-terminated name.
    pub name: [u8; PROC_NAME_LEN],
    /// TSC cycles it has run (kernel and user time, counted at each switch-out).
    pub cycles: u64,
}
}

const _: () = assert!(core::mem::size_of::<ProcInfo>() == 56);

crate::pod! {
/// Kernel-wide counters filled in by `kstats`: what a stress run checks
/// for leaks against the figures before it (72 bytes; C-compatible).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Frames the allocator managed at boot, after the kernel heap's share.
    pub frames_total: u64,
    /// Frames free now.
    pub frames_free: u64,
    /// Heap pages promised by `sbrk` and not yet touched.
    pub pages_committed: u64,
    /// Pages charged to the host and every container, together.
    pub pages_charged: u64,
    /// Kernel heap bytes in use, and its size.
    pub heap_used: u64,
    pub heap_size: u64,
    /// Process slots in use (running, sleeping and zombie processes).
    pub procs: u32,
    /// Containers besides the host.
    pub containers: u32,
    /// In-memory inodes with a reference.
    pub inodes_cached: u32,
    pub _pad: u32,
    /// TLB shootdown IPIs sent since boot.
    pub tlb_shootdowns: u64,
}
}

const _: () = assert!(core::mem::size_of::<KernelStats>() == 72);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xv6_numbers_keep_their_meaning() {
        assert_eq!(nr::fork, 1);
        assert_eq!(nr::exit, 2);
        assert_eq!(nr::exec, 7);
        assert_eq!(nr::close, 21);
        assert_eq!(nr::yield_cpu, 22);
        for (i, (num, _, _)) in TABLE.iter().enumerate() {
            assert_eq!(*num, i + 1, "table must be dense and ordered");
        }
        assert_eq!(TABLE[6], (7, "exec", 2));
    }
}
