//! Kernel page tables: the direct map of all physical memory and the kernel image.
//!
//! Virtual layout (upper half shared by every address space):
//! - `DIRECT_MAP_BASE` (0xffff_8000_0000_0000): all of physical memory,
//!   at least the first 4 GiB so the LAPIC/IOAPIC windows are reachable,
//!   in 2 MiB pages (1 GiB pages where the CPU has them), no-execute; the
//!   0xfe00_0000..4 GiB MMIO hole is mapped uncached.
//! - `KSTACK_REGION` (0xffff_c000_0000_0000): process kernel stacks, 4 KiB
//!   pages, each stack with an unmapped guard page below it (`mm/kstack.rs`).
//! - `KERNEL_VMA` (0xffff_ffff_8000_0000): the kernel image, physical 0..
//!   kernel end, 2 MiB pages, executable.
//!
//! The lower half (PML4 slots 0..256) is user space, empty in the kernel's
//! own table. The boot tables from `boot.rs` are left alone for the AP trampoline.

use core::sync::atomic::{AtomicU64, Ordering};

/// Start of the direct map of physical memory.
pub const DIRECT_MAP_BASE: u64 = 0xFFFF_8000_0000_0000;
/// Where the kernel image is linked.
pub const KERNEL_VMA: u64 = 0xFFFF_FFFF_8000_0000;
/// Process kernel stacks, 4 KiB pages with an unmapped guard page below
/// each (`mm/kstack.rs`): one PML4 slot of the kernel half, made at boot
/// so every process's table shares it.
pub const KSTACK_REGION: u64 = 0xFFFF_C000_0000_0000;
/// Bytes of [`KSTACK_REGION`] (one PML4 slot: 512 GiB).
pub const KSTACK_REGION_BYTES: u64 = 1 << 39;

pub const PTE_PRESENT: u64 = 1 << 0;
pub const PTE_WRITABLE: u64 = 1 << 1;
pub const PTE_USER: u64 = 1 << 2;
pub const PTE_WRITE_THROUGH: u64 = 1 << 3;
pub const PTE_NO_CACHE: u64 = 1 << 4;
pub const PTE_HUGE: u64 = 1 << 7;
pub const PTE_GLOBAL: u64 = 1 << 8;
/// Software bit (ignored by the MMU): a read-only user page that is
/// writable once copied (copy-on-write after fork).
pub const PTE_COW: u64 = 1 << 9;
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
        assert!(
            virt >= DIRECT_MAP_BASE,
            "virt_to_phys of user address {virt:#x}"
        );
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
    let pdpt = next_table(
        pml4,
        (virt >> 39) as usize & 511,
        PTE_PRESENT | PTE_WRITABLE,
    );
    let pd = next_table(
        pdpt,
        (virt >> 30) as usize & 511,
        PTE_PRESENT | PTE_WRITABLE,
    );
    table(pd)[(virt >> 21) as usize & 511] = phys | flags | PTE_HUGE;
}

/// Maps a 1 GiB page in `pml4`.
fn map_1g(pml4: u64, virt: u64, phys: u64, flags: u64) {
    let pdpt = next_table(
        pml4,
        (virt >> 39) as usize & 511,
        PTE_PRESENT | PTE_WRITABLE,
    );
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
        let gib_ok = has_1g
            && p % (1 << 30) == 0
            && p + (1 << 30) <= end
            && !(p < FOUR_GIB && p + (1 << 30) > MMIO_HOLE_START);
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
        map_2m(
            pml4,
            KERNEL_VMA + p,
            p,
            PTE_PRESENT | PTE_WRITABLE | PTE_GLOBAL,
        );
        p += 1 << 21;
    }
    // The stack region's PDPT, so that every process table copies it.
    next_table(
        pml4,
        (KSTACK_REGION >> 39) as usize & 511,
        PTE_PRESENT | PTE_WRITABLE,
    );
    KERNEL_PML4.store(pml4, Ordering::Release);
    switch_to_kernel_tables();
}

/// The kernel-table entry of page `va` of the stack region, creating its
/// tables (`None`: no frame for one). The stack allocator serialises
/// callers (two could otherwise make the same table twice).
fn kstack_entry(va: u64) -> Option<&'static mut u64> {
    debug_assert!((KSTACK_REGION..KSTACK_REGION + KSTACK_REGION_BYTES).contains(&va));
    let mut t = kernel_pml4();
    assert!(t != 0, "kernel stack tables before the kernel's tables");
    for shift in [39u64, 30, 21] {
        let idx = ((va >> shift) & 511) as usize;
        if table(t)[idx] & PTE_PRESENT == 0 {
            let frame = crate::mm::alloc_frame()?;
            table(frame).fill(0);
            table(t)[idx] = frame | PTE_PRESENT | PTE_WRITABLE;
        }
        t = table(t)[idx] & PTE_ADDR_MASK;
    }
    Some(&mut table(t)[((va >> 12) & 511) as usize])
}

/// Makes the tables of the first `bytes` of the stack region (at boot, so
/// that stacks never grow the kernel's tables later).
pub fn prepare_kstack_tables(bytes: u64) {
    let mut va = KSTACK_REGION;
    while va < KSTACK_REGION + bytes {
        kstack_entry(va).expect("out of memory for kernel stack tables");
        va += 1 << 21;
    }
}

/// Maps frame `pa` at page `va` of the stack region (kernel data, not
/// global: a CR3 write drops it from a TLB). False when a table could not
/// be made. The caller owns `va` (its stack allocator hands out each
/// page once).
pub fn map_kstack_page(va: u64, pa: u64) -> bool {
    match kstack_entry(va) {
        Some(e) => {
            *e = pa | PTE_PRESENT | PTE_WRITABLE | nx_bit();
            true
        }
        None => false,
    }
}

/// Unmaps page `va` of the stack region, returning its frame. Other
/// CPUs may still hold the translation: the allocator reuses `va` only
/// after every CPU has dropped it (`tlb::flush_everywhere`).
pub fn unmap_kstack_page(va: u64) -> Option<u64> {
    let e = kstack_entry(va)?;
    if *e & PTE_PRESENT == 0 {
        return None;
    }
    let pa = *e & PTE_ADDR_MASK;
    *e = 0;
    // SAFETY: invlpg only discards a TLB entry.
    unsafe { x86::tlb::flush(va as usize) };
    Some(pa)
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

/// Index of the first PML4 slot of the kernel half.
const KERNEL_PML4_FIRST: usize = 256;

/// One process's page tables: the user half private, the kernel half shared.
///
/// Only 4 KiB pages are used in the user half. Intermediate tables are
/// created on demand and freed with the whole tree in [`PageTable::destroy`].
/// Pages are unmapped one at a time ([`PageTable::unmap`], with a TLB flush)
/// only when a live address space shrinks; a dying one is freed by one walk.
pub struct PageTable {
    pml4: u64,
    /// Frames of table (the PML4 and every intermediate table), for accounting.
    tables: core::cell::Cell<u64>,
}

/// Why a mapping request failed.
#[derive(Debug, PartialEq, Eq)]
pub enum MapError {
    OutOfMemory,
    AlreadyMapped,
}

impl PageTable {
    /// A fresh table with the kernel half copied from the kernel's own PML4.
    pub fn new() -> Option<PageTable> {
        let frame = crate::mm::alloc_frame()?;
        let t = table(frame);
        t.fill(0);
        let k = table(kernel_pml4());
        t[KERNEL_PML4_FIRST..].copy_from_slice(&k[KERNEL_PML4_FIRST..]);
        Some(PageTable {
            pml4: frame,
            tables: core::cell::Cell::new(1),
        })
    }

    /// Frames this table holds itself (PML4 and intermediate tables).
    pub fn table_frames(&self) -> u64 {
        self.tables.get()
    }

    /// Physical address of the PML4 (the CR3 value).
    pub fn root(&self) -> u64 {
        self.pml4
    }

    /// Walks to the page-table entry for user address `va`, creating
    /// intermediate tables when `create` is set.
    fn entry(&self, va: u64, create: bool) -> Result<Option<&'static mut u64>, MapError> {
        let mut t = self.pml4;
        for shift in [39u64, 30, 21] {
            let idx = ((va >> shift) & 511) as usize;
            let e = table(t)[idx];
            if e & PTE_PRESENT == 0 {
                if !create {
                    return Ok(None);
                }
                let frame = crate::mm::alloc_frame().ok_or(MapError::OutOfMemory)?;
                self.tables.set(self.tables.get() + 1);
                table(frame).fill(0);
                table(t)[idx] = frame | PTE_PRESENT | PTE_WRITABLE | PTE_USER;
            }
            t = table(t)[idx] & PTE_ADDR_MASK;
        }
        Ok(Some(&mut table(t)[((va >> 12) & 511) as usize]))
    }

    /// Maps the user page at `va` to frame `pa` with `flags` (PTE_USER and PTE_PRESENT added).
    pub fn map(&mut self, va: u64, pa: u64, flags: u64) -> Result<(), MapError> {
        debug_assert!(va < USER_END && va.is_multiple_of(4096) && pa.is_multiple_of(4096));
        let e = self
            .entry(va, true)?
            .expect("entry() with create returns an entry");
        if *e & PTE_PRESENT != 0 {
            return Err(MapError::AlreadyMapped);
        }
        *e = pa | flags | PTE_PRESENT | PTE_USER;
        Ok(())
    }

    /// Table frames a mapping of `va` would have to make (0 to 3).
    pub fn tables_needed(&self, va: u64) -> u64 {
        let mut t = self.pml4;
        for (k, shift) in [39u64, 30, 21].into_iter().enumerate() {
            let e = table(t)[((va >> shift) & 511) as usize];
            if e & PTE_PRESENT == 0 {
                return 3 - k as u64;
            }
            t = e & PTE_ADDR_MASK;
        }
        0
    }

    /// Removes the mapping of `va`, returning the frame it mapped and the
    /// entry's flags.
    pub fn unmap(&mut self, va: u64) -> Option<(u64, u64)> {
        let e = self.entry(va, false).ok()??;
        if *e & PTE_PRESENT == 0 {
            return None;
        }
        let pa = *e & PTE_ADDR_MASK;
        let flags = *e & !PTE_ADDR_MASK;
        *e = 0;
        // The table may be the current one (sbrk shrinking): drop any cached
        // translation. Another CPU may keep the table loaded (lazy TLB) but
        // never uses a stale entry: it reloads CR3 before resuming a
        // process that ran elsewhere since (see tlb.rs).
        // SAFETY: invlpg only discards a TLB entry.
        unsafe { x86::tlb::flush(va as usize) };
        Some((pa, flags))
    }

    /// Replaces the mapping of the mapped user page `va` with frame `pa`
    /// and `flags` (PTE_USER and PTE_PRESENT added); returns the frame it
    /// mapped before. Drops this CPU's cached translation (see `unmap` for
    /// why no other CPU can hold one).
    pub fn remap(&mut self, va: u64, pa: u64, flags: u64) -> Option<u64> {
        let e = self.entry(va, false).ok()??;
        if *e & PTE_PRESENT == 0 {
            return None;
        }
        let old = *e & PTE_ADDR_MASK;
        *e = pa | flags | PTE_PRESENT | PTE_USER;
        // SAFETY: invlpg only discards a TLB entry.
        unsafe { x86::tlb::flush(va as usize) };
        Some(old)
    }

    /// The frame and flags mapped at user page `va`.
    pub fn translate(&self, va: u64) -> Option<(u64, u64)> {
        let e = self.entry(va & !0xfff, false).ok()??;
        if *e & PTE_PRESENT == 0 {
            return None;
        }
        Some((*e & PTE_ADDR_MASK, *e & !PTE_ADDR_MASK))
    }

    /// Calls `f(va, pa, flags)` for every mapped user page, in address
    /// order, stopping at the first error. Walks only present tables, so
    /// it costs what is mapped, not the size of the ranges.
    pub fn try_for_each_page<E>(
        &self,
        mut f: impl FnMut(u64, u64, u64) -> Result<(), E>,
    ) -> Result<(), E> {
        fn walk<E>(
            t: u64,
            level: u32,
            base: u64,
            f: &mut impl FnMut(u64, u64, u64) -> Result<(), E>,
        ) -> Result<(), E> {
            let span = 1u64 << (12 + 9 * (level - 1));
            for (i, &e) in table(t).iter().enumerate() {
                if e & PTE_PRESENT == 0 {
                    continue;
                }
                let va = base + i as u64 * span;
                if level == 1 {
                    f(va, e & PTE_ADDR_MASK, e & !PTE_ADDR_MASK)?;
                } else {
                    walk(e & PTE_ADDR_MASK, level - 1, va, f)?;
                }
            }
            Ok(())
        }
        for idx in 0..KERNEL_PML4_FIRST {
            let e = table(self.pml4)[idx];
            if e & PTE_PRESENT != 0 {
                walk(e & PTE_ADDR_MASK, 3, (idx as u64) << 39, &mut f)?;
            }
        }
        Ok(())
    }

    /// Frees the whole user half: every mapped page through `free_page`,
    /// then every intermediate table, then the PML4. The table must not be
    /// current on this CPU; other CPUs that kept it loaded (lazy TLB) are
    /// made to let go first (`tlb::retire`).
    pub fn destroy(self, mut free_page: impl FnMut(u64, u64)) {
        // No other CPU may still hold it (see tlb.rs).
        super::tlb::retire(self.pml4);
        fn free_level(t: u64, level: u32, free_page: &mut impl FnMut(u64, u64)) {
            for &e in table(t).iter() {
                if e & PTE_PRESENT == 0 {
                    continue;
                }
                if level > 1 {
                    free_level(e & PTE_ADDR_MASK, level - 1, free_page);
                } else {
                    free_page(e & PTE_ADDR_MASK, e & !PTE_ADDR_MASK);
                }
            }
            crate::mm::free_frame(t);
        }
        for idx in 0..KERNEL_PML4_FIRST {
            let e = table(self.pml4)[idx];
            if e & PTE_PRESENT != 0 {
                free_level(e & PTE_ADDR_MASK, 3, &mut free_page);
            }
        }
        crate::mm::free_frame(self.pml4);
    }

    pub fn activate(&self) {
        // SAFETY: the kernel half is a copy of the kernel's own PML4 entries, so
        // the running code, stacks and data stay mapped after the switch.
        unsafe { x86::controlregs::cr3_write(self.pml4) };
        super::tlb::note_loaded(self.pml4);
    }
}

/// End of the user half (exclusive): the first non-canonical address.
pub const USER_END: u64 = 0x0000_8000_0000_0000;

/// Loads `root` into CR3.
///
/// # Safety
/// `root` must be the [`PageTable::root`] of a table that stays alive while
/// it is current (its kernel half makes the switch itself safe).
pub unsafe fn activate_root(root: u64) {
    // SAFETY: per the caller, a live table whose kernel half is the kernel's.
    unsafe { x86::controlregs::cr3_write(root) };
    super::tlb::note_loaded(root);
}

/// Makes the kernel's own table current (no user half).
pub fn activate_kernel_table() {
    // SAFETY: see switch_to_kernel_tables; NX was already enabled on this CPU.
    unsafe { x86::controlregs::cr3_write(kernel_pml4()) };
    super::tlb::note_loaded(0);
}
