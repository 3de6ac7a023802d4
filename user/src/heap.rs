//! The global allocator: `linked_list_allocator` heaps on memory from `sbrk`.
//!
//! The heap starts empty at the program's initial break (the page after
//! bss) and grows when an allocation does not fit: by at least
//! [`MIN_GROWTH`], rounded to pages. Growth extends the last arena when the
//! break is still where that arena ends; when something else moved the
//! break meanwhile (the program calling `sbrk` itself), the new memory
//! becomes a new arena, so foreign uses of `sbrk` never corrupt the heap.
//! Memory is never returned to the kernel. An allocation that cannot be
//! satisfied returns null, which `alloc` turns into a panic.
//!
//! A user process has one thread, but `GlobalAlloc` must be `Sync`: a
//! spin lock around the arenas satisfies that and costs one uncontended
//! atomic swap per call.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};

use linked_list_allocator::Heap;

/// Smallest growth of the heap, in bytes.
pub const MIN_GROWTH: usize = 64 * 1024;
/// Most separate pieces of memory the heap can be made of.
pub const MAX_ARENAS: usize = 16;
const PAGE: usize = 4096;

/// Where the heap gets memory: the program break.
pub trait Break {
    /// Moves the break up by `n` bytes; returns the old break (the new memory).
    fn grow(&mut self, n: usize) -> Option<*mut u8>;
}

/// Heaps on disjoint pieces of memory from a [`Break`].
pub struct Arenas<B: Break> {
    heaps: [Heap; MAX_ARENAS],
    count: usize,
    brk: B,
}

impl<B: Break> Arenas<B> {
    /// No memory yet; the first allocation grows the break.
    pub const fn new(brk: B) -> Arenas<B> {
        Arenas {
            heaps: [const { Heap::empty() }; MAX_ARENAS],
            count: 0,
            brk,
        }
    }

    /// Number of arenas in use.
    pub fn arenas(&self) -> usize {
        self.count
    }

    /// Allocates `layout`, growing the break if needed; null on failure.
    pub fn alloc(&mut self, layout: Layout) -> *mut u8 {
        for h in &mut self.heaps[..self.count] {
            if let Ok(p) = h.allocate_first_fit(layout) {
                return p.as_ptr();
            }
        }
        match self.grow(layout) {
            Some(i) => self.heaps[i]
                .allocate_first_fit(layout)
                .map_or(ptr::null_mut(), NonNull::as_ptr),
            None => ptr::null_mut(),
        }
    }

    /// Adds memory enough for `layout`; returns the arena that got it.
    fn grow(&mut self, layout: Layout) -> Option<usize> {
        // Room for the block, worst-case alignment padding and the
        // allocator's hole headers at both ends.
        let need = layout.size().checked_add(layout.align())?.checked_add(64)?;
        let n = need.max(MIN_GROWTH).checked_next_multiple_of(PAGE)?;
        let base = self.brk.grow(n)?;
        if let Some(last) = self.count.checked_sub(1) {
            if self.heaps[last].top() == base {
                // SAFETY: [base, base + n) is fresh memory from the break,
                // directly after the last arena's end.
                unsafe { self.heaps[last].extend(n) };
                return Some(last);
            }
        }
        if self.count == MAX_ARENAS {
            // The memory stays unused: the break cannot give it back
            // without knowing nobody else grew it meanwhile.
            return None;
        }
        let i = self.count;
        // SAFETY: [base, base + n) is fresh memory from the break, owned by
        // nothing else, and it stays mapped (the heap never shrinks the break).
        unsafe { self.heaps[i].init(base, n) };
        self.count += 1;
        Some(i)
    }

    /// Frees a block `alloc` returned for `layout`.
    ///
    /// # Safety
    /// `ptr` must come from `self.alloc(layout)` and not have been freed.
    pub unsafe fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        let Some(nn) = NonNull::new(ptr) else { return };
        if let Some(h) = self.heaps[..self.count]
            .iter_mut()
            .find(|h| h.bottom() <= ptr && ptr < h.top())
        {
            // SAFETY: `ptr` lies in `h`, so `h` allocated it, with `layout` (caller's promise).
            unsafe { h.deallocate(nn, layout) };
        }
    }
}

/// The process's program break, moved with `sbrk`.
pub struct ProgramBreak;

impl Break for ProgramBreak {
    fn grow(&mut self, n: usize) -> Option<*mut u8> {
        crate::process::sbrk(isize::try_from(n).ok()?).ok()
    }
}

/// A spin lock around the arenas, so the allocator can be a `static`.
pub struct UserHeap {
    locked: AtomicBool,
    arenas: UnsafeCell<Arenas<ProgramBreak>>,
}

// SAFETY: `arenas` is only reached while `locked` is held (see `with`).
unsafe impl Sync for UserHeap {}

impl UserHeap {
    /// An empty heap.
    pub const fn new() -> UserHeap {
        UserHeap {
            locked: AtomicBool::new(false),
            arenas: UnsafeCell::new(Arenas::new(ProgramBreak)),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Arenas<ProgramBreak>) -> R) -> R {
        while self.locked.swap(true, Ordering::Acquire) {
            core::hint::spin_loop();
        }
        // SAFETY: the lock is held, so this is the only reference.
        let r = f(unsafe { &mut *self.arenas.get() });
        self.locked.store(false, Ordering::Release);
        r
    }
}

impl Default for UserHeap {
    fn default() -> UserHeap {
        UserHeap::new()
    }
}

// SAFETY: blocks come from `linked_list_allocator` heaps on memory the
// process owns for good; each is handed out once until freed.
unsafe impl GlobalAlloc for UserHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.with(|a| a.alloc(layout))
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `GlobalAlloc`'s caller passes a block from `alloc` with its layout.
        self.with(|a| unsafe { a.dealloc(ptr, layout) })
    }
}

#[cfg(not(test))]
#[global_allocator]
static HEAP: UserHeap = UserHeap::new();

/// The program's initial break: the page after bss (the linker script's `_end`).
pub fn initial_break() -> *const u8 {
    unsafe extern "C" {
        static _end: u8;
    }
    // Only the address of the linker-defined symbol is taken, never its value.
    ptr::addr_of!(_end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// A break over a fixed buffer; `skip` bytes are taken by "someone else"
    /// before the next growth.
    struct FakeBreak {
        mem: Vec<u64>,
        used: usize,
        skip: usize,
    }

    impl Break for FakeBreak {
        fn grow(&mut self, n: usize) -> Option<*mut u8> {
            let start = self.used + core::mem::take(&mut self.skip);
            if start + n > self.mem.len() * 8 {
                return None;
            }
            self.used = start + n;
            Some(self.mem.as_mut_ptr().cast::<u8>().wrapping_add(start))
        }
    }

    fn arenas(bytes: usize) -> Arenas<FakeBreak> {
        Arenas::new(FakeBreak {
            mem: alloc::vec![0; bytes / 8],
            used: 0,
            skip: 0,
        })
    }

    fn fill(p: *mut u8, n: usize, v: u8) {
        // SAFETY: the test allocated n bytes at p.
        unsafe { ptr::write_bytes(p, v, n) };
    }

    fn all(p: *mut u8, n: usize, v: u8) -> bool {
        // SAFETY: the test allocated n bytes at p.
        unsafe { core::slice::from_raw_parts(p, n) }
            .iter()
            .all(|&b| b == v)
    }

    #[test]
    fn grows_in_place_when_the_break_is_ours() {
        let mut a = arenas(1 << 20);
        let l = Layout::from_size_align(40_000, 8).unwrap();
        let blocks: Vec<*mut u8> = (0..5).map(|_| a.alloc(l)).collect();
        assert!(blocks.iter().all(|p| !p.is_null()));
        assert_eq!(a.arenas(), 1, "contiguous growth extends one arena");
        for (i, &p) in blocks.iter().enumerate() {
            fill(p, l.size(), i as u8);
        }
        for (i, &p) in blocks.iter().enumerate() {
            assert!(all(p, l.size(), i as u8), "blocks must not overlap");
        }
        // SAFETY: each block came from `alloc(l)` once.
        blocks.iter().for_each(|&p| unsafe { a.dealloc(p, l) });
        let big = Layout::from_size_align(150_000, 4096).unwrap();
        let p = a.alloc(big);
        assert!(
            !p.is_null() && (p as usize).is_multiple_of(4096),
            "freed memory is reused, aligned"
        );
    }

    #[test]
    fn a_foreign_sbrk_starts_a_new_arena() {
        let mut a = arenas(1 << 20);
        let l = Layout::from_size_align(MIN_GROWTH - 256, 16).unwrap();
        let first = a.alloc(l);
        a.brk.skip = 3 * PAGE;
        let second = a.alloc(l);
        assert!(!first.is_null() && !second.is_null());
        assert_eq!(a.arenas(), 2);
        assert!(
            second as usize >= first as usize + MIN_GROWTH + 3 * PAGE,
            "the foreign pages stay untouched"
        );
        fill(first, l.size(), 1);
        fill(second, l.size(), 2);
        // SAFETY: both came from `alloc(l)`.
        unsafe { a.dealloc(second, l) };
        assert!(all(first, l.size(), 1));
        let again = a.alloc(l);
        assert_eq!(again, second, "the second arena takes allocations back");
    }

    #[test]
    fn running_out_returns_null() {
        let mut a = arenas(256 * 1024);
        assert!(a
            .alloc(Layout::from_size_align(1 << 20, 8).unwrap())
            .is_null());
        assert!(
            !a.alloc(Layout::from_size_align(100, 8).unwrap()).is_null(),
            "a failure leaves the heap usable"
        );
        assert!(
            a.alloc(Layout::from_size_align(isize::MAX as usize - 7, 8).unwrap())
                .is_null(),
            "no overflow"
        );
    }
}
