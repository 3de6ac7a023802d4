//! Sharing counts of user frames, for copy-on-write `fork`.
//!
//! One counter per physical frame: how many address spaces map it besides
//! the first (0: private). `fork` shares every user page ([`Refs::share`])
//! instead of copying it; a page leaves an address space through
//! [`Refs::release`], which says whether that was its last mapping (then
//! the caller frees the frame). A write fault on a shared page copies it
//! unless the count shows the faulting space is its only mapper by now.
//!
//! Lock-free: counts move by compare-and-swap, so two spaces dropping their
//! last two mappings at once cannot both (or neither) free the frame.
//! Kernel frames (tables, stacks, buffers) never get a count.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicU32, Ordering};

/// Frame size the counters are indexed by.
const FRAME: u64 = 4096;

pub struct Refs {
    extra: Box<[AtomicU32]>,
}

impl Refs {
    /// Counters for frames `[0, frames)`, every one private.
    pub fn new(frames: usize) -> Refs {
        Refs {
            extra: (0..frames).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    fn counter(&self, pa: u64) -> &AtomicU32 {
        self.extra
            .get((pa / FRAME) as usize)
            .unwrap_or_else(|| panic!("frame {pa:#x} outside RAM"))
    }

    /// One more address space maps frame `pa`.
    pub fn share(&self, pa: u64) {
        let old = self.counter(pa).fetch_add(1, Ordering::AcqRel);
        assert!(old < u32::MAX - 1, "frame {pa:#x} shared too often");
    }

    /// One address space stops mapping `pa`; true if it was the last (the
    /// caller frees the frame).
    pub fn release(&self, pa: u64) -> bool {
        let c = self.counter(pa);
        let mut n = c.load(Ordering::Acquire);
        loop {
            if n == 0 {
                return true;
            }
            match c.compare_exchange_weak(n, n - 1, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return false,
                Err(now) => n = now,
            }
        }
    }

    /// Whether `pa` is mapped by more than one address space.
    pub fn shared(&self, pa: u64) -> bool {
        self.counter(pa).load(Ordering::Acquire) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_release_frees() {
        let r = Refs::new(4);
        let pa = 2 * FRAME;
        assert!(!r.shared(pa));
        r.share(pa);
        r.share(pa);
        assert!(r.shared(pa));
        assert!(!r.release(pa));
        assert!(!r.release(pa));
        assert!(!r.shared(pa));
        assert!(r.release(pa));
        // Other frames are untouched.
        assert!(r.release(FRAME));
    }

    #[test]
    #[should_panic(expected = "outside RAM")]
    fn a_frame_outside_ram_is_a_bug() {
        Refs::new(1).share(FRAME);
    }

    #[test]
    fn concurrent_releases_free_exactly_once() {
        use std::sync::Arc;
        for _ in 0..200 {
            let r = Arc::new(Refs::new(1));
            r.share(0);
            r.share(0);
            let frees: usize = (0..3)
                .map(|_| {
                    let r = r.clone();
                    std::thread::spawn(move || usize::from(r.release(0)))
                })
                .collect::<std::vec::Vec<_>>()
                .into_iter()
                .map(|h| h.join().unwrap())
                .sum();
            assert_eq!(frees, 1);
        }
    }
}
