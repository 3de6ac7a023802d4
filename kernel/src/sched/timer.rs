//! A CPU's sleepers ordered by deadline: an indexed binary min-heap of
//! `(deadline, task)` with a position per task, so a tick costs
//! O(expired · log n) and cancelling a sleep (a kill) O(log n), however
//! many tasks sleep. Capacity is fixed when it is made (one entry per
//! task at most), so nothing allocates after that.
//!
//! Not synchronised itself: the kernel keeps each CPU's heap behind that
//! CPU's own small lock (interrupts off), taken by the sleeper, by its
//! CPU's tick and by a waker cancelling the sleep.

use alloc::boxed::Box;

const NOWHERE: u32 = u32::MAX;

pub struct TimerHeap {
    /// `(deadline, task)`, heap-ordered by deadline.
    heap: Box<[(u64, u32)]>,
    len: usize,
    /// Index in `heap` of each task's entry, or `NOWHERE`.
    pos: Box<[u32]>,
}

impl TimerHeap {
    /// Room for tasks `0..tasks`.
    pub fn new(tasks: usize) -> TimerHeap {
        TimerHeap {
            heap: (0..tasks).map(|_| (0, 0)).collect(),
            len: 0,
            pos: (0..tasks).map(|_| NOWHERE).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn contains(&self, task: usize) -> bool {
        self.pos.get(task).is_some_and(|&p| p != NOWHERE)
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<u64> {
        (self.len > 0).then(|| self.heap[0].0)
    }

    /// Sets `task`'s deadline (replacing an earlier one).
    pub fn insert(&mut self, task: usize, deadline: u64) {
        self.remove(task);
        let i = self.len;
        self.len += 1;
        self.put(i, (deadline, task as u32));
        self.up(i);
    }

    /// Cancels `task`'s deadline; whether it had one.
    pub fn remove(&mut self, task: usize) -> bool {
        let Some(&p) = self.pos.get(task) else {
            return false;
        };
        if p == NOWHERE {
            return false;
        }
        self.take(p as usize);
        true
    }

    /// Removes and returns the task of the earliest deadline if it is ≤ `now`.
    pub fn pop_expired(&mut self, now: u64) -> Option<usize> {
        if self.len == 0 || self.heap[0].0 > now {
            return None;
        }
        let task = self.heap[0].1 as usize;
        self.take(0);
        Some(task)
    }

    fn put(&mut self, i: usize, e: (u64, u32)) {
        self.heap[i] = e;
        self.pos[e.1 as usize] = i as u32;
    }

    fn take(&mut self, i: usize) {
        let gone = self.heap[i].1 as usize;
        self.len -= 1;
        let last = self.heap[self.len];
        self.pos[gone] = NOWHERE;
        if i < self.len {
            self.put(i, last);
            self.down(i);
            self.up(i);
        }
    }

    fn up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.heap[parent].0 <= self.heap[i].0 {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < self.len && self.heap[l].0 < self.heap[m].0 {
                m = l;
            }
            if r < self.len && self.heap[r].0 < self.heap[m].0 {
                m = r;
            }
            if m == i {
                break;
            }
            self.swap(i, m);
            i = m;
        }
    }

    fn swap(&mut self, a: usize, b: usize) {
        let (ea, eb) = (self.heap[a], self.heap[b]);
        self.put(a, eb);
        self.put(b, ea);
    }
}
