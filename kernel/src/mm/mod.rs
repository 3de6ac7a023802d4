//! Physical memory: the frame allocator behind a spinlock, kernel stacks and the heap.
//!
//! [`init`] takes the firmware's RAM regions, keeps everything below 1 MiB
//! (real-mode trampoline, firmware data) and the kernel image out of the
//! pool, places the frame bitmap in the first region large enough, and
//! carves the kernel heap out of the rest. Processes' kernel stacks have
//! guard pages (`kstack.rs`); the per-CPU boot and IST stacks are
//! physically contiguous runs reached through the direct map. All are
//! zeroed when allocated. Besides leaving no earlier owner's bytes, that
//! matters under TCG: QEMU keeps a frame that last held executed code
//! (an exited process's text) on its code-page list until its translated
//! blocks are written over, and every store to such a frame takes QEMU's
//! slow path. A stack writes only its top, so an unzeroed stack on old
//! text frames made every push slow: pipe round trips of ~900K cycles
//! instead of ~100K, fork + exit + wait twice as long, and the "bimodal"
//! boots seen before. Zeroing 32 KiB costs about 2 % of a fork under KVM.
//! [`page::Page`] lends single frames out as kernel buffers.

pub mod account;
pub mod frame;
pub mod heap;
pub mod kstack;
pub mod page;
pub mod pagebuf;
pub mod refs;
pub mod user;
pub mod uvm;

use frame::{FrameBitmap, FRAME_SIZE};

use crate::arch::x86_64::boot::MemoryRegion;
use crate::arch::x86_64::paging::phys_to_virt;
use crate::param::{HEAP_MAX_BYTES, HEAP_MIN_BYTES};
use crate::sync::SpinLock;

static FRAMES: SpinLock<Option<FrameBitmap<'static>>> = SpinLock::new("frames", None);
static REFS: spin::Once<refs::Refs> = spin::Once::new();
static USABLE_BYTES: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Lowest physical address handed out (below: trampoline and firmware).
const LOW_MEMORY_END: u64 = 1 << 20;

/// Builds the frame allocator and the heap; returns the end of the highest RAM region.
pub fn init(regions: &[MemoryRegion], kernel_phys_end: u64) -> u64 {
    let phys_end = regions
        .iter()
        .map(|r| r.end)
        .max()
        .expect("firmware reported no RAM");
    let frames = phys_end / FRAME_SIZE;
    let words = FrameBitmap::words_for(frames);
    let bitmap_bytes = (words as u64 * 8).next_multiple_of(FRAME_SIZE);
    let reserved_end = kernel_phys_end
        .next_multiple_of(FRAME_SIZE)
        .max(LOW_MEMORY_END);
    let bitmap_phys = regions
        .iter()
        .map(|r| MemoryRegion {
            start: r.start.max(reserved_end).next_multiple_of(FRAME_SIZE),
            end: r.end,
        })
        .find(|r| r.end > r.start && r.end - r.start >= bitmap_bytes && r.end <= 4 << 30)
        .expect("no RAM region can hold the frame bitmap")
        .start;
    // SAFETY: the bitmap lies in usable RAM above the kernel image, inside the
    // first 4 GiB that the boot page tables map; it is reserved below, so it
    // is never handed out, and lives for the rest of the kernel's life.
    let bits =
        unsafe { core::slice::from_raw_parts_mut(phys_to_virt(bitmap_phys) as *mut u64, words) };
    let mut alloc = FrameBitmap::new(bits, frames);
    for r in regions {
        alloc.add_free_range(r.start, r.end);
    }
    alloc.reserve_range(0, reserved_end);
    alloc.reserve_range(bitmap_phys, bitmap_phys + bitmap_bytes);
    USABLE_BYTES.store(
        alloc.free_frames() * FRAME_SIZE,
        core::sync::atomic::Ordering::Relaxed,
    );

    let heap_bytes = (alloc.free_frames() * FRAME_SIZE / 8).clamp(HEAP_MIN_BYTES, HEAP_MAX_BYTES);
    let heap_phys = alloc
        .alloc_contiguous(heap_bytes / FRAME_SIZE, 1)
        .expect("not enough contiguous RAM for the kernel heap");
    *FRAMES.lock() = Some(alloc);
    // SAFETY: the run was just taken from the frame allocator and is used only by the heap.
    unsafe { heap::init(phys_to_virt(heap_phys), heap_bytes as usize) };
    REFS.call_once(|| refs::Refs::new(frames as usize));
    phys_end
}

/// The sharing counts of user frames (copy-on-write fork).
pub fn refs() -> &'static refs::Refs {
    REFS.get().expect("mm::init not run")
}

/// Drops one address space's mapping of user frame `phys` (PTE `flags`),
/// freeing the frame when it was the last. A copy-on-write mapping of a
/// frame still shared held a promise of the copy it might have needed
/// (see `uvm.rs`): that promise is given back.
pub fn release_user_frame(phys: u64, flags: u64) {
    if refs().release(phys) {
        free_frame(phys);
    } else if flags & crate::arch::x86_64::paging::PTE_COW != 0 {
        uncommit(1);
    }
}

/// User heap pages promised by `sbrk` but not yet touched (so not yet
/// taken from the allocator): what [`commit`] must leave room for.
static COMMITTED: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// Promises `pages` frames to a lazily mapped heap: `ENOMEM` unless the
/// free frames cover them on top of every earlier promise (strict
/// accounting: a touch of promised memory finds a frame unless the kernel
/// itself ran the machine dry).
pub fn commit(pages: u64) -> Result<(), berth_abi::errno::Errno> {
    use core::sync::atomic::Ordering;
    // What nothing may promise: room for stacks, page tables, kernel
    // stacks and pipes once the heaps have promised the rest.
    let free = free_frames().saturating_sub(unpromised_reserve());
    COMMITTED
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |c| {
            let total = c.checked_add(pages)?;
            (total <= free).then_some(total)
        })
        .map(drop)
        .map_err(|_| berth_abi::errno::Errno::ENOMEM)
}

/// Frames [`commit`] never promises: 1/64 of RAM, at least 256 (1 MiB).
fn unpromised_reserve() -> u64 {
    (usable_bytes() / FRAME_SIZE / 64).max(256)
}

/// Takes back `pages` promised by [`commit`] (touched, or given back).
pub fn uncommit(pages: u64) {
    let old = COMMITTED.fetch_sub(pages, core::sync::atomic::Ordering::AcqRel);
    assert!(old >= pages, "uncommitted {pages} of {old} committed pages");
}

/// Pages promised and not yet touched.
pub fn committed() -> u64 {
    COMMITTED.load(core::sync::atomic::Ordering::Acquire)
}

/// Bytes of RAM the allocator managed at boot (before the heap took its share).
pub fn usable_bytes() -> u64 {
    USABLE_BYTES.load(core::sync::atomic::Ordering::Relaxed)
}

/// Free frames right now.
pub fn free_frames() -> u64 {
    FRAMES.lock().as_ref().map_or(0, |a| a.free_frames())
}

/// One frame (physical address), not zeroed; `None` also when the free
/// frames are all promised ([`commit`]): page tables, kernel stacks,
/// pipes and unpromised user pages never take what a heap was promised.
pub fn alloc_frame() -> Option<u64> {
    let mut frames = FRAMES.lock();
    let a = frames.as_mut()?;
    if a.free_frames() <= committed() {
        return None;
    }
    a.alloc()
}

/// A frame for memory already promised (a heap page's first touch, a
/// copy-on-write copy): may take what [`commit`] set aside. The caller
/// gives back the promise once it holds the frame.
pub fn alloc_promised_frame() -> Option<u64> {
    FRAMES.lock().as_mut()?.alloc()
}

/// Returns a frame from [`alloc_frame`] or [`alloc_kernel_stack`].
pub fn free_frame(phys: u64) {
    if let Some(a) = FRAMES.lock().as_mut() {
        if let Err(e) = a.free(phys) {
            panic!("free_frame({phys:#x}): {e:?}");
        }
    }
}

/// A kernel stack of `pages` contiguous pages; returns its top (direct-map address).
pub fn alloc_kernel_stack(pages: u64) -> Option<u64> {
    let base = FRAMES.lock().as_mut()?.alloc_contiguous(pages, 1)?;
    // SAFETY: fresh frames from the allocator, reached through the direct map.
    unsafe {
        core::ptr::write_bytes(
            phys_to_virt(base) as *mut u8,
            0,
            (pages * FRAME_SIZE) as usize,
        )
    };
    Some(phys_to_virt(base) + pages * FRAME_SIZE)
}
