//! Physical frame allocator: a bitmap over all of RAM, one bit per 4 KiB frame.
//!
//! A set bit means "free". Single frames come from a next-fit scan that
//! starts where the last allocation ended; runs of frames (kernel stacks,
//! the initial heap) come from a first-fit scan that skips full words.
//! Freeing an already free frame is a kernel bug and is reported, not
//! ignored. (A scan per frame cost 0.5 s per kernel stack under this
//! machine's KVM, where every guest memory access is slow; word skips fixed it.)
//!
//! This file is pure logic over a borrowed bitmap so it is unit-tested on the
//! host; `mm::mod` wraps one instance in a spinlock and feeds it the boot
//! memory map.

/// Size of one physical frame.
pub const FRAME_SIZE: u64 = 4096;

/// Bitmap allocator over frames `[0, frames)` (frame n is physical address n * 4 KiB).
pub struct FrameBitmap<'a> {
    bits: &'a mut [u64],
    frames: u64,
    free: u64,
    next: u64,
}

/// A frame operation the allocator refused.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The address is not frame-aligned or lies outside the bitmap.
    OutOfRange(u64),
    /// The frame was already free (double free).
    NotAllocated(u64),
}

impl<'a> FrameBitmap<'a> {
    /// Number of `u64` words a bitmap for `frames` frames needs.
    pub const fn words_for(frames: u64) -> usize {
        frames.div_ceil(64) as usize
    }

    /// An allocator with every frame marked used; call [`Self::add_free_range`]
    /// for each usable region.
    pub fn new(bits: &'a mut [u64], frames: u64) -> Self {
        assert!(
            bits.len() >= Self::words_for(frames),
            "frame bitmap too small"
        );
        bits.iter_mut().for_each(|w| *w = 0);
        FrameBitmap {
            bits,
            frames,
            free: 0,
            next: 0,
        }
    }

    /// Marks the whole frames inside `[start, end)` free. Partial frames at
    /// either end are left out; frames beyond the bitmap are ignored.
    pub fn add_free_range(&mut self, start: u64, end: u64) {
        let first = start.div_ceil(FRAME_SIZE);
        let last = (end / FRAME_SIZE).min(self.frames);
        self.set_range(first, last, true);
    }

    /// Marks the frames overlapping `[start, end)` used (for example the kernel image).
    pub fn reserve_range(&mut self, start: u64, end: u64) {
        let first = start / FRAME_SIZE;
        let last = end.div_ceil(FRAME_SIZE).min(self.frames);
        self.set_range(first, last, false);
    }

    /// Sets frames `[first, last)` free or used a word at a time (a bit at a
    /// time took seconds for a few GiB under this machine's slow KVM),
    /// keeping the free count exact.
    fn set_range(&mut self, first: u64, last: u64, free: bool) {
        let mut f = first;
        while f < last {
            let (word, mask, next) = word_span(f, last);
            let before = self.bits[word];
            let after = if free { before | mask } else { before & !mask };
            self.bits[word] = after;
            let (b, a) = (
                u64::from(before.count_ones()),
                u64::from(after.count_ones()),
            );
            if free {
                self.free += a - b;
            } else {
                self.free -= b - a;
            }
            f = next;
        }
    }

    /// Frames currently free.
    pub fn free_frames(&self) -> u64 {
        self.free
    }

    /// Frames the bitmap covers (usable or not).
    pub fn total_frames(&self) -> u64 {
        self.frames
    }

    /// Allocates one frame and returns its physical address.
    pub fn alloc(&mut self) -> Option<u64> {
        if self.free == 0 {
            return None;
        }
        let words = self.bits.len();
        let start_word = (self.next / 64) as usize;
        for i in 0..=words {
            let w = (start_word + i) % words;
            let word = self.bits[w];
            if word != 0 {
                let bit = word.trailing_zeros() as u64;
                let frame = w as u64 * 64 + bit;
                if frame >= self.frames {
                    continue;
                }
                self.set(frame, false);
                self.free -= 1;
                self.next = frame + 1;
                return Some(frame * FRAME_SIZE);
            }
        }
        None
    }

    /// Allocates `count` physically contiguous frames aligned to `align_frames`
    /// frames (a power of two) and returns the first one's address.
    pub fn alloc_contiguous(&mut self, count: u64, align_frames: u64) -> Option<u64> {
        if count == 0 || count > self.free || !align_frames.is_power_of_two() {
            return None;
        }
        let mut start = 0;
        while start + count <= self.frames {
            // Skip the rest of a word with no free frame in one step.
            let rest = self.bits[(start / 64) as usize] >> (start % 64);
            if rest == 0 {
                start = (start / 64 + 1) * 64;
                start = start.next_multiple_of(align_frames);
                continue;
            }
            start = (start + u64::from(rest.trailing_zeros())).next_multiple_of(align_frames);
            if start + count > self.frames {
                break;
            }
            match self.first_used(start, start + count) {
                None => {
                    self.set_range(start, start + count, false);
                    return Some(start * FRAME_SIZE);
                }
                Some(used) => start = (used + 1).next_multiple_of(align_frames),
            }
        }
        None
    }

    /// Returns the frame at `addr` to the pool.
    pub fn free(&mut self, addr: u64) -> Result<(), FrameError> {
        if !addr.is_multiple_of(FRAME_SIZE) || addr / FRAME_SIZE >= self.frames {
            return Err(FrameError::OutOfRange(addr));
        }
        let frame = addr / FRAME_SIZE;
        if self.is_free(frame) {
            return Err(FrameError::NotAllocated(addr));
        }
        self.set(frame, true);
        self.free += 1;
        Ok(())
    }

    /// The first used frame in `[first, last)`, checking whole words at once
    /// (a frame at a time cost seconds under this machine's KVM, where every
    /// guest kernel instruction is emulated).
    fn first_used(&self, first: u64, last: u64) -> Option<u64> {
        let mut f = first;
        while f < last {
            let (word, mask, next) = word_span(f, last);
            let used = !self.bits[word] & mask;
            if used != 0 {
                return Some(word as u64 * 64 + u64::from(used.trailing_zeros()));
            }
            f = next;
        }
        None
    }

    fn is_free(&self, frame: u64) -> bool {
        self.bits[(frame / 64) as usize] & (1 << (frame % 64)) != 0
    }

    fn set(&mut self, frame: u64, free: bool) {
        let word = &mut self.bits[(frame / 64) as usize];
        if free {
            *word |= 1 << (frame % 64);
        } else {
            *word &= !(1 << (frame % 64));
        }
    }
}

/// The bitmap word holding frame `f`, the mask of the frames of `[f, last)`
/// in it, and the first frame after that word's part of the range.
fn word_span(f: u64, last: u64) -> (usize, u64, u64) {
    let word = f / 64;
    let lo = f % 64;
    let hi = (last - word * 64).min(64);
    let mask = if hi - lo == 64 {
        u64::MAX
    } else {
        ((1u64 << (hi - lo)) - 1) << lo
    };
    (word as usize, mask, word * 64 + hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn bitmap(frames: u64) -> Vec<u64> {
        vec![0; FrameBitmap::words_for(frames)]
    }

    #[test]
    fn allocates_only_free_ranges_and_never_twice() {
        let mut bits = bitmap(1000);
        let mut a = FrameBitmap::new(&mut bits, 1000);
        a.add_free_range(0x10_0000, 0x20_0000); // frames 256..512
        a.add_free_range(0x30_0800, 0x31_0000); // partial first frame left out
        assert_eq!(a.free_frames(), 256 + 15);
        let mut seen = HashSet::new();
        while let Some(f) = a.alloc() {
            assert_eq!(f % FRAME_SIZE, 0);
            let in_a = (0x10_0000..0x20_0000).contains(&f);
            let in_b = (0x30_1000..0x31_0000).contains(&f);
            assert!(in_a || in_b, "frame {f:#x} outside the free ranges");
            assert!(seen.insert(f), "frame {f:#x} handed out twice");
        }
        assert_eq!(seen.len(), 271);
        assert_eq!(a.free_frames(), 0);
    }

    #[test]
    fn reserve_removes_frames_and_free_returns_them() {
        let mut bits = bitmap(64);
        let mut a = FrameBitmap::new(&mut bits, 64);
        a.add_free_range(0, 64 * FRAME_SIZE);
        a.reserve_range(FRAME_SIZE, 3 * FRAME_SIZE + 1);
        assert_eq!(a.free_frames(), 61);
        let f = a.alloc().unwrap();
        assert_eq!(f, 0);
        assert_eq!(a.alloc().unwrap(), 4 * FRAME_SIZE);
        a.free(f).unwrap();
        assert_eq!(a.free(f), Err(FrameError::NotAllocated(f)));
        assert_eq!(a.free(7), Err(FrameError::OutOfRange(7)));
        assert_eq!(
            a.free(64 * FRAME_SIZE),
            Err(FrameError::OutOfRange(64 * FRAME_SIZE))
        );
    }

    #[test]
    fn contiguous_runs_respect_alignment_and_holes() {
        let mut bits = bitmap(256);
        let mut a = FrameBitmap::new(&mut bits, 256);
        a.add_free_range(0, 256 * FRAME_SIZE);
        a.reserve_range(10 * FRAME_SIZE, 11 * FRAME_SIZE);
        let run = a.alloc_contiguous(16, 16).unwrap();
        assert_eq!(run, 16 * FRAME_SIZE);
        let run2 = a.alloc_contiguous(8, 1).unwrap();
        assert_eq!(run2, 0);
        assert_eq!(a.alloc_contiguous(300, 1), None);
        assert_eq!(
            a.alloc_contiguous(4, 3),
            None,
            "alignment must be a power of two"
        );
        assert_eq!(a.free_frames(), 256 - 1 - 16 - 8);
    }

    #[test]
    fn ranges_match_a_frame_by_frame_model() {
        let mut bits = bitmap(1000);
        let mut a = FrameBitmap::new(&mut bits, 1000);
        let mut model = vec![false; 1000];
        let ops: [(bool, u64, u64); 6] = [
            (true, 3, 700),
            (false, 60, 64),
            (false, 0, 5),
            (true, 64, 129),
            (false, 128, 999),
            (true, 990, 1000),
        ];
        for (free, lo, hi) in ops {
            if free {
                a.add_free_range(lo * FRAME_SIZE, hi * FRAME_SIZE);
            } else {
                a.reserve_range(lo * FRAME_SIZE, hi * FRAME_SIZE);
            }
            for m in &mut model[lo as usize..hi as usize] {
                *m = free;
            }
            assert_eq!(a.free_frames(), model.iter().filter(|&&m| m).count() as u64);
        }
        for (f, &m) in model.iter().enumerate() {
            assert_eq!(a.is_free(f as u64), m, "frame {f}");
        }
    }

    #[test]
    fn exhaustion_returns_none() {
        let mut bits = bitmap(3);
        let mut a = FrameBitmap::new(&mut bits, 3);
        a.add_free_range(0, 10 * FRAME_SIZE);
        assert_eq!(a.free_frames(), 3);
        assert!(a.alloc().is_some() && a.alloc().is_some() && a.alloc().is_some());
        assert_eq!(a.alloc(), None);
        assert_eq!(a.alloc_contiguous(1, 1), None);
    }
}
