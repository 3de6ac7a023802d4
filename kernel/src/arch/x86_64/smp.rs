//! Starting the application processors: INIT-SIPI-SIPI through a real-mode trampoline.
//!
//! The trampoline (below) is copied to physical `TRAMPOLINE_PHYS` (0x8000).
//! A start-up IPI with vector 0x08 makes the AP begin there in real mode;
//! it loads its own little GDT, enters protected mode, turns on PAE and
//! long mode with the boot page tables (which identity-map the trampoline
//! page), and jumps to the 64-bit entry named in its slots. The slots at
//! the end of the trampoline (page table, stack top, entry point, CPU
//! index) are filled by the boot CPU before each start; APs are started one
//! at a time, so a single copy of the slots serves them all.
//!
//! **Who owns a start.** A host that deschedules vCPUs can make an AP miss
//! every window the boot CPU waits, then run the trampoline late, while the
//! slots are being rewritten for the next AP. So the stack slot doubles as
//! the claim: an AP takes it with one atomic exchange (leaving 0), and an
//! AP that finds 0 parks in the trampoline (interrupts off, `hlt`) without
//! touching anything. The boot CPU, when its windows pass, takes the slot
//! back the same way: if it gets its stack back, no AP owns the start (the
//! AP is sent INIT, which parks it for good, and the index goes to the next
//! one); if it gets 0, the AP claimed it in time and the start goes on.
//! Once an AP owns a start, its index is its own whatever happens next:
//! it is never handed to another AP (two CPUs on one per-CPU block was a
//! panic, "installed twice", when a slow AP missed the old one-second
//! online wait). The boot CPU keeps the slots until the owner has read
//! its index (`report_started`), then waits for it to come online; an
//! owner that does neither in time is the last AP started (indices stay
//! dense, and it may come online later).
//!
//! The trampoline's stack is direct-mapped (the boot tables map nothing
//! else) and only briefly used: an AP moves onto its own guarded stack
//! (`mm::kstack`) as soon as it has the kernel's tables, before it reports
//! online, so one trampoline stack serves every AP. An AP that never
//! reports online may still be on it: the next start gets a fresh one.
//!
//! `ap_delay=<ms>` on the command line (fault injection, for the boot
//! tests) makes every AP wait that long after claiming its start and again
//! before reporting online, as a descheduled vCPU would.

use core::arch::global_asm;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;

use super::{apic, boot, cpu, paging, percpu};
use crate::param::KSTACK_PAGES;

/// Physical page the trampoline runs from (must be below 1 MiB, page aligned).
pub const TRAMPOLINE_PHYS: u64 = 0x8000;

global_asm!(
    r#"
    .section .rodata.ap_trampoline, "a"
    .balign 16
    .global ap_trampoline_start
    .global ap_trampoline_end
    .global ap_slot_cr3
    .global ap_slot_stack
    .global ap_slot_entry
    .global ap_slot_arg
    .set TRAMP, 0x8000
ap_trampoline_start:
    .code16
    cli
    cld
    xorw %ax, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    lgdtl TRAMP + (ap_gdtr - ap_trampoline_start)
    movl %cr0, %eax
    orl $1, %eax
    movl %eax, %cr0
    ljmpl $0x08, $(TRAMP + (ap_pm32 - ap_trampoline_start))

    .code32
ap_pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl TRAMP + (ap_slot_cr3 - ap_trampoline_start), %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010000, %eax
    movl %eax, %cr0
    ljmpl $0x18, $(TRAMP + (ap_lm64 - ap_trampoline_start))

    .code64
ap_lm64:
    xorl %eax, %eax
    xchgq %rax, TRAMP + (ap_slot_stack - ap_trampoline_start)
    testq %rax, %rax
    jz 2f
    movq %rax, %rsp
    movq TRAMP + (ap_slot_arg - ap_trampoline_start), %rdi
    movq TRAMP + (ap_slot_entry - ap_trampoline_start), %rax
    xorl %ebp, %ebp
    callq *%rax
1:  cli
    hlt
    jmp 1b
    # Another start owns the slots (or the boot CPU gave up on this one).
2:  cli
    hlt
    jmp 2b

    .balign 8
ap_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF
    .quad 0x00CF92000000FFFF
    .quad 0x00AF9A000000FFFF
ap_gdtr:
    .word 31
    .long TRAMP + (ap_gdt - ap_trampoline_start)
    .balign 8
ap_slot_cr3:
    .quad 0
ap_slot_stack:
    .quad 0
ap_slot_entry:
    .quad 0
ap_slot_arg:
    .quad 0
ap_trampoline_end:
    .text
    "#,
    options(att_syntax)
);

extern "C" {
    static ap_trampoline_start: u8;
    static ap_trampoline_end: u8;
    static ap_slot_cr3: u8;
    static ap_slot_stack: u8;
    static ap_slot_entry: u8;
    static ap_slot_arg: u8;
}

fn symbol_offset(sym: *const u8) -> u64 {
    sym as u64 - core::ptr::addr_of!(ap_trampoline_start) as u64
}

fn slot_ptr(sym: *const u8) -> *mut u64 {
    paging::phys_to_virt(TRAMPOLINE_PHYS + symbol_offset(sym)) as *mut u64
}

fn write_slot(sym: *const u8, value: u64) {
    // SAFETY: the slot lies inside the trampoline copy at TRAMPOLINE_PHYS, which
    // only the boot CPU writes, and only while no AP owns a start.
    unsafe { slot_ptr(sym).write_volatile(value) };
}

/// The stack slot, which APs take with an atomic exchange (the claim).
fn stack_slot() -> &'static AtomicU64 {
    // SAFETY: the slot is 8-byte aligned (`.balign 8` in a page-aligned copy),
    // lives for good in the trampoline page, and every access to it, the
    // AP's `xchg` included, is atomic.
    unsafe { AtomicU64::from_ptr(slot_ptr(core::ptr::addr_of!(ap_slot_stack))) }
}

fn install_trampoline() {
    let (start, end) = (
        core::ptr::addr_of!(ap_trampoline_start),
        core::ptr::addr_of!(ap_trampoline_end),
    );
    let len = end as usize - start as usize;
    assert!(
        len <= 4096,
        "AP trampoline ({len} bytes) does not fit its page"
    );
    // SAFETY: physical 0x8000 is RAM below 1 MiB that the frame allocator never
    // hands out; the source is the trampoline's bytes in .rodata.
    unsafe {
        core::ptr::copy_nonoverlapping(
            start,
            paging::phys_to_virt(TRAMPOLINE_PHYS) as *mut u8,
            len,
        );
    }
}

/// A started AP's result.
pub enum ApStart {
    /// Online; the index is used.
    Online,
    /// No AP claimed the start; it was sent INIT and the index is free.
    Absent,
    /// The AP claimed the start (the index is its own) but is not online
    /// yet. No further AP may start: it may still read the slots, and CPU
    /// indices must stay dense (code walks `0..online_count()`), so the
    /// late one, if it comes, is the last.
    Late,
}

/// How long the boot CPU waits for an AP that owns its start to read its
/// slots, and then to come online, before it goes on without it.
const OWNED_WAIT: Duration = Duration::from_secs(10);

/// Starts the CPU with `apic_id` as CPU `index` and waits until it is online.
pub fn start_ap(index: usize, apic_id: u32, entry: extern "C" fn(u64) -> !) -> ApStart {
    static TRAMPOLINE_INSTALLED: spin::Once<()> = spin::Once::new();
    TRAMPOLINE_INSTALLED.call_once(install_trampoline);
    let stack = match TRAMPOLINE_STACK.swap(0, Ordering::AcqRel) {
        0 => crate::mm::alloc_kernel_stack(KSTACK_PAGES).expect("out of memory for AP stacks"),
        s => s,
    };
    write_slot(core::ptr::addr_of!(ap_slot_cr3), boot::boot_pml4_phys());
    write_slot(
        core::ptr::addr_of!(ap_slot_entry),
        entry as *const () as u64,
    );
    write_slot(core::ptr::addr_of!(ap_slot_arg), index as u64);
    STARTED.store(usize::MAX, Ordering::Release);
    // Last: a non-zero stack slot opens the start to a claim.
    stack_slot().store(stack, Ordering::Release);
    let vector_page = (TRAMPOLINE_PHYS >> 12) as u8;
    apic::send_init(apic_id);
    cpu::delay_us(10_000);
    let claimed = || stack_slot().load(Ordering::Acquire) == 0;
    // The second SIPI is only for a CPU that missed the first; a CPU that is
    // already running ignores it.
    for _ in 0..2 {
        apic::send_startup(apic_id, vector_page);
        if wait_until(100_000, claimed) {
            break;
        }
    }
    match stack_slot().swap(0, Ordering::AcqRel) {
        0 => {} // claimed, perhaps just now
        s => {
            // Nobody owns the start; INIT stops the AP should it still come.
            TRAMPOLINE_STACK.store(s, Ordering::Release);
            apic::send_init(apic_id);
            return ApStart::Absent;
        }
    }
    let owned_wait = OWNED_WAIT.as_micros() as u64;
    if !wait_until(owned_wait, || STARTED.load(Ordering::Acquire) == index) {
        return ApStart::Late;
    }
    // The AP no longer reads the slots; give it time to finish.
    let target = percpu::cpu(index);
    if wait_until(owned_wait, || target.online.load(Ordering::Acquire)) {
        // Online: off the trampoline stack, which the next AP may have.
        TRAMPOLINE_STACK.store(stack, Ordering::Release);
        ApStart::Online
    } else {
        ApStart::Late
    }
}

/// The trampoline stack's top for the next AP (0: allocate one).
static TRAMPOLINE_STACK: AtomicU64 = AtomicU64::new(0);

/// Index of the AP that most recently reached Rust (usize::MAX: none yet).
static STARTED: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Called by an AP as its first Rust action: it has left the trampoline
/// and read its slots.
pub fn report_started(index: usize) {
    injected_delay();
    STARTED.store(index, Ordering::Release);
}

/// Called by an AP just before it reports online.
pub fn before_online() {
    injected_delay();
}

/// The `ap_delay=<ms>` fault injection (none without it).
fn injected_delay() {
    if let Some(ms) = crate::cmdline::value("ap_delay").and_then(|v| v.parse::<u64>().ok()) {
        cpu::delay_us(ms.min(60_000) * 1000);
    }
}

fn wait_until(us: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = cpu::rdtsc() + super::tsc::hz() / 1_000_000 * us;
    while cpu::rdtsc() < deadline {
        if cond() {
            return true;
        }
        core::hint::spin_loop();
    }
    cond()
}
