//! The kernel heap: `linked_list_allocator` behind an interrupt-disabling spinlock.
//!
//! The crate's own `LockedHeap` spins without disabling interrupts, which
//! would deadlock if an interrupt handler allocated while its CPU held the
//! heap lock; wrapping the plain `Heap` in our `SpinLock` avoids that.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

use linked_list_allocator::Heap;

use crate::sync::SpinLock;

struct KernelHeap(SpinLock<Heap>);

#[global_allocator]
static HEAP: KernelHeap = KernelHeap(SpinLock::new("heap", Heap::empty()));

/// Hands `size` bytes at `start` to the heap.
///
/// # Safety
/// The range must be unused, writable memory that stays valid forever.
pub unsafe fn init(start: u64, size: usize) {
    // SAFETY: forwarded to the caller.
    unsafe { HEAP.0.lock().init(start as *mut u8, size) };
}

/// Bytes of kernel heap in use and its total size.
pub fn usage() -> (usize, usize) {
    let heap = HEAP.0.lock();
    (heap.used(), heap.size())
}

// SAFETY: the linked-list heap returns disjoint blocks of at least the
// requested layout; the lock serialises all access.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.0
            .lock()
            .allocate_first_fit(layout)
            .map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let Some(p) = NonNull::new(ptr) {
            // SAFETY: ptr came from alloc() with this layout (GlobalAlloc contract).
            unsafe { self.0.lock().deallocate(p, layout) };
        }
    }
}
