//! The process table: a value whose lookups take the calling process.
//!
//! `NPROC` slots, each an atomic "taken" flag plus the process it holds
//! (behind the slot's own small lock). Allocation claims a free slot with a
//! compare-exchange, starting from a rotating hint, so concurrent forks on
//! different CPUs do not serialise; pids come from an atomic counter and
//! are never reused. There is no lock over all processes: lookups look at
//! slots one at a time, each under its own lock.
//!
//! Visibility lives here, in one place: a caller sees the processes of its
//! own container, named by its container's numbering ([`Proc::pid_seen_by`]);
//! the host sees every process by its real pid. `kill`, `wait`, `ps`,
//! `setpgid` and ^C all ask the table through [`ProcTable::find_visible`]
//! and [`ProcTable::visible`]. A process is published ([`ProcTable::install`])
//! only once it is complete: container, pids and group are set before.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

use berth_abi::limits::NPROC;

use super::Proc;
use crate::sync::SpinLock;

struct Slot {
    taken: AtomicBool,
    proc: SpinLock<Option<Arc<Proc>>>,
}

/// Every process.
pub struct ProcTable {
    slots: [Slot; NPROC],
    next_pid: AtomicI32,
    hint: AtomicUsize,
    live: AtomicUsize,
}

/// The one process table.
pub static PROCS: ProcTable = ProcTable::new();

impl ProcTable {
    const fn new() -> ProcTable {
        ProcTable {
            slots: [const {
                Slot {
                    taken: AtomicBool::new(false),
                    proc: SpinLock::new("proc slot", None),
                }
            }; NPROC],
            next_pid: AtomicI32::new(1),
            hint: AtomicUsize::new(0),
            live: AtomicUsize::new(0),
        }
    }

    /// Claims a free slot and a fresh pid; `None` when the table is full.
    pub fn reserve(&self) -> Option<(usize, i32)> {
        let start = self.hint.fetch_add(1, Ordering::Relaxed);
        for i in 0..NPROC {
            let slot = (start + i) % NPROC;
            if self.slots[slot]
                .taken
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                self.live.fetch_add(1, Ordering::Relaxed);
                return Some((slot, self.next_pid.fetch_add(1, Ordering::Relaxed)));
            }
        }
        None
    }

    /// Publishes a complete process in the slot it reserved.
    pub fn install(&self, p: Arc<Proc>) {
        let slot = p.slot;
        *self.slots[slot].proc.lock() = Some(p);
    }

    /// The process in slot `slot`, if one is published there.
    pub fn get(&self, slot: usize) -> Option<Arc<Proc>> {
        let s = self.slots.get(slot)?;
        if !s.taken.load(Ordering::Acquire) {
            return None;
        }
        s.proc.lock().clone()
    }

    /// Empties a slot (the process was reaped, or fork failed after
    /// `reserve`); its scheduler task is retired, so the slot's next
    /// process is a new generation to the run queues.
    pub fn release(&self, slot: usize) {
        super::sched::retire_task(slot);
        let old = self.slots[slot].proc.lock().take();
        self.slots[slot].taken.store(false, Ordering::Release);
        self.live.fetch_sub(1, Ordering::Relaxed);
        drop(old);
    }

    fn each(&self) -> impl Iterator<Item = Arc<Proc>> + '_ {
        self.slots
            .iter()
            .filter(|s| s.taken.load(Ordering::Acquire))
            .filter_map(|s| s.proc.lock().clone())
    }

    /// The live process that `caller` calls `pid`, if `caller` may see it.
    pub fn find_visible(&self, caller: &Proc, pid: i32) -> Option<Arc<Proc>> {
        if pid <= 0 {
            return None;
        }
        self.slots.iter().find_map(|s| {
            if !s.taken.load(Ordering::Acquire) {
                return None;
            }
            s.proc
                .lock()
                .as_ref()
                .filter(|p| p.pid_seen_by(caller) == Some(pid))
                .cloned()
        })
    }

    /// Every process `caller` may see (`None`: every process, for the
    /// kernel's own listings). A snapshot: processes may come and go.
    pub fn visible(&self, caller: Option<&Proc>) -> Vec<Arc<Proc>> {
        self.each()
            .filter(|p| caller.is_none_or(|c| p.pid_seen_by(c).is_some()))
            .collect()
    }

    /// Processes in the table.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
}
