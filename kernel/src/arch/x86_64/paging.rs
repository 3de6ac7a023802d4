//! Kernel page tables: the direct map of all physical memory and the kernel image.
//!
//! Virtual layout (upper half shared by every address space):
//! - `DIRECT_MAP_BASE` (0xffff_8000_0000_0000): all of physical memory,
//!   at least the first 4 GiB so the LAPIC/IOAPIC windows are reachable,
//!   in 2 MiB pages (1 GiB pages where the CPU has them), no-execute; the
//!   0xfe00_0000..4 GiB MMIO hole is mapped uncached.
//! - `KERNEL_VMA` (0xffff_ffff_8000_0000): the kernel image, physical 0..
//!   kernel end, 2 MiB pages, executable.
//! The lower half (PML4 slots 0..256) is user space, empty in the kernel's
//! own table. The boot tables from `boot.rs` are left alone for the AP trampoline.

use core::sync::atomic::{AtomicU64, Ordering};

/// Start of the direct map of physical memory.
pub const DIRECT_MAP_BASE: u64 = 0xFFFF_8000_0000_0000;
/// Where the kernel image is linked.
pub const KERNEL_VMA: u64 = 0xFFFF_FFFF_8000_0000;

pub const PTE_PRESENT: u64 = 1 << 0;
pub const PTE_WRITABLE: u64 = 1 << 1;
pub const PTE_USER: u64 = 1 << 2;
pub const PTE_WRITE_THROUGH: u64 = 1 << 3;
pub const PTE_NO_CACHE: u64 = 1 << 4;
pub const PTE_HUGE: u64 = 1 << 7;
pub const PTE_GLOBAL: u64 = 1 << 8;
pub const PTE_NO_EXECUTE: u64 = 1 << 63;
/// Physical-address bits of an entry.
pub const PTE_ADDR_MASK: u64 = 0x000F_FFFF_FFFF_F000;

const MMIO_HOLE_START: u64 = 0xFE00_0000;
const FOUR_GIB: u64 = 4 << 30;

/// Physical address of the kernel's PML4, once built.
static KERNEL_PML4: AtomicU64 = AtomicU64::new(0);
/// NX bit to use (0 when the CPU lacks NX).
static NX: AtomicU64 = AtomicU64::new(0);

/// Virtual address of physical `phys` in the direct map.
#[inline(always)]
pub const fn phys_to_virt(phys: u64) -> u64 {
    phys + DIRECT_MAP_BASE
}

/// Physical address behind a direct-map or kernel-image virtual address.
pub fn virt_to_phys(virt: u64) -> u64 {
    if virt >= KERNEL_VMA {
        virt - KERNEL_VMA
    } else {
        assert!(virt >= DIRECT_MAP_BASE, "virt_to_phys of user address {virt:#x}");
        virt - DIRECT_MAP_BASE
    }
}

/// The kernel PML4's physical address.
pub fn kernel_pml4() -> u64 {
    KERNEL_PML4.load(Ordering::Acquire)
}

/// The no-execute bit, or 0 when unsupported.
pub fn nx_bit() -> u64 {
    NX.load(Ordering::Relaxed)
}

fn table(phys: u64) -> &'static mut [u64; 512] {
    // SAFETY: callers only pass frames they allocated for page tables, reached
    // through the direct map; each table is written by one CPU at a time.
    unsafe { &mut *(phys_to_virt(phys) as *mut [u64; 512]) }
}

/// A zeroed frame for a page table.
fn new_table() -> u64 {
    let frame = crate::mm::alloc_frame().expect("out of memory for kernel page tables");
    table(frame).fill(0);
    frame
}

/// Returns the next-level table under `entry`, creating it with `flags`.
fn next_table(parent: u64, index: usize, flags: u64) -> u64 {
    let t = table(parent);
    if t[index] & PTE_PRESENT == 0 {
        t[index] = new_table() | flags;
    }
    t[index] & PTE_ADDR_MASK
}

/// Maps a 2 MiB page in `pml4`.
fn map_2m(pml4: u64, virt: u64, phys: u64, flags: u64) {
    let pdpt = next_table(pml4, (virt >> 39) as usize & 511, PTE_PRESENT | PTE_WRITABLE);
    let pd = next_table(pdpt, (virt >> 30) as usize & 511, PTE_PRESENT | PTE_WRITABLE);
    table(pd)[(virt >> 21) as usize & 511] = phys | flags | PTE_HUGE;
}

/// Maps a 1 GiB page in `pml4`.
fn map_1g(pml4: u64, virt: u64, phys: u64, flags: u64) {
    let pdpt = next_table(pml4, (virt >> 39) as usize & 511, PTE_PRESENT | PTE_WRITABLE);
    table(pdpt)[(virt >> 30) as usize & 511] = phys | flags | PTE_HUGE;
}

/// Builds the kernel's page tables and switches this CPU to them.
///
/// `phys_end` is the end of the highest usable RAM; `kernel_phys_end` the
/// end of the loaded kernel image.
pub fn init_kernel_tables(phys_end: u64, kernel_phys_end: u64) {
    let cpuid = raw_cpuid::CpuId::new();
    let ext = cpuid.get_extended_processor_and_feature_identifiers();
    let has_nx = ext.as_ref().is_some_and(|e| e.has_execute_disable());
    let has_1g = ext.as_ref().is_some_and(|e| e.has_1gib_pages());
    if has_nx {
        NX.store(PTE_NO_EXECUTE, Ordering::Relaxed);
    }
    let nx = nx_bit();
    let pml4 = new_table();
    let data = PTE_PRESENT | PTE_WRITABLE | PTE_GLOBAL | nx;
    let end = phys_end.max(FOUR_GIB).next_multiple_of(1 << 21);
    let mut p = 0;
    while p < end {
        let flags = if (MMIO_HOLE_START..FOUR_GIB).contains(&p) {
            data | PTE_NO_CACHE | PTE_WRITE_THROUGH
        } else {
            data
        };
        let gib_ok = has_1g && p % (1 << 30) == 0 && p + (1 << 30) <= end && !(p < FOUR_GIB && p + (1 << 30) > MMIO_HOLE_START);
        if gib_ok {
            map_1g(pml4, DIRECT_MAP_BASE + p, p, flags);
            p += 1 << 30;
        } else {
            map_2m(pml4, DIRECT_MAP_BASE + p, p, flags);
            p += 1 << 21;
        }
    }
    let image_end = kernel_phys_end.next_multiple_of(1 << 21);
    let mut p = 0;
    while p < image_end {
        map_2m(pml4, KERNEL_VMA + p, p, PTE_PRESENT | PTE_WRITABLE | PTE_GLOBAL);
        p += 1 << 21;
    }
    KERNEL_PML4.store(pml4, Ordering::Release);
    switch_to_kernel_tables();
}

/// Loads the kernel's page tables on this CPU (APs call this after the trampoline).
pub fn switch_to_kernel_tables() {
    let pml4 = kernel_pml4();
    assert!(pml4 != 0, "kernel page tables not built");
    if nx_bit() != 0 {
        use super::cpu::{rdmsr, wrmsr, EFER_NXE, MSR_EFER};
        // SAFETY: EFER.NXE only gives the NX bit its meaning, which the kernel
        // tables need; the CPU reported NX support.
        unsafe { wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE) };
    }
    // SAFETY: the kernel tables map the running code (kernel image), the stack
    // (kernel image .bss or direct-mapped frames) and all data this CPU uses.
    unsafe { x86::controlregs::cr3_write(pml4) };
}
