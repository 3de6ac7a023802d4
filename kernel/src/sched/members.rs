//! A group's member table: the assignment's `procReferenceTable`, with
//! `nextProcRefTableFreeIndex` (where the next insert starts looking) and
//! `lastScheduleProcRefTableIndex` (the round-robin cursor).
//!
//! Lock-free: each slot is an atomic holding a task id or `EMPTY`. Insert
//! claims an empty slot with a compare-exchange; remove stores `EMPTY`
//! back. Scans read slots one at a time and may see a member that is
//! leaving or miss one that is arriving: the scheduler then checks the
//! task's own word (`task.rs`), so a stale slot costs a failed claim, never
//! a wrong one. `high` is one past the highest slot ever used, so scans of
//! a small group stay short although the table has room for every task.
//!
//! The cursor is advanced with `fetch_add`: two CPUs picking at once start
//! at different slots, and a pick that had to skip `d` slots moves the
//! cursor `d` further, onto the slot it took, so the next pick starts just
//! past it (the original's mistake was to store the slot picked, making the
//! next pick choose it again).

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::atomic::{AtomicU32, AtomicUsize, Ordering};

const EMPTY: u32 = u32::MAX;

/// The table.
pub struct Members {
    slots: Box<[AtomicU32]>,
    /// `nextProcRefTableFreeIndex`.
    next_free_index: AtomicUsize,
    /// `lastScheduleProcRefTableIndex`: the round-robin cursor.
    cursor: AtomicUsize,
    high: AtomicUsize,
    len: AtomicUsize,
}

impl Members {
    /// A table of `n` slots.
    pub fn new(n: usize) -> Members {
        Members {
            slots: (0..n).map(|_| AtomicU32::new(EMPTY)).collect(),
            next_free_index: AtomicUsize::new(0),
            cursor: AtomicUsize::new(0),
            high: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
        }
    }

    /// Records task `t`; its slot, or `None` when every slot is taken.
    pub fn insert(&self, t: u32) -> Option<usize> {
        assert_ne!(t, EMPTY);
        let n = self.slots.len();
        let start = self.next_free_index.load(Ordering::Relaxed);
        for k in 0..n {
            let i = (start + k) % n;
            if self.slots[i]
                .compare_exchange(EMPTY, t, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                self.high.fetch_max(i + 1, Ordering::AcqRel);
                self.next_free_index.store((i + 1) % n, Ordering::Relaxed);
                self.len.fetch_add(1, Ordering::Relaxed);
                return Some(i);
            }
        }
        None
    }

    /// Empties slot `i` if it holds `t`; whether it did.
    pub fn remove(&self, i: usize, t: u32) -> bool {
        let Some(s) = self.slots.get(i) else {
            return false;
        };
        if s.compare_exchange(t, EMPTY, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return false;
        }
        self.len.fetch_sub(1, Ordering::Relaxed);
        // Reuse low slots first, as the original's free index does.
        self.next_free_index.fetch_min(i, Ordering::Relaxed);
        true
    }

    /// Members now.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A snapshot of the members' task ids.
    pub fn entries(&self) -> Vec<u32> {
        self.slots[..self.high.load(Ordering::Acquire).min(self.slots.len())]
            .iter()
            .map(|s| s.load(Ordering::Acquire))
            .filter(|&t| t != EMPTY)
            .collect()
    }

    /// Round robin: starting just past the cursor, the first member for
    /// which `take` succeeds (it is handed each member's task id in turn);
    /// the cursor moves onto the member taken.
    pub fn pick<R>(&self, mut take: impl FnMut(u32) -> Option<R>) -> Option<R> {
        let span = self.high.load(Ordering::Acquire).min(self.slots.len());
        if span == 0 {
            return None;
        }
        let start = self.cursor.fetch_add(1, Ordering::AcqRel).wrapping_add(1);
        for d in 0..span {
            let t = self.slots[start.wrapping_add(d) % span].load(Ordering::Acquire);
            if t == EMPTY {
                continue;
            }
            if let Some(r) = take(t) {
                if d > 0 {
                    self.cursor.fetch_add(d, Ordering::AcqRel);
                }
                return Some(r);
            }
        }
        None
    }
}
