//! The container object and the container table.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};

use berth_abi::container::*;

use super::files::FileTable;
use super::spec::{self, Limits};
use crate::file::view::View;
use crate::mm::account::MemAccount;
use crate::proc::Proc;
use crate::sched::members::Members;
use crate::sync::{SpinLock, WaitQueue};

/// A container (the host is container 0).
pub struct Container {
    pub id: i32,
    /// Unique over the kernel's life (the host's is 0): what visibility compares.
    pub serial: u64,
    pub name: [u8; CONTAINER_NAME_LEN],
    /// `SPEC_*` flags it was created with.
    pub flags: u32,
    /// `containerAlive`: false once destroy has begun (no process may join
    /// or be forked into it from then on).
    alive: AtomicBool,
    /// The freezer's state (changed under `freeze_lock`).
    paused: AtomicBool,
    pub(super) freeze_lock: SpinLock<()>,
    /// Frozen members sleep here until resume (or a kill).
    pub(super) thaw: WaitQueue,
    /// Woken each time a member exits: destroy waits on it.
    pub(super) emptied: WaitQueue,
    pub(super) emptied_lock: SpinLock<()>,
    cpu_weight: AtomicU32,
    max_procs: AtomicU32,
    deny: [AtomicU64; DENY_WORDS],
    /// Frames charged to it and its page limit.
    pub mem: Arc<MemAccount>,
    /// Members from join/fork to exit (what the process limit counts).
    live: AtomicU32,
    /// Its pid numbering: the next pid handed out inside it.
    next_vpid: AtomicI32,
    denied: AtomicU64,
    denied_by_call: [AtomicU32; DENIED_COUNTED_CALLS],
    hostname: SpinLock<[u8; HOSTNAME_LEN]>,
    /// The assignment's `fTable`: files its processes opened.
    pub files: FileTable,
    /// What its processes' paths resolve in: the host tree through its own
    /// copy-on-write layer (the host's own view for the host; `None`
    /// without a file system).
    pub view: Option<Arc<View>>,
}

static SERIAL: AtomicU64 = AtomicU64::new(1);

impl Container {
    fn new(id: i32, name: &[u8], flags: u32, limits: &Limits) -> Container {
        // Its id is free (create holds MANAGE), so no process of an
        // earlier container of that id is left in the scheduler's group.
        crate::proc::sched::reset_group(id, limits.cpu_weight);
        let mut n = [0u8; CONTAINER_NAME_LEN];
        n[..name.len()].copy_from_slice(name);
        let mut hostname = [0u8; HOSTNAME_LEN];
        hostname[..name.len()].copy_from_slice(name);
        let serial = if id == 0 {
            0
        } else {
            SERIAL.fetch_add(1, Ordering::Relaxed)
        };
        let mem = Arc::new(MemAccount::new(id, limits.max_pages));
        // Its layer's name in the layer area: unique, within DIRSIZ.
        let view = if id == 0 {
            None
        } else {
            let name = alloc::format!("c{id}.{}", serial % 1_000_000_000);
            View::layered(name.as_bytes(), mem.clone()).map(Arc::new)
        };
        Container {
            id,
            serial,
            view,
            name: n,
            flags,
            alive: AtomicBool::new(true),
            paused: AtomicBool::new(false),
            freeze_lock: SpinLock::new("freezer", ()),
            thaw: WaitQueue::new(),
            emptied: WaitQueue::new(),
            emptied_lock: SpinLock::new("container emptied", ()),
            cpu_weight: AtomicU32::new(limits.cpu_weight),
            max_procs: AtomicU32::new(limits.max_procs),
            deny: core::array::from_fn(|i| AtomicU64::new(limits.deny[i])),
            mem,
            live: AtomicU32::new(0),
            next_vpid: AtomicI32::new(1),
            denied: AtomicU64::new(0),
            denied_by_call: core::array::from_fn(|_| AtomicU32::new(0)),
            hostname: SpinLock::new("hostname", hostname),
            files: FileTable::new(if id == 0 {
                0
            } else {
                crate::param::CONTAINER_MAX_FILES
            }),
        }
    }

    /// `procReferenceTable`: its live members, as process slots (the
    /// scheduler's table for its group, whose cursor is its round robin).
    pub fn members(&self) -> &'static Members {
        crate::proc::sched::members(self.id)
    }

    /// Its live members now (a snapshot).
    pub fn member_procs(&self) -> alloc::vec::Vec<Arc<Proc>> {
        self.members()
            .entries()
            .into_iter()
            .filter_map(|slot| crate::proc::table::PROCS.get(slot as usize))
            .filter(|p| p.ctr_serial.load(Ordering::Acquire) == self.serial)
            .collect()
    }

    pub fn is_host(&self) -> bool {
        self.id == 0
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Ends `containerAlive`; false if destroy had begun already.
    pub(super) fn begin_destroy(&self) -> bool {
        self.alive
            .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    pub(super) fn set_paused(&self, paused: bool) {
        let g = self.freeze_lock.lock();
        self.paused.store(paused, Ordering::Release);
        drop(g);
        if !paused {
            self.thaw.wake_all();
        }
    }

    /// Whether members share the host's pid numbering.
    pub fn shares_host_pids(&self) -> bool {
        self.is_host() || self.flags & SPEC_PID_HOST != 0
    }

    /// The pid a new member with real pid `pid` gets in this container's numbering.
    pub fn next_pid(&self, pid: i32) -> i32 {
        if self.shares_host_pids() {
            pid
        } else {
            self.next_vpid.fetch_add(1, Ordering::Relaxed)
        }
    }

    /// Counts one more member, or `EAGAIN` at the process limit.
    pub fn try_add_member(&self) -> Result<(), berth_abi::errno::Errno> {
        let max = self.max_procs.load(Ordering::Relaxed);
        self.live
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (max == 0 || n < max).then_some(n + 1)
            })
            .map(drop)
            .map_err(|_| berth_abi::errno::Errno::EAGAIN)
    }

    /// One member fewer (it exited or left); wakes a waiting destroy.
    pub fn remove_member(&self) {
        self.live.fetch_sub(1, Ordering::AcqRel);
        drop(self.emptied_lock.lock());
        self.emptied.wake_all();
    }

    pub fn live_members(&self) -> u32 {
        self.live.load(Ordering::Acquire)
    }

    /// Whether its deny set refuses call `num`; counts the refusal.
    pub fn refuses(&self, num: u64) -> bool {
        let words: [u64; DENY_WORDS] =
            core::array::from_fn(|i| self.deny[i].load(Ordering::Relaxed));
        if !spec::denies(&words, num) {
            return false;
        }
        self.denied.fetch_add(1, Ordering::Relaxed);
        if let Some(c) = self.denied_by_call.get(num as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        true
    }

    pub fn limits(&self) -> Limits {
        Limits {
            cpu_weight: self.cpu_weight.load(Ordering::Relaxed),
            max_procs: self.max_procs.load(Ordering::Relaxed),
            max_pages: self.mem.limit(),
            deny: core::array::from_fn(|i| self.deny[i].load(Ordering::Relaxed)),
        }
    }

    pub(super) fn set_limits(&self, l: &Limits) {
        self.cpu_weight.store(l.cpu_weight, Ordering::Relaxed);
        crate::proc::sched::set_weight(self.id, l.cpu_weight);
        self.max_procs.store(l.max_procs, Ordering::Relaxed);
        self.mem.set_limit(l.max_pages);
        for (w, v) in self.deny.iter().zip(l.deny) {
            w.store(v, Ordering::Relaxed);
        }
    }

    pub fn hostname(&self) -> [u8; HOSTNAME_LEN] {
        *self.hostname.lock()
    }

    pub fn set_hostname(&self, name: &[u8]) {
        let mut h = [0u8; HOSTNAME_LEN];
        h[..name.len()].copy_from_slice(name);
        *self.hostname.lock() = h;
    }

    /// What `container_diff` lists: the changes in its file layer.
    pub fn layer_diff(&self) -> Result<alloc::vec::Vec<u8>, berth_abi::errno::Errno> {
        self.view
            .as_ref()
            .map_or(Ok(alloc::vec::Vec::new()), |v| v.diff())
    }

    /// Its row for `containers()`.
    pub fn info(&self) -> ContainerInfo {
        let l = self.limits();
        let (cycles, switches) = crate::proc::sched::group_counts(self.id);
        ContainerInfo {
            id: self.id,
            state: if !self.is_alive() {
                container_state::DYING
            } else if self.is_paused() {
                container_state::PAUSED
            } else {
                container_state::RUNNING
            },
            flags: self.flags,
            cpu_weight: l.cpu_weight,
            max_procs: l.max_procs,
            procs: self.live_members(),
            max_pages: l.max_pages,
            pages: self.mem.pages(),
            cycles,
            switches,
            open_files: self.files.count() as u64,
            denied: self.denied.load(Ordering::Relaxed),
            denied_by_call: core::array::from_fn(|i| {
                self.denied_by_call[i].load(Ordering::Relaxed)
            }),
            deny: l.deny,
            name: self.name,
            hostname: self.hostname(),
        }
    }
}

/// Slot 0 is the host; slots 1..=MAX_CONTAINERS the containers by id.
static TABLE: [SpinLock<Option<Arc<Container>>>; MAX_CONTAINERS + 1] =
    [const { SpinLock::new("container slot", None) }; MAX_CONTAINERS + 1];

static HOST: spin::Once<Arc<Container>> = spin::Once::new();

/// The host (container 0).
pub fn host() -> &'static Arc<Container> {
    HOST.call_once(|| {
        let name = b"berth";
        let c = Arc::new(Container::new(0, name, 0, &Limits::default()));
        *TABLE[0].lock() = Some(c.clone());
        c
    })
}

/// The container with `id` (0: the host), if it exists.
pub fn lookup(id: usize) -> Option<Arc<Container>> {
    TABLE.get(id)?.lock().clone()
}

/// Every container but the host, by id.
pub fn all() -> alloc::vec::Vec<Arc<Container>> {
    (1..=MAX_CONTAINERS).filter_map(lookup).collect()
}

/// Puts `c` in its slot; `EEXIST` if the slot is taken. Callers hold
/// `manage::MANAGE`, so a free slot they found stays free.
pub(super) fn insert(c: Arc<Container>) -> Result<(), berth_abi::errno::Errno> {
    let mut slot = TABLE[c.id as usize].lock();
    if slot.is_some() {
        return Err(berth_abi::errno::Errno::EEXIST);
    }
    *slot = Some(c);
    Ok(())
}

/// A new container object (not yet in the table).
pub(super) fn build(id: usize, name: &[u8], flags: u32, limits: &Limits) -> Arc<Container> {
    Arc::new(Container::new(id as i32, name, flags, limits))
}

/// Frees slot `id` once its container is gone.
pub(super) fn remove(id: usize) {
    let old = TABLE[id].lock().take();
    drop(old);
}
