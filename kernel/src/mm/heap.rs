//! The kernel heap: `linked_list_allocator` behind an interrupt-disabling spinlock.
//!
//! The crate's own `LockedHeap` spins without disabling interrupts, which
//! would deadlock if an interrupt handler allocated while its CPU held the
//! heap lock; wrapping the plain `Heap` in our `SpinLock` avoids that.
//!
//! Code that must work with a full heap (sleep and wakeup) runs under a
//! [`NoAlloc`] guard: an allocation on that CPU while one is live panics,
//! naming the bug at once instead of when the heap happens to be full.
//!
//! The heap is never full for users' sake: the system calls that make
//! kernel objects users choose the number of (processes, pipes, open
//! files, containers, exec images) first ask [`check_room`], which says
//! `ENOMEM` once less than [`reserve`] is free. That reserve is what the
//! kernel needs to keep running with users at their limit (exits, reaps,
//! interrupts, the shell's next command). Found by `usertests pipe_bomb`
//! on a 128 MiB machine after a trace had taken 4 MiB: an infallible
//! allocation failed and the kernel panicked.

use core::alloc::{GlobalAlloc, Layout};
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};

use linked_list_allocator::Heap;

use crate::arch::x86_64::percpu;
use crate::param::MAX_CPUS;
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

/// Heap bytes that user-driven allocations must leave free: a sixteenth
/// of the heap, at least 256 KiB.
pub fn reserve(size: usize) -> usize {
    (size / 16).max(256 << 10)
}

/// `ENOMEM` when the heap is down to its [`reserve`]: for the calls that
/// create kernel objects on a user's behalf.
pub fn check_room() -> Result<(), berth_abi::errno::Errno> {
    let (used, size) = usage();
    if size.saturating_sub(used) < reserve(size) {
        Err(berth_abi::errno::Errno::ENOMEM)
    } else {
        Ok(())
    }
}

/// Bytes of kernel heap in use and its total size.
pub fn usage() -> (usize, usize) {
    let heap = HEAP.0.lock();
    (heap.used(), heap.size())
}

/// Live [`NoAlloc`] guards on each CPU.
#[allow(clippy::declare_interior_mutable_const)]
const NONE: AtomicU32 = AtomicU32::new(0);
static NO_ALLOC: [AtomicU32; MAX_CPUS] = [NONE; MAX_CPUS];

/// While alive, any heap allocation on this CPU panics. Keeps interrupts
/// off (an interrupt handler may allocate, and the guard must not follow a
/// process to another CPU), so it cannot be held across a switch.
pub struct NoAlloc {
    _not_send: PhantomData<*const ()>,
}

impl NoAlloc {
    #[allow(clippy::new_without_default)]
    pub fn new() -> NoAlloc {
        percpu::push_irq_off();
        NO_ALLOC[percpu::cpu_index()].fetch_add(1, Ordering::Relaxed);
        NoAlloc {
            _not_send: PhantomData,
        }
    }
}

impl Drop for NoAlloc {
    fn drop(&mut self) {
        NO_ALLOC[percpu::cpu_index()].fetch_sub(1, Ordering::Relaxed);
        percpu::pop_irq_off();
    }
}

fn check_allowed() {
    percpu::push_irq_off();
    let forbidden = NO_ALLOC[percpu::cpu_index()].load(Ordering::Relaxed) != 0;
    percpu::pop_irq_off();
    if forbidden {
        panic!("kernel heap allocation under NoAlloc (sleep/wakeup must not allocate)");
    }
}

// SAFETY: the linked-list heap returns disjoint blocks of at least the
// requested layout; the lock serialises all access.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check_allowed();
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
