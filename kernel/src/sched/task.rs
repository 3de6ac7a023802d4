//! A task's scheduling word: whether it is queued, where, for which group,
//! and the generation of its slot.
//!
//! Task slots are a stable pool (the process table's slots): a slot is
//! reused by a later process, so a CPU that read "slot 7 is queued" and
//! then tries to claim it may meet a different process by then. The word
//! packs the slot's generation (bumped when the slot is retired), the
//! group the task was queued for and its home CPU next to the state, and
//! a claim is one compare-exchange of the whole word against what was
//! read: it succeeds only if the very same queueing is still there, so a
//! retired-and-reused slot (new generation), a task re-queued for another
//! group or CPU, or one another CPU claimed first all make it fail (no ABA).
//!
//! Layout (low to high): state 8 bits, home CPU 8, group 16, generation 32.
//!
//! Each word also carries an opaque payload (the kernel stores a counted
//! process reference in it): written by the enqueuer before the Release
//! store of `QUEUED`, taken by the one CPU whose claim (Acquire) won.

use super::atomic::{AtomicU64, AtomicUsize, Ordering};

const IDLE: u64 = 0;
const QUEUED: u64 = 1;

/// A decoded word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word(u64);

impl Word {
    fn new(state: u64, home: usize, group: usize, gen: u32) -> Word {
        debug_assert!(home < 256 && group < 65536);
        Word(state | (home as u64) << 8 | (group as u64) << 16 | u64::from(gen) << 32)
    }
    pub fn queued(self) -> bool {
        self.0 & 0xff == QUEUED
    }
    pub fn home(self) -> usize {
        (self.0 >> 8 & 0xff) as usize
    }
    pub fn group(self) -> usize {
        (self.0 >> 16 & 0xffff) as usize
    }
    pub fn gen(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

/// One task slot.
pub struct Task {
    word: AtomicU64,
    payload: AtomicUsize,
}

impl Default for Task {
    fn default() -> Self {
        Self::new()
    }
}

impl Task {
    pub fn new() -> Task {
        Task {
            word: AtomicU64::new(0),
            payload: AtomicUsize::new(0),
        }
    }

    pub fn load(&self) -> Word {
        Word(self.word.load(Ordering::Acquire))
    }

    /// Marks the task queued for `group` on `home`, carrying `payload`.
    /// Only the task's owner calls this (the kernel: holding its
    /// `sched_lock`, with the task not queued), so a plain store suffices.
    pub fn queue(&self, group: usize, home: usize, payload: usize) {
        let cur = self.load();
        assert!(!cur.queued(), "task queued twice");
        self.payload.store(payload, Ordering::Relaxed);
        self.word.store(
            Word::new(QUEUED, home, group, cur.gen()).0,
            Ordering::Release,
        );
    }

    /// Takes the queueing `seen` if it is still the current one; the payload
    /// on success. `seen` must be a queued word read from this task.
    pub fn claim(&self, seen: Word) -> Option<usize> {
        debug_assert!(seen.queued());
        let idle = Word::new(IDLE, seen.home(), seen.group(), seen.gen());
        self.word
            .compare_exchange(seen.0, idle.0, Ordering::AcqRel, Ordering::Relaxed)
            .ok()?;
        Some(self.payload.swap(0, Ordering::Relaxed))
    }

    /// Ends this use of the slot: a later queueing carries a new generation.
    /// The task must not be queued.
    pub fn retire(&self) {
        let cur = self.load();
        assert!(!cur.queued(), "retiring a queued task");
        self.word.store(
            Word::new(IDLE, 0, 0, cur.gen().wrapping_add(1)).0,
            Ordering::Release,
        );
    }
}
