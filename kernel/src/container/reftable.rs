//! A container's process reference table (the assignment's
//! `procReferenceTable`): a fixed array of slots, each `{procAlive,
//! pointerToProc}`, with `nextProcRefTableFreeIndex` (where the next insert
//! starts looking) and `lastScheduleProcRefTableIndex` (the round-robin
//! cursor of the container's scheduler, an atomic).
//!
//! No lock over the table: a slot is claimed by a compare-exchange on its
//! `alive` flag (Acquire on success, so the claimer sees the slot's last
//! release), its entry sits behind the slot's own small lock, and a
//! removal stores the entry out before releasing the flag (Release). The
//! cursor is advanced with `fetch_update`, so two CPUs picking at once get
//! different starting points and never the slot just picked again (the
//! original's mistake: saving the slot picked made the next pick choose it
//! again). Pure logic, unit-tested on the host.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::sync::SpinLock;

struct RefSlot<T> {
    /// `procAlive`.
    alive: AtomicBool,
    /// `pointerToProc`.
    entry: SpinLock<Option<T>>,
}

/// The table.
pub struct RefTable<T> {
    slots: Box<[RefSlot<T>]>,
    /// `nextProcRefTableFreeIndex`: where the next insert starts looking.
    next_free_index: AtomicUsize,
    /// `lastScheduleProcRefTableIndex`: the slot the last pick took.
    last_schedule_index: AtomicUsize,
    len: AtomicUsize,
}

impl<T: Clone> RefTable<T> {
    /// A table of `n` slots.
    pub fn new(n: usize) -> RefTable<T> {
        RefTable {
            slots: (0..n)
                .map(|_| RefSlot {
                    alive: AtomicBool::new(false),
                    entry: SpinLock::new("proc ref slot", None),
                })
                .collect(),
            next_free_index: AtomicUsize::new(0),
            last_schedule_index: AtomicUsize::new(n.saturating_sub(1)),
            len: AtomicUsize::new(0),
        }
    }

    /// Puts `v` in a free slot; its index, or `None` when every slot is taken.
    pub fn insert(&self, v: T) -> Option<usize> {
        let n = self.slots.len();
        let start = self.next_free_index.load(Ordering::Relaxed);
        for k in 0..n {
            let i = (start + k) % n;
            let s = &self.slots[i];
            if s.alive
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                *s.entry.lock() = Some(v);
                self.next_free_index.store((i + 1) % n, Ordering::Relaxed);
                self.len.fetch_add(1, Ordering::Relaxed);
                return Some(i);
            }
        }
        None
    }

    /// Empties slot `i`; what it held.
    pub fn remove(&self, i: usize) -> Option<T> {
        let s = self.slots.get(i)?;
        let old = s.entry.lock().take();
        if old.is_some() {
            s.alive.store(false, Ordering::Release);
            self.len.fetch_sub(1, Ordering::Relaxed);
            // Reuse low slots first, as the original's free index does.
            self.next_free_index.fetch_min(i, Ordering::Relaxed);
        }
        old
    }

    /// Entries in use.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of every entry.
    pub fn entries(&self) -> Vec<T> {
        self.slots
            .iter()
            .filter(|s| s.alive.load(Ordering::Acquire))
            .filter_map(|s| s.entry.lock().clone())
            .collect()
    }

    /// Round robin: the first entry after the cursor for which `ready`
    /// holds, moving the cursor onto it. Each call starts one past the
    /// previous pick, so ready entries take turns.
    pub fn pick_next(&self, mut ready: impl FnMut(&T) -> bool) -> Option<(usize, T)> {
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        let start = self.last_schedule_index.load(Ordering::Acquire);
        for k in 1..=n {
            let i = (start + k) % n;
            let s = &self.slots[i];
            if !s.alive.load(Ordering::Acquire) {
                continue;
            }
            let Some(v) = s.entry.lock().clone() else {
                continue;
            };
            if !ready(&v) {
                continue;
            }
            // Move the cursor only forward from where we started: a CPU that
            // picked meanwhile has moved it already, and we keep its turn.
            let _ = self.last_schedule_index.compare_exchange(
                start,
                i,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
            return Some((i, v));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_reuse() {
        let t = RefTable::new(4);
        assert_eq!(t.insert(10), Some(0));
        assert_eq!(t.insert(11), Some(1));
        assert_eq!(t.insert(12), Some(2));
        assert_eq!(t.insert(13), Some(3));
        assert_eq!(t.insert(14), None);
        assert_eq!(t.remove(1), Some(11));
        assert_eq!(t.remove(1), None);
        assert_eq!(t.len(), 3);
        assert_eq!(t.insert(15), Some(1));
        let mut e = t.entries();
        e.sort();
        assert_eq!(e, [10, 12, 13, 15]);
        assert_eq!(t.remove(99), None);
    }

    #[test]
    fn round_robin_never_repeats_while_others_are_ready() {
        let t = RefTable::new(8);
        for v in [1, 2, 3] {
            t.insert(v);
        }
        let picks: Vec<i32> = (0..6).map(|_| t.pick_next(|_| true).unwrap().1).collect();
        assert_eq!(picks, [1, 2, 3, 1, 2, 3]);
        // Only 2 and 3 ready: they alternate.
        let picks: Vec<i32> = (0..4)
            .map(|_| t.pick_next(|&v| v != 1).unwrap().1)
            .collect();
        assert_eq!(picks, [2, 3, 2, 3]);
        assert!(t.pick_next(|_| false).is_none());
        let empty: RefTable<i32> = RefTable::new(0);
        assert!(empty.pick_next(|_| true).is_none());
    }

    #[test]
    fn concurrent_inserts_get_distinct_slots() {
        let t = std::sync::Arc::new(RefTable::new(64));
        let hs: Vec<_> = (0..4)
            .map(|k| {
                let t = t.clone();
                std::thread::spawn(move || {
                    (0..16)
                        .map(|j| t.insert(k * 16 + j).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<usize> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort();
        assert_eq!(all, (0..64).collect::<Vec<_>>());
        assert_eq!(t.insert(0), None);
    }
}
