//! Containers: the structures the container calls exchange, their limits
//! and flags (C-compatible, `#[repr(C)]`).
//!
//! Container 0 is the host. Ids 1..=[`MAX_CONTAINERS`] name containers; an
//! id is free again once `destroy_container` has returned (every process of
//! the old container reaped, its files closed, its layer discarded), so no
//! stale reference can reach a new container through an old id.
//!
//! The calls (numbers in `crate::syscall`), each `-errno` on failure:
//! - `create_container(spec)`: makes a container from a [`ContainerSpec`]
//!   (NULL: all defaults) and returns its id. `EEXIST`: the asked-for id or
//!   the name is taken; `EAGAIN`: all [`MAX_CONTAINERS`] are in use;
//!   `EINVAL`: an id, limit, flag or deny bit out of range, or a name
//!   that starts with a digit (it would read as an id) or holds a byte
//!   that is not printable ASCII or is a space; `ENAMETOOLONG`: a name
//!   without a NUL in its [`CONTAINER_NAME_LEN`] bytes; `EFAULT`: a wild spec pointer; `EPERM` from inside a container.
//! - `destroy_container(id)`: kills every process in it (running, sleeping,
//!   paused, blocked), waits until all are gone, closes their files,
//!   discards its file layer and frees the id. `EINVAL`: id 0 or out of
//!   range; `ESRCH`: no such container (never made, or already destroyed);
//!   `EPERM` from inside a container.
//! - `join_container(id)`: moves the caller into the container (it gets
//!   the next pid of the container's numbering, its files and memory are
//!   charged there, paths resolve in the container's view from its root).
//!   `EINVAL`/`ESRCH` as above; `EAGAIN`: the container's process limit;
//!   `ENOMEM`: its page limit; `EPERM` from inside a container (a process
//!   is in at most one and cannot move on by itself).
//! - `leave_container()`: back to the host (host pid numbering, host
//!   root). `EINVAL` on the host; `EPERM` unless the container was created
//!   with [`SPEC_ALLOW_LEAVE`].
//! - `containers(out, max)`: fills up to `max` [`ContainerInfo`] rows (the
//!   host sees every container, a container only itself), by id; returns
//!   the count.
//! - `update_container(id, spec)`: changes the fields of `spec` that its
//!   `flags` name ([`UPDATE_CPU_WEIGHT`], ...). Errors as for create.
//! - `pause_container(id)` / `resume_container(id)`: the freezer. A paused
//!   container's processes are not run (they cannot tell); a process that
//!   wakes while paused waits until resume. `EINVAL`/`ESRCH`/`EPERM` as
//!   above; pausing a paused or resuming a running one is a no-op.
//! - `scheduler_log_on/off()`, `memory_log_on/off()`: the assignment's
//!   console logs (`EPERM` from inside a container).
//! - `sethostname(name, len)` / `gethostname(buf, len)`: the caller's
//!   container's hostname (the host's for host processes), at most
//!   [`HOSTNAME_LEN`]` - 1` bytes of printable ASCII without spaces
//!   (`EINVAL` otherwise); gethostname copies it NUL-terminated and
//!   returns its length, `ERANGE` when `len` is too small.
//! - Inside a container, `tcsetpgrp` is `EPERM` unless the console is the
//!   container's (its foreground job joined it), and its processes hold at
//!   most 512 files open (`ENFILE` beyond); containers together never take
//!   the last 64 process slots (`EAGAIN`), which stay the host's. The
//!   console is shared, as `docker run -it` shares the terminal: a
//!   container may open a console node (and reads what is typed while it
//!   reads); it has no other device.
//! - `container_diff(id, buf, len)`: the container's changes to the host
//!   tree as `docker diff` prints them, one `A path`, `C path` or `D path`
//!   line each; copies what fits in `len` and returns the full length.
//! - `getcid()`: the caller's container id (0: the host).

/// Most containers at once (besides the host).
pub const MAX_CONTAINERS: usize = 64;
/// Bytes of a container name, NUL included.
pub const CONTAINER_NAME_LEN: usize = 16;
/// Bytes of a hostname, NUL included.
pub const HOSTNAME_LEN: usize = 32;
/// CPU weight range and default (cgroup v2 `cpu.weight`).
pub const CPU_WEIGHT_MIN: u32 = 1;
pub const CPU_WEIGHT_MAX: u32 = 10_000;
pub const CPU_WEIGHT_DEFAULT: u32 = 100;
/// Words of the system-call deny set: bit `n % 64` of word `n / 64` denies call `n`.
pub const DENY_WORDS: usize = 2;
/// Calls a deny set can name (numbers below this).
pub const DENY_CALLS: usize = DENY_WORDS * 64;

/// [`ContainerSpec::flags`] at create: `leave_container` is allowed.
pub const SPEC_ALLOW_LEAVE: u32 = 1 << 0;
/// At create: the container shares the host's pid numbering (`--pid=host`).
pub const SPEC_PID_HOST: u32 = 1 << 1;
/// Flags `create_container` accepts.
pub const SPEC_FLAGS: u32 = SPEC_ALLOW_LEAVE | SPEC_PID_HOST;

/// [`ContainerSpec::flags`] at update: the fields to change.
pub const UPDATE_CPU_WEIGHT: u32 = 1 << 0;
pub const UPDATE_MAX_PROCS: u32 = 1 << 1;
pub const UPDATE_MAX_PAGES: u32 = 1 << 2;
pub const UPDATE_DENY: u32 = 1 << 3;
/// Flags `update_container` accepts.
pub const UPDATE_FLAGS: u32 = UPDATE_CPU_WEIGHT | UPDATE_MAX_PROCS | UPDATE_MAX_PAGES | UPDATE_DENY;

crate::pod! {
/// What `create_container` (and `update_container`) are asked for (56 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    /// The id wanted (1..=MAX_CONTAINERS), or 0: the lowest free one.
    pub id: i32,
    /// `SPEC_*` at create, `UPDATE_*` at update.
    pub flags: u32,
    /// 0: the default (100); else 1..=10000.
    pub cpu_weight: u32,
    /// Most live processes (fork beyond: `EAGAIN`); 0: no limit but NPROC.
    pub max_procs: u32,
    /// Most pages charged (growth beyond: `ENOMEM`); 0: no limit.
    pub max_pages: u64,
    /// System calls answered with `EPERM` (bit n = call n); only numbers
    /// of existing calls may be set, and never `exit`.
    pub deny: [u64; DENY_WORDS],
    /// NUL-terminated; empty: the container is named `c<id>`.
    pub name: [u8; CONTAINER_NAME_LEN],
}
}

const _: () = assert!(core::mem::size_of::<ContainerSpec>() == 56);

/// [`ContainerInfo::state`].
pub mod container_state {
    pub const RUNNING: i32 = 1;
    pub const PAUSED: i32 = 2;
    /// Being destroyed.
    pub const DYING: i32 = 3;

    /// The name `ctr ls` prints.
    pub const fn name(state: i32) -> &'static str {
        match state {
            RUNNING => "running",
            PAUSED => "paused",
            DYING => "dying",
            _ => "?",
        }
    }
}

/// Calls whose denials are counted one by one in [`ContainerInfo::denied_by_call`].
pub const DENIED_COUNTED_CALLS: usize = 64;

crate::pod! {
/// One row of `containers()` (C-compatible).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContainerInfo {
    pub id: i32,
    /// One of [`container_state`].
    pub state: i32,
    /// `SPEC_*` flags it was created with.
    pub flags: u32,
    pub cpu_weight: u32,
    /// 0: no limit.
    pub max_procs: u32,
    /// Live processes in it.
    pub procs: u32,
    /// 0: no limit.
    pub max_pages: u64,
    /// Frames charged to it now (user pages, page tables, kernel stacks, pipe buffers).
    pub pages: u64,
    /// TSC cycles its processes ran.
    pub cycles: u64,
    /// Times one of its processes was switched in.
    pub switches: u64,
    /// Entries in its file table (files its processes hold open).
    pub open_files: u64,
    /// Calls refused by its deny set, in all.
    pub denied: u64,
    /// Refusals per call number (calls below [`DENIED_COUNTED_CALLS`]).
    pub denied_by_call: [u32; DENIED_COUNTED_CALLS],
    pub deny: [u64; DENY_WORDS],
    pub name: [u8; CONTAINER_NAME_LEN],
    pub hostname: [u8; HOSTNAME_LEN],
}
}

impl Default for ContainerInfo {
    fn default() -> Self {
        ContainerInfo {
            id: 0,
            state: 0,
            flags: 0,
            cpu_weight: 0,
            max_procs: 0,
            procs: 0,
            max_pages: 0,
            pages: 0,
            cycles: 0,
            switches: 0,
            open_files: 0,
            denied: 0,
            denied_by_call: [0; DENIED_COUNTED_CALLS],
            deny: [0; DENY_WORDS],
            name: [0; CONTAINER_NAME_LEN],
            hostname: [0; HOSTNAME_LEN],
        }
    }
}

const _: () = assert!(core::mem::size_of::<ContainerInfo>() == 392);

/// The bytes of a NUL-terminated field up to its NUL (all of it without one).
pub const fn c_field(bytes: &[u8]) -> &[u8] {
    let mut n = 0;
    while n < bytes.len() && bytes[n] != 0 {
        n += 1;
    }
    bytes.split_at(n).0
}
