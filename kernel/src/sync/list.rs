//! An intrusive FIFO list of `Arc<T>` that never allocates: the links live
//! in the element itself (a [`Link`] field), so putting an element on a
//! list and taking it off only writes pointers. Wait queues use it for
//! sleeping processes (`proc::sched::Waiters`).
//!
//! What it owns: an element on a list is held by exactly one counted
//! reference, made with `Arc::into_raw` when it is pushed and turned back
//! into an `Arc` (`from_raw`) when it is taken off, so a linked element
//! cannot be freed and the list only ever follows pointers to live
//! elements. The list itself is plain data: whoever has `&mut ArcList`
//! (in the kernel, the holder of the spinlock around it) may touch the
//! links of its elements, and nobody else.
//!
//! An element is on at most one list at a time. Its `linked` flag says
//! whether it is on one; only the list that set it clears it (Release,
//! after its last write to the links) and a push claims it with a
//! compare-exchange (Acquire), so the links pass from one list's lock to
//! the next without a race even when the two lists have different locks.
//! Pushing an element that is already linked is a bug and panics.
//!
//! Removing a given element ([`ArcList::remove`]) is O(1) — a process woken
//! by `kill` takes itself off its queue without a scan — but the list cannot
//! check that a linked element is on *it* rather than on another list, so
//! that call is `unsafe` and the caller vouches for it.
//!
//! Each push is numbered; [`ArcList::mark`] and [`ArcList::pop_front_before`]
//! let a waker take off only what was queued when it started, one element per
//! lock hold, so it can let the lock go between elements (to take each
//! process's `sched_lock`, which ranks above the queue's lock) and still
//! finish even if the woken keep queueing again.

use alloc::sync::Arc;
use core::cell::Cell;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};

/// The links an element of an [`ArcList`] carries.
pub struct Link<T> {
    /// On a list. Set by a push, cleared by the list that took it off.
    linked: AtomicBool,
    prev: Cell<*const T>,
    next: Cell<*const T>,
    /// Push number on its list.
    seq: Cell<u64>,
}

// SAFETY: the Cell fields are read and written only through `&mut ArcList`
// of the list that holds the element (see the module header: the `linked`
// flag hands them from list to list with Acquire/Release), so they are never
// accessed from two CPUs at once; `linked` is an atomic.
unsafe impl<T> Sync for Link<T> {}
// SAFETY: the raw pointers are only meaningful to the list holding the
// element; moving a `Link` between threads moves no ownership.
unsafe impl<T> Send for Link<T> {}

impl<T> Default for Link<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Link<T> {
    pub const fn new() -> Self {
        Link {
            linked: AtomicBool::new(false),
            prev: Cell::new(ptr::null()),
            next: Cell::new(ptr::null()),
            seq: Cell::new(0),
        }
    }

    /// Whether the element is on some list (a snapshot unless the caller
    /// holds the lock of the only list it could be on).
    pub fn is_linked(&self) -> bool {
        self.linked.load(Ordering::Acquire)
    }
}

/// A type whose values carry a [`Link`].
///
/// # Safety
/// `link` must return the same field of `self` on every call.
pub unsafe trait Linked: Sized {
    fn link(&self) -> &Link<Self>;
}

/// Where a list's push numbering stood (see [`ArcList::pop_front_before`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark(u64);

/// The list. See the module header for who may touch what.
pub struct ArcList<T: Linked> {
    head: *const T,
    tail: *const T,
    len: usize,
    /// Number the next push gets.
    next_seq: u64,
}

// SAFETY: the list holds `Arc<T>`s (as raw pointers); sending it sends
// those, which is sound when `Arc<T>` is `Send` (`T: Send + Sync`).
unsafe impl<T: Linked + Send + Sync> Send for ArcList<T> {}

impl<T: Linked> Default for ArcList<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Linked> ArcList<T> {
    pub const fn new() -> Self {
        ArcList {
            head: ptr::null(),
            tail: ptr::null(),
            len: 0,
            next_seq: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    /// Appends `node`, keeping its reference until it is taken off.
    ///
    /// # Panics
    /// If `node` is already on a list (this one or another).
    pub fn push_back(&mut self, node: Arc<T>) {
        let link = node.link();
        assert!(
            link.linked
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok(),
            "ArcList::push_back of an element already on a list"
        );
        // The compare-exchange made the links ours (module header).
        link.prev.set(self.tail);
        link.next.set(ptr::null());
        link.seq.set(self.next_seq);
        self.next_seq += 1;
        let raw = Arc::into_raw(node);
        if self.tail.is_null() {
            self.head = raw;
        } else {
            // SAFETY: `tail` is an element of this list, alive because the
            // list holds a reference to it, and its links are ours (&mut self).
            unsafe { (*self.tail).link().next.set(raw) };
        }
        self.tail = raw;
        self.len += 1;
    }

    /// Takes off the first element.
    pub fn pop_front(&mut self) -> Option<Arc<T>> {
        let head = self.head;
        if head.is_null() {
            return None;
        }
        // SAFETY: `head` is on this list.
        Some(unsafe { self.unlink(head) })
    }

    /// Numbering so far: elements pushed from now on come after the mark.
    pub fn mark(&self) -> Mark {
        Mark(self.next_seq)
    }

    /// Takes off the first element if it was pushed before `mark` was taken.
    pub fn pop_front_before(&mut self, mark: Mark) -> Option<Arc<T>> {
        let head = self.head;
        if head.is_null() {
            return None;
        }
        // SAFETY: `head` is on this list, so alive and its links are ours.
        if unsafe { (*head).link().seq.get() } >= mark.0 {
            return None;
        }
        // SAFETY: `head` is on this list.
        Some(unsafe { self.unlink(head) })
    }

    /// Takes `node` off this list if it is linked; returns the list's
    /// reference to it. O(1).
    ///
    /// # Safety
    /// `node` is on this list or on no list: never on another list.
    pub unsafe fn remove(&mut self, node: &T) -> Option<Arc<T>> {
        if !node.link().linked.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: linked, and by the caller's promise on this list.
        Some(unsafe { self.unlink(node) })
    }

    /// # Safety
    /// `node` is an element of this list.
    unsafe fn unlink(&mut self, node: *const T) -> Arc<T> {
        // SAFETY: elements of the list are alive (it holds a reference
        // each) and their links are ours (&mut self); likewise for the
        // neighbours read from those links.
        unsafe {
            let link = (*node).link();
            let (prev, next) = (link.prev.get(), link.next.get());
            if prev.is_null() {
                self.head = next;
            } else {
                (*prev).link().next.set(next);
            }
            if next.is_null() {
                self.tail = prev;
            } else {
                (*next).link().prev.set(prev);
            }
            link.prev.set(ptr::null());
            link.next.set(ptr::null());
            self.len -= 1;
            // Our last touch of the links: hand them back.
            link.linked.store(false, Ordering::Release);
            // The reference made by `into_raw` in push_back.
            Arc::from_raw(node)
        }
    }
}

impl<T: Linked> Drop for ArcList<T> {
    fn drop(&mut self) {
        while self.pop_front().is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    struct Node {
        id: usize,
        link: Link<Node>,
    }

    // SAFETY: always the same field.
    unsafe impl Linked for Node {
        fn link(&self) -> &Link<Node> {
            &self.link
        }
    }

    fn node(id: usize) -> Arc<Node> {
        Arc::new(Node {
            id,
            link: Link::new(),
        })
    }

    fn drain(l: &mut ArcList<Node>) -> Vec<usize> {
        core::iter::from_fn(|| l.pop_front())
            .map(|n| n.id)
            .collect()
    }

    #[test]
    fn empty() {
        let mut l: ArcList<Node> = ArcList::new();
        assert!(l.is_empty());
        assert_eq!(l.len(), 0);
        assert!(l.pop_front().is_none());
        assert!(l.pop_front_before(l.mark()).is_none());
        let n = node(1);
        // SAFETY: n is on no list.
        assert!(unsafe { l.remove(&n) }.is_none());
        assert!(!n.link.is_linked());
    }

    #[test]
    fn fifo_order_and_references() {
        let mut l = ArcList::new();
        let nodes: Vec<_> = (0..5).map(node).collect();
        for n in &nodes {
            l.push_back(n.clone());
            assert!(n.link.is_linked());
            assert_eq!(Arc::strong_count(n), 2, "the list holds one reference");
        }
        assert_eq!(l.len(), 5);
        assert_eq!(drain(&mut l), [0, 1, 2, 3, 4]);
        for n in &nodes {
            assert!(!n.link.is_linked());
            assert_eq!(
                Arc::strong_count(n),
                1,
                "taking off gives the reference back"
            );
        }
        assert!(l.is_empty());
    }

    #[test]
    fn remove_self_from_head_middle_tail_and_only() {
        for victim in 0..3 {
            let mut l = ArcList::new();
            let nodes: Vec<_> = (0..3).map(node).collect();
            for n in &nodes {
                l.push_back(n.clone());
            }
            // SAFETY: every node is on `l`.
            let got = unsafe { l.remove(&nodes[victim]) }.expect("linked");
            assert_eq!(got.id, victim);
            drop(got);
            assert_eq!(Arc::strong_count(&nodes[victim]), 1);
            assert!(!nodes[victim].link.is_linked());
            // A second removal (a woken process that was already taken off) is a no-op.
            // SAFETY: the node is on no list.
            assert!(unsafe { l.remove(&nodes[victim]) }.is_none());
            assert_eq!(l.len(), 2);
            let rest: Vec<_> = (0..3).filter(|&i| i != victim).collect();
            assert_eq!(drain(&mut l), rest);
        }
        let mut l = ArcList::new();
        let only = node(7);
        l.push_back(only.clone());
        // SAFETY: on `l`.
        assert!(unsafe { l.remove(&only) }.is_some());
        assert!(l.is_empty());
        assert!(l.pop_front().is_none());
        // The list is usable again after becoming empty by removal.
        l.push_back(only.clone());
        assert_eq!(drain(&mut l), [7]);
    }

    #[test]
    fn wake_all_takes_only_what_was_queued_before_the_mark() {
        let mut l = ArcList::new();
        let nodes: Vec<_> = (0..4).map(node).collect();
        l.push_back(nodes[0].clone());
        l.push_back(nodes[1].clone());
        l.push_back(nodes[2].clone());
        let mark = l.mark();
        // One of the earlier ones leaves by itself, and a woken one queues again.
        // SAFETY: on `l`.
        drop(unsafe { l.remove(&nodes[1]) });
        let mut woken = Vec::new();
        while let Some(n) = l.pop_front_before(mark) {
            woken.push(n.id);
            if n.id == 0 {
                l.push_back(n.clone());
                l.push_back(nodes[3].clone());
            }
        }
        assert_eq!(woken, [0, 2]);
        assert_eq!(drain(&mut l), [0, 3]);
    }

    #[test]
    fn moves_between_lists() {
        let mut a = ArcList::new();
        let mut b = ArcList::new();
        let n = node(1);
        a.push_back(n.clone());
        let n2 = a.pop_front().unwrap();
        b.push_back(n2);
        assert!(a.is_empty());
        assert_eq!(drain(&mut b), [1]);
    }

    #[test]
    #[should_panic(expected = "already on a list")]
    fn pushing_a_linked_element_panics() {
        let mut a = ArcList::new();
        let mut b = ArcList::new();
        let n = node(1);
        a.push_back(n.clone());
        b.push_back(n);
    }

    #[test]
    fn dropping_a_list_releases_its_references() {
        let n = node(1);
        {
            let mut l = ArcList::new();
            l.push_back(n.clone());
            assert_eq!(Arc::strong_count(&n), 2);
        }
        assert_eq!(Arc::strong_count(&n), 1);
        assert!(!n.link.is_linked());
    }

    /// Sleepers that queue themselves on two lists (with different locks)
    /// and take themselves off again, racing wakers that take off what was
    /// queued when they started: every reference comes back exactly once.
    #[test]
    fn concurrent_sleepers_and_wakers_keep_counts() {
        use crate::sync::SpinLock;
        use std::sync::atomic::{AtomicBool, Ordering};
        const SLEEPERS: usize = 4;
        const ROUNDS: usize = 2000;
        let lists: Arc<[SpinLock<ArcList<Node>>; 2]> = Arc::new([
            SpinLock::new("a", ArcList::new()),
            SpinLock::new("b", ArcList::new()),
        ]);
        let nodes: Vec<_> = (0..SLEEPERS).map(node).collect();
        let done = Arc::new(AtomicBool::new(false));
        let wakers: Vec<_> = (0..2)
            .map(|i| {
                let (lists, done) = (lists.clone(), done.clone());
                std::thread::spawn(move || {
                    let mut woken = 0usize;
                    while !done.load(Ordering::Relaxed) {
                        let l = &lists[i];
                        let mark = l.lock().mark();
                        while let Some(n) = l.lock().pop_front_before(mark) {
                            assert!(!n.link.is_linked());
                            woken += 1;
                        }
                        std::thread::yield_now();
                    }
                    woken
                })
            })
            .collect();
        let sleepers: Vec<_> = nodes
            .iter()
            .cloned()
            .map(|n| {
                let lists = lists.clone();
                std::thread::spawn(move || {
                    for r in 0..ROUNDS {
                        let l = &lists[(r + n.id) % 2];
                        l.lock().push_back(n.clone());
                        if r % 3 != 0 {
                            std::thread::yield_now();
                        }
                        // SAFETY: this thread puts `n` only on `l` and takes
                        // it off `l` before using another list.
                        drop(unsafe { l.lock().remove(&n) });
                        // A waker may still hold its reference for a moment;
                        // the node is on no list either way.
                        assert!(!n.link.is_linked());
                    }
                })
            })
            .collect();
        for s in sleepers {
            s.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        let woken: usize = wakers.into_iter().map(|w| w.join().unwrap()).sum();
        for l in lists.iter() {
            assert!(l.lock().is_empty());
        }
        for n in &nodes {
            assert_eq!(Arc::strong_count(n), 1);
        }
        // Not a correctness condition, but the race should have been exercised.
        std::eprintln!("wakers took off {woken} of {} queueings", SLEEPERS * ROUNDS);
    }

    /// Counts heap allocations made by this thread (tests run on several threads).
    struct CountingAlloc;
    std::thread_local!(static ALLOCS: core::cell::Cell<usize> = const { core::cell::Cell::new(0) });

    // SAFETY: forwards to the system allocator.
    unsafe impl core::alloc::GlobalAlloc for CountingAlloc {
        unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
            let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
            // SAFETY: forwarded contract.
            unsafe { std::alloc::System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
            // SAFETY: forwarded contract.
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static A: CountingAlloc = CountingAlloc;

    fn allocations_by(f: impl FnOnce()) -> usize {
        let before = ALLOCS.with(|c| c.get());
        f();
        ALLOCS.with(|c| c.get()) - before
    }

    #[test]
    fn queueing_and_waking_never_allocate() {
        let nodes: Vec<_> = (0..1000).map(node).collect();
        let mut l = ArcList::new();
        // The counter itself works (so a zero below means something).
        assert!(allocations_by(|| drop(Vec::<u8>::with_capacity(8))) > 0);
        let n = allocations_by(|| {
            for n in &nodes {
                l.push_back(n.clone());
            }
            for n in nodes.iter().step_by(3) {
                // SAFETY: every node is on `l`.
                drop(unsafe { l.remove(n) });
            }
            let mark = l.mark();
            while let Some(n) = l.pop_front_before(mark) {
                drop(n);
            }
        });
        assert_eq!(n, 0, "the list allocated");
        assert!(l.is_empty());
    }
}
