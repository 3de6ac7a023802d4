//! The process table: slots handed out without a global lock, pids from a counter.
//!
//! `NPROC` slots, each an atomic "taken" flag plus the process it holds
//! (behind the slot's own small lock). Allocation claims a free slot with a
//! compare-exchange, starting from a rotating hint, so concurrent forks on
//! different CPUs do not serialise; pids come from an atomic counter and
//! are never reused. Finding a process by pid (kill) looks at slots one at
//! a time, each under its own lock: there is no lock over all processes.

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

#[allow(clippy::declare_interior_mutable_const)]
const FREE: Slot = Slot {
    taken: AtomicBool::new(false),
    proc: SpinLock::new("proc slot", None),
};
static SLOTS: [Slot; NPROC] = [FREE; NPROC];
static NEXT_PID: AtomicI32 = AtomicI32::new(1);
static HINT: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Claims a free slot and a fresh pid; `None` when the table is full.
pub fn reserve() -> Option<(usize, i32)> {
    let start = HINT.fetch_add(1, Ordering::Relaxed);
    for i in 0..NPROC {
        let slot = (start + i) % NPROC;
        if SLOTS[slot]
            .taken
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            LIVE.fetch_add(1, Ordering::Relaxed);
            return Some((slot, NEXT_PID.fetch_add(1, Ordering::Relaxed)));
        }
    }
    None
}

/// Publishes a process in the slot it reserved.
pub fn install(p: Arc<Proc>) {
    let slot = p.slot;
    *SLOTS[slot].proc.lock() = Some(p);
}

/// Empties a slot (the process was reaped, or fork failed after `reserve`).
pub fn release(slot: usize) {
    let old = SLOTS[slot].proc.lock().take();
    SLOTS[slot].taken.store(false, Ordering::Release);
    LIVE.fetch_sub(1, Ordering::Relaxed);
    drop(old);
}

/// The live process with `pid`.
pub fn find(pid: i32) -> Option<Arc<Proc>> {
    if pid <= 0 {
        return None;
    }
    SLOTS.iter().find_map(|s| {
        if !s.taken.load(Ordering::Acquire) {
            return None;
        }
        s.proc.lock().as_ref().filter(|p| p.pid == pid).cloned()
    })
}

/// Every process, for listings (a snapshot: processes may come and go).
pub fn snapshot() -> Vec<Arc<Proc>> {
    SLOTS
        .iter()
        .filter(|s| s.taken.load(Ordering::Acquire))
        .filter_map(|s| s.proc.lock().clone())
        .collect()
}

/// Processes in the table.
pub fn live() -> usize {
    LIVE.load(Ordering::Relaxed)
}
