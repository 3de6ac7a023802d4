//! Process kernel stacks with guard pages.
//!
//! A stack is `KSTACK_PAGES` frames mapped at a slot of the kernel's stack
//! region (`paging::KSTACK_REGION`), with the page below left unmapped: a
//! kernel stack overflow faults (a double fault, reported as a panic)
//! instead of writing over whatever lay below. The frames need not be
//! contiguous, and none of this touches the direct map's large pages.
//!
//! Every kernel stack is one of these: processes' stacks, and each CPU's
//! scheduler stack and interrupt stacks (`arch::x86_64::start` moves the
//! boot CPU off its boot-image stack and each AP off its trampoline stack
//! onto one as soon as the kernel's tables are loaded).
//!
//! Reuse and the TLB: freeing a stack unmaps its pages and frees its
//! frames at once, but other CPUs may still cache the old translations
//! (the process ran there). Nothing uses them: only the dead process ran
//! on that stack. A slot is therefore handed out again only after every
//! CPU has dropped its translations: fresh slots first (never mapped, so
//! cached nowhere), and when those run out, one [`tlb::flush_everywhere`]
//! (an acknowledged IPI to every CPU) makes every freed slot clean at once.
//! Only allocation (fork, in process context, interrupts on) sends it;
//! freeing, which may happen anywhere, never waits.

use alloc::vec::Vec;

use crate::arch::x86_64::paging::{self, phys_to_virt, KSTACK_REGION, KSTACK_REGION_BYTES};
use crate::arch::x86_64::tlb;
use crate::param::KSTACK_PAGES;
use crate::sync::SpinLock;

const PAGE: u64 = 4096;
/// A slot: the guard page, then the stack.
const SLOT_BYTES: u64 = (KSTACK_PAGES + 1) * PAGE;
/// Slots in use at most: every process slot, some freed ones waiting for a
/// flush, and each CPU's own three (its scheduler stack and two interrupt
/// stacks, [`alloc_for_cpu`]; never freed). Their tables are made at boot
/// ([`init`]).
const SLOTS: u64 = (LIST_ROOM + 3 * crate::param::MAX_CPUS) as u64;
const _: () = assert!(SLOTS * SLOT_BYTES <= KSTACK_REGION_BYTES);

struct Slots {
    /// Slots never handed out below this one.
    fresh: u64,
    /// Freed slots whose translations every CPU has dropped.
    clean: Vec<u64>,
    /// Freed slots some CPU may still cache, with the order they were
    /// freed in.
    dirty: Vec<(u64, u64)>,
    /// Frees so far (the next one's order).
    freed: u64,
}

static SLOTS_TABLE: SpinLock<Slots> = SpinLock::new(
    "kernel stack slots",
    Slots {
        fresh: 0,
        clean: Vec::new(),
        dirty: Vec::new(),
        freed: 0,
    },
);

/// Room for every slot's bookkeeping, taken at boot, so a stress run that
/// fills the process table leaves the heap as it found it.
const LIST_ROOM: usize = berth_abi::limits::NPROC + 128;

/// Reserves the lists' room and makes the region's page tables
/// (at boot, once the heap and the kernel's tables exist): about 90 KiB
/// for 1152 slots.
pub fn init() {
    let mut s = SLOTS_TABLE.lock();
    s.clean.reserve(LIST_ROOM);
    s.dirty.reserve(LIST_ROOM);
    paging::prepare_kstack_tables(SLOTS * SLOT_BYTES);
}

/// The slot whose guard page holds `addr`, if it is one: a fault there is
/// a kernel stack overflow (for the fault report).
pub fn guard_slot(addr: u64) -> Option<u64> {
    let off = addr.checked_sub(KSTACK_REGION)?;
    let slot = off / SLOT_BYTES;
    (slot < SLOTS && off % SLOT_BYTES < PAGE).then_some(slot)
}

fn base(slot: u64) -> u64 {
    KSTACK_REGION + slot * SLOT_BYTES
}

/// A slot no CPU caches a translation of.
fn take_slot() -> Option<u64> {
    {
        let mut s = SLOTS_TABLE.lock();
        if let Some(slot) = s.clean.pop() {
            return Some(slot);
        }
        if s.fresh < SLOTS && s.dirty.len() < 64 {
            s.fresh += 1;
            return Some(s.fresh - 1);
        }
        if s.dirty.is_empty() {
            return (s.fresh < SLOTS).then(|| {
                s.fresh += 1;
                s.fresh - 1
            });
        }
    }
    // Enough freed slots wait: make them all clean (without the lock: the
    // other CPUs must be free to take the IPI).
    let before = SLOTS_TABLE.lock().freed;
    tlb::flush_everywhere();
    let mut s = SLOTS_TABLE.lock();
    // Those freed before the flush began are clean now (another CPU's
    // flush may have taken some already).
    let mut i = 0;
    while i < s.dirty.len() {
        if s.dirty[i].1 < before {
            let (slot, _) = s.dirty.swap_remove(i);
            if s.clean.try_reserve(1).is_ok() {
                s.clean.push(slot);
            }
        } else {
            i += 1;
        }
    }
    s.clean.pop()
}

/// A zeroed kernel stack with a guard page below; returns its top.
/// `None` when no frame (or no table for it) can be had.
pub fn alloc() -> Option<u64> {
    let slot = take_slot()?;
    let stack = base(slot) + PAGE;
    let _one_at_a_time = SLOTS_TABLE.lock();
    for i in 0..KSTACK_PAGES {
        let mapped = crate::mm::alloc_frame().and_then(|f| {
            // SAFETY: a fresh frame from the allocator, reached through the
            // direct map (zeroed: no earlier owner's bytes; see mm/mod.rs for
            // what an unzeroed stack cost under TCG).
            unsafe { core::ptr::write_bytes(phys_to_virt(f) as *mut u8, 0, PAGE as usize) };
            if paging::map_kstack_page(stack + i * PAGE, f) {
                Some(())
            } else {
                crate::mm::free_frame(f);
                None
            }
        });
        if mapped.is_none() {
            drop(_one_at_a_time);
            release(slot, i);
            return None;
        }
    }
    Some(stack + KSTACK_PAGES * PAGE)
}

/// A guarded stack for a CPU's own use (boot and scheduler stack, NMI and
/// double-fault stacks), kept for good; at boot, when there is no excuse
/// for failing.
pub fn alloc_for_cpu() -> u64 {
    alloc().expect("boot: no memory for a CPU's kernel stacks")
}

/// Frees the stack whose top is `top` (see the header on reuse).
pub fn free(top: u64) {
    let stack = top - KSTACK_PAGES * PAGE;
    let slot = (stack - PAGE - KSTACK_REGION) / SLOT_BYTES;
    release(slot, KSTACK_PAGES);
}

/// Unmaps and frees the first `pages` pages of `slot`'s stack and marks
/// the slot dirty.
fn release(slot: u64, pages: u64) {
    let stack = base(slot) + PAGE;
    let mut s = SLOTS_TABLE.lock();
    for i in 0..pages {
        if let Some(f) = paging::unmap_kstack_page(stack + i * PAGE) {
            crate::mm::free_frame(f);
        }
    }
    // (A slot the list has no room for is never reused: address space,
    // not memory, is lost.)
    let order = s.freed;
    s.freed += 1;
    if s.dirty.try_reserve(1).is_ok() {
        s.dirty.push((slot, order));
    }
}
