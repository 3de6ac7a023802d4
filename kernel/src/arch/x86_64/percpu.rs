//! Per-CPU data, reached through the GS base.
//!
//! Every CPU owns one cache-line-aligned [`PerCpu`] in a static array; its
//! GS base points at it while the CPU runs kernel code, and the first word
//! is a pointer to itself, so `mov %gs:0` yields the current CPU's block
//! without knowing the CPU number. The `syscall` entry uses two more
//! fields (kernel stack top, saved user stack); it gets their offsets from
//! `offset_of!`, so the assembly follows the struct.
//!
//! Fields other CPUs read (tick counts, online flag) are atomics; fields
//! only the owning CPU touches sit in [`CpuLocal`] cells.

use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::param::MAX_CPUS;

use super::cpu;
use super::gdt::CpuTables;

/// A value only its own CPU reads or writes, with interrupts off or from
/// code that cannot be re-entered by an interrupt handler on that CPU.
pub struct CpuLocal<T>(UnsafeCell<T>);

// SAFETY: by the type's contract each CpuLocal is touched only by the CPU
// that owns the enclosing PerCpu, so there is never concurrent access.
unsafe impl<T> Sync for CpuLocal<T> {}

impl<T> CpuLocal<T> {
    pub const fn new(v: T) -> Self {
        CpuLocal(UnsafeCell::new(v))
    }

    /// Raw access.
    ///
    /// # Safety
    /// Call only on the owning CPU, with no other live reference obtained
    /// through this method (interrupts off where a handler could also use it).
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get_mut(&self) -> &mut T {
        // SAFETY: exclusivity is the caller's obligation (see above).
        unsafe { &mut *self.0.get() }
    }
}

/// Offset of [`PerCpu::kernel_stack_top`] (used by the syscall entry),
/// taken from the struct so a new field cannot silently move it.
pub const PERCPU_KERNEL_STACK: usize = core::mem::offset_of!(PerCpu, kernel_stack_top);
/// Offset of [`PerCpu::user_stack_scratch`] (used by the syscall entry).
pub const PERCPU_USER_STACK: usize = core::mem::offset_of!(PerCpu, user_stack_scratch);
// The self pointer must stay first: `mov %gs:0` reads it.
const _: () = assert!(core::mem::offset_of!(PerCpu, self_ptr) == 0);

/// One CPU's private block.
#[repr(C, align(64))]
pub struct PerCpu {
    self_ptr: Cell<*const PerCpu>,
    /// Top of the kernel stack the syscall entry switches to.
    pub kernel_stack_top: Cell<u64>,
    /// The user stack pointer saved by the syscall entry.
    pub user_stack_scratch: Cell<u64>,
    /// Dense CPU number, 0 = boot CPU.
    pub index: Cell<usize>,
    /// Local APIC id from the MADT.
    pub apic_id: AtomicU32,
    /// Set once the CPU finished its start-up.
    pub online: AtomicBool,
    /// Timer interrupts taken on this CPU.
    pub ticks: AtomicU64,
    /// Depth of nested interrupt-disabling (spinlocks), xv6's `noff`.
    pub irq_off_depth: Cell<u32>,
    /// Whether interrupts were on before the outermost disable, xv6's `intena`.
    pub irq_were_enabled: Cell<bool>,
    /// This CPU's GDT and TSS.
    pub tables: CpuTables,
    /// This CPU's local APIC handle.
    pub lapic: CpuLocal<Option<super::apic::Lapic>>,
}

// SAFETY: the Cell fields are written only by the owning CPU (GS points at
// its own block) or by the boot CPU before that CPU starts; shared fields are atomics.
unsafe impl Sync for PerCpu {}

impl PerCpu {
    const fn new() -> Self {
        PerCpu {
            self_ptr: Cell::new(core::ptr::null()),
            kernel_stack_top: Cell::new(0),
            user_stack_scratch: Cell::new(0),
            index: Cell::new(0),
            apic_id: AtomicU32::new(0),
            online: AtomicBool::new(false),
            ticks: AtomicU64::new(0),
            irq_off_depth: Cell::new(0),
            irq_were_enabled: Cell::new(false),
            tables: CpuTables::new(),
            lapic: CpuLocal::new(None),
        }
    }
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: PerCpu = PerCpu::new();
static CPUS: [PerCpu; MAX_CPUS] = [EMPTY; MAX_CPUS];

/// The block of CPU `index` (any CPU may read its atomics).
pub fn cpu(index: usize) -> &'static PerCpu {
    &CPUS[index]
}

/// Which CPU this is, for a panic report, without trusting GS: `Some((index,
/// false))` when the GS base holds this CPU's block; `Some((index, true))`
/// when the block sat in the swapped-out KERNEL_GS_BASE (the kernel was
/// entered without `swapgs`), in which case the GS base is pointed back at
/// it so the rest of the panic path can use per-CPU data; `None` before
/// [`install`] ran.
pub fn identify_for_panic() -> Option<(usize, bool)> {
    let block_index =
        |addr: u64| (0..MAX_CPUS).find(|&i| core::ptr::addr_of!(CPUS[i]) as u64 == addr);
    if let Some(i) = block_index(cpu::rdmsr(cpu::MSR_GS_BASE)) {
        return Some((i, false));
    }
    let swapped = cpu::rdmsr(cpu::MSR_KERNEL_GS_BASE);
    let i = block_index(swapped)?;
    // SAFETY: `swapped` is this CPU's own static block (install() put it in
    // GS base and only swapgs moved it); the panicking CPU never returns.
    unsafe { cpu::wrmsr(cpu::MSR_GS_BASE, swapped) };
    Some((i, true))
}

/// Points this CPU's GS base at block `index`. Called once per CPU, first
/// thing after it reaches Rust.
///
/// # Safety
/// `index` must be this CPU's own, unused by any other CPU.
pub unsafe fn install(index: usize, apic_id: u32) {
    let block = &CPUS[index];
    assert!(
        block.self_ptr.get().is_null(),
        "per-CPU block {index} installed twice"
    );
    block.self_ptr.set(block as *const PerCpu);
    block.index.set(index);
    block.apic_id.store(apic_id, Ordering::Relaxed);
    // SAFETY: the block is static and lives forever; the kernel GS base must point at it.
    unsafe {
        cpu::wrmsr(cpu::MSR_GS_BASE, block as *const PerCpu as u64);
        cpu::wrmsr(cpu::MSR_KERNEL_GS_BASE, 0);
    }
}

/// The current CPU's block.
#[inline(always)]
pub fn this_cpu() -> &'static PerCpu {
    let p: *const PerCpu;
    // SAFETY: GS base points at this CPU's static block (install() ran first on
    // every CPU) whose first word is the block's own address.
    unsafe {
        core::arch::asm!("mov {}, gs:[0]", out(reg) p, options(nostack, readonly, preserves_flags));
        &*p
    }
}

/// The current CPU's dense index.
#[inline(always)]
pub fn cpu_index() -> usize {
    this_cpu().index.get()
}

/// Number of CPUs that finished start-up.
pub fn online_count() -> usize {
    CPUS.iter()
        .filter(|c| c.online.load(Ordering::Acquire))
        .count()
}

/// Whether this CPU is inside a [`push_irq_off`] (so interrupts are off
/// until the matching [`pop_irq_off`]): one per-CPU load, cheaper than
/// reading RFLAGS (pushfq is a helper call under TCG).
#[inline(always)]
pub fn irq_off_held() -> bool {
    this_cpu().irq_off_depth.get() > 0
}

/// Disables interrupts, remembering whether they were on (nestable; xv6 `push_off`).
pub fn push_irq_off() {
    let was = cpu::interrupts_enabled();
    cpu::disable_interrupts();
    let c = this_cpu();
    if c.irq_off_depth.get() == 0 {
        c.irq_were_enabled.set(was);
    }
    c.irq_off_depth.set(c.irq_off_depth.get() + 1);
}

/// Undoes one [`push_irq_off`]; re-enables interrupts when the outermost one ends.
pub fn pop_irq_off() {
    let c = this_cpu();
    assert!(!cpu::interrupts_enabled(), "pop_irq_off with interrupts on");
    let depth = c.irq_off_depth.get();
    assert!(depth > 0, "pop_irq_off without push_irq_off");
    c.irq_off_depth.set(depth - 1);
    if depth == 1 && c.irq_were_enabled.get() {
        cpu::enable_interrupts();
    }
}
