//! Single instructions and MSRs the rest of the kernel needs, behind safe names.
//!
//! Each wrapper is safe because, in ring 0 with the kernel's own page tables
//! and GDT loaded, the instruction cannot break memory safety by itself;
//! the ones that can (loading tables, switching stacks) stay `unsafe` in the
//! modules that own those tables.

use core::arch::asm;

/// `IA32_EFER`.
pub const MSR_EFER: u32 = 0xC000_0080;
/// `IA32_GS_BASE`: GS base while in the kernel.
pub const MSR_GS_BASE: u32 = 0xC000_0101;
/// `IA32_KERNEL_GS_BASE`: the value `swapgs` exchanges with `GS_BASE`.
pub const MSR_KERNEL_GS_BASE: u32 = 0xC000_0102;
/// EFER.NXE: allow the no-execute bit in page tables.
pub const EFER_NXE: u64 = 1 << 11;

/// Reads a model-specific register.
pub fn rdmsr(msr: u32) -> u64 {
    // SAFETY: reading the architectural MSRs named in this module has no side effects.
    unsafe { x86::msr::rdmsr(msr) }
}

/// Writes a model-specific register.
///
/// # Safety
/// The value must be valid for `msr` and must not break an invariant the
/// kernel relies on (GS base, EFER bits in use, ...).
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: forwarded to the caller.
    unsafe { x86::msr::wrmsr(msr, value) }
}

/// Reads the time-stamp counter.
#[inline(always)]
pub fn rdtsc() -> u64 {
    // SAFETY: rdtsc only reads a counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Orders every earlier load and store before every later one (MFENCE).
#[inline(always)]
pub fn mfence() {
    // SAFETY: mfence only orders memory accesses.
    unsafe { asm!("mfence", options(nostack, preserves_flags)) }
}

/// Enables interrupts on this CPU.
#[inline(always)]
pub fn enable_interrupts() {
    // SAFETY: the IDT is loaded before any caller runs; handlers are reentrant-safe.
    unsafe { asm!("sti", options(nomem, nostack)) }
}

/// Lets pending interrupts in, then disables them again. `sti; cli` would
/// let none in: `sti` takes effect only after the instruction that follows
/// it (the interrupt shadow), so the `nop` is the window.
#[inline(always)]
pub fn interrupt_window() {
    // SAFETY: as enable_interrupts; interrupts are off again on return.
    unsafe { asm!("sti", "nop", "cli", options(nomem, nostack)) }
}

/// Disables interrupts on this CPU.
#[inline(always)]
pub fn disable_interrupts() {
    // SAFETY: cli only masks maskable interrupts.
    unsafe { asm!("cli", options(nomem, nostack)) }
}

/// Whether maskable interrupts are enabled (RFLAGS.IF).
#[inline(always)]
pub fn interrupts_enabled() -> bool {
    let flags: u64;
    // SAFETY: pushfq/pop reads RFLAGS and leaves the stack balanced.
    unsafe { asm!("pushfq; pop {}", out(reg) flags, options(nomem, preserves_flags)) }
    flags & (1 << 9) != 0
}

/// Enables interrupts and halts until the next one, atomically (no lost wakeup
/// between `sti` and `hlt`).
#[inline(always)]
pub fn wait_for_interrupt() {
    // SAFETY: sti takes effect after the following instruction, so an interrupt
    // arriving in between still ends the hlt.
    unsafe { asm!("sti; hlt", options(nomem, nostack)) }
}

/// Stops this CPU for good: interrupts off, halt forever (NMIs return here).
pub fn halt_forever() -> ! {
    loop {
        disable_interrupts();
        // SAFETY: hlt with interrupts off only waits for NMI/SMI/reset.
        unsafe { asm!("hlt", options(nomem, nostack)) }
    }
}

/// Moves this CPU onto the stack whose top is `top` and calls `f(arg)`
/// there, for good (the stack it leaves is never returned to).
///
/// # Safety
/// `top` must be the 16-byte-aligned top of a mapped kernel stack that
/// nothing else uses and that is never freed.
pub unsafe fn run_on_stack(top: u64, f: extern "C" fn(u64) -> !, arg: u64) -> ! {
    // SAFETY: the caller gives a valid, unused stack; `call` on an aligned
    // top gives `f` the alignment the ABI expects, and a zero frame pointer
    // ends backtraces there.
    unsafe {
        asm!(
            "mov rsp, {top}",
            "xor ebp, ebp",
            "call {f}",
            "ud2",
            top = in(reg) top,
            f = in(reg) f,
            in("rdi") arg,
            options(noreturn)
        )
    }
}

/// CR2: the faulting address of the last page fault.
pub fn read_cr2() -> u64 {
    // SAFETY: reading CR2 has no side effects.
    unsafe { x86::controlregs::cr2() as u64 }
}

/// CR3: the physical address of the current top-level page table.
pub fn read_cr3() -> u64 {
    // SAFETY: reading CR3 has no side effects.
    unsafe { x86::controlregs::cr3() }
}

/// Reads an I/O port byte.
pub fn inb(port: u16) -> u8 {
    // SAFETY: the kernel only reads ports of devices it owns (UART, PIT, ...).
    unsafe { x86::io::inb(port) }
}

/// Writes an I/O port byte.
pub fn outb(port: u16, value: u8) {
    // SAFETY: the kernel only writes ports of devices it owns (UART, PIT, ...).
    unsafe { x86::io::outb(port, value) }
}

/// Reads an I/O port dword.
pub fn inl(port: u16) -> u32 {
    // SAFETY: the kernel only reads ports of devices it owns (PCI config, ...).
    unsafe { x86::io::inl(port) }
}

/// Writes an I/O port dword.
pub fn outl(port: u16, value: u32) {
    // SAFETY: the kernel only writes ports of devices it owns (debug exit, ...).
    unsafe { x86::io::outl(port, value) }
}

/// Busy-waits for about `us` microseconds using the TSC (needs `tsc::init`).
pub fn delay_us(us: u64) {
    let start = rdtsc();
    let cycles = super::tsc::hz() / 1_000_000 * us;
    while rdtsc().wrapping_sub(start) < cycles {
        core::hint::spin_loop();
    }
}

/// Reads `buf.len() / 4` dwords from an I/O port into `buf` (string
/// input). The length must be a whole number of dwords.
pub fn insl(port: u16, buf: &mut [u8]) {
    assert!(
        buf.len().is_multiple_of(4),
        "insl: {} bytes is not whole dwords",
        buf.len()
    );
    // SAFETY: `rep insd` writes exactly buf.len() bytes into buf (x86 needs
    // no alignment for it); the port belongs to a device the kernel owns
    // (the IDE data register).
    unsafe {
        core::arch::asm!("rep insd", in("dx") port, inout("rdi") buf.as_mut_ptr() => _, inout("rcx") buf.len() / 4 => _, options(nostack, preserves_flags));
    }
}

/// Writes `buf` to an I/O port as `buf.len() / 4` dwords (string output).
/// The length must be a whole number of dwords.
pub fn outsl(port: u16, buf: &[u8]) {
    assert!(
        buf.len().is_multiple_of(4),
        "outsl: {} bytes is not whole dwords",
        buf.len()
    );
    // SAFETY: `rep outsd` reads exactly buf.len() bytes from buf.
    unsafe {
        core::arch::asm!("rep outsd", in("dx") port, inout("rsi") buf.as_ptr() => _, inout("rcx") buf.len() / 4 => _, options(nostack, preserves_flags, readonly));
    }
}
