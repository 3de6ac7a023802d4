//! x86_64 support: everything that touches the hardware directly.
//!
//! Boot order on the boot CPU ([`start::bsp_entry`], called by the PVH stub in `boot.rs`):
//! 1. per-CPU block 0 behind GS, so locks and `println!` know the CPU;
//! 2. COM1, so everything after can report;
//! 3. the PVH boot info (memory map, RSDP, command line), copied out of firmware memory;
//! 4. frame allocator and kernel heap (`crate::mm`), then the kernel's own page tables;
//! 5. GDT/TSS with IST stacks, then the IDT, so every exception is reported;
//! 6. ACPI MADT and HPET table, LAPIC, the TSC frequency (`tsc.rs`: measured against
//!    the HPET, the LAPIC timer measured against the TSC in the same window when there
//!    is no TSC-deadline mode), the TSC tick clock (`crate::time`), IOAPIC + COM1 IRQ;
//! 7. the APs, one at a time (`smp.rs`), each running `start::ap_entry`;
//! 8. timers on, interrupts on, then the portable kernel ([`crate::kmain`]).
//!
//! Each AP in `start::ap_entry`: per-CPU block, kernel page tables, GDT/TSS, IDT,
//! LAPIC with its timer (armed for the next tick edge), online flag, then idles in the scheduler.

pub mod acpi;
#[cfg(target_os = "none")]
pub mod apic;
#[cfg(target_os = "none")]
pub mod boot;
pub mod calibrate;
#[cfg(target_os = "none")]
pub mod cpu;
#[cfg(target_os = "none")]
pub mod debug_exit;
#[cfg(target_os = "none")]
pub mod fpu;
#[cfg(target_os = "none")]
pub mod gdt;
#[cfg(target_os = "none")]
pub mod hpet;
#[cfg(target_os = "none")]
pub mod idt;
#[cfg(target_os = "none")]
pub mod ioapic;
#[cfg(target_os = "none")]
pub mod paging;
#[cfg(target_os = "none")]
pub mod pci;
#[cfg(target_os = "none")]
pub mod percpu;
#[cfg(target_os = "none")]
pub mod serial;
#[cfg(target_os = "none")]
pub mod smp;
#[cfg(target_os = "none")]
mod start;
#[cfg(target_os = "none")]
pub mod switch;
#[cfg(target_os = "none")]
pub mod syscall_entry;
#[cfg(target_os = "none")]
pub mod tlb;
#[cfg(target_os = "none")]
pub mod trap;
#[cfg(target_os = "none")]
pub mod tsc;
