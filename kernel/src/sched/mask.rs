//! A set of group numbers kept next to per-group counters: a group's bit
//! is set while its counter is above zero, so a scan looks only at groups
//! that may have work.
//!
//! The bit is a hint kept by this rule (all SeqCst): whoever moves a
//! counter 0 → 1 sets the bit after the increment; whoever moves it 1 → 0
//! clears the bit, then re-reads the counter and sets the bit again if it
//! is above zero. So a counter above zero always ends with its bit set once
//! the operations in flight finish: an increment after the re-read was a
//! 0 → 1 move whose set follows the clear. A bit may also be set for a
//! counter that is back at zero; readers check the counter.

use alloc::boxed::Box;

use super::atomic::{AtomicU32, AtomicU64, Ordering};

pub struct Mask {
    words: Box<[AtomicU64]>,
}

impl Mask {
    /// Room for `n` groups.
    pub fn new(n: usize) -> Mask {
        Mask {
            words: (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Adds one to `count`, group `g`'s counter, keeping the bit.
    pub fn increment(&self, g: usize, count: &AtomicU32) {
        if count.fetch_add(1, Ordering::SeqCst) == 0 {
            self.words[g / 64].fetch_or(1 << (g % 64), Ordering::SeqCst);
        }
    }

    /// Takes one from `count`, group `g`'s counter, keeping the bit.
    pub fn decrement(&self, g: usize, count: &AtomicU32) {
        let was = count.fetch_sub(1, Ordering::SeqCst);
        assert!(was > 0, "scheduler counter underflow");
        if was == 1 {
            self.words[g / 64].fetch_and(!(1 << (g % 64)), Ordering::SeqCst);
            if count.load(Ordering::SeqCst) > 0 {
                self.words[g / 64].fetch_or(1 << (g % 64), Ordering::SeqCst);
            }
        }
    }

    /// Calls `f` with each group whose bit is set.
    pub fn for_each(&self, mut f: impl FnMut(usize)) {
        for (w, word) in self.words.iter().enumerate() {
            let mut bits = word.load(Ordering::SeqCst);
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                f(w * 64 + b);
            }
        }
    }

    pub fn any(&self) -> bool {
        self.words.iter().any(|w| w.load(Ordering::SeqCst) != 0)
    }
}
