//! The interrupt descriptor table (one, shared by all CPUs) and the vector map.
//!
//! Every one of the 256 vectors has an entry stub in `trap.rs`; this file
//! only builds the gates that point at them.

use core::cell::UnsafeCell;

use super::gdt::{IST_DOUBLE_FAULT, IST_NMI, KERNEL_CODE};

/// Vector of the LAPIC timer.
pub const VECTOR_TIMER: u8 = 32;
/// First vector for IOAPIC-routed ISA IRQs (IRQ n arrives at 48 + n).
pub const VECTOR_IRQ_BASE: u8 = 48;
/// Vector of COM1's receive interrupt.
pub const VECTOR_COM1: u8 = VECTOR_IRQ_BASE + super::serial::COM1_IRQ;
/// Vector of the primary IDE channel (ISA IRQ 14).
pub const VECTOR_IDE: u8 = VECTOR_IRQ_BASE + 14;
/// Vector of the "look at your run queue" IPI.
pub const VECTOR_RESCHEDULE: u8 = 0xF0;
/// Vector of the "let go of a page table" IPI (see `tlb.rs`).
pub const VECTOR_TLB_SHOOTDOWN: u8 = 0xF1;
/// Vector of LAPIC internal errors.
pub const VECTOR_APIC_ERROR: u8 = 0xFE;
/// Vector of LAPIC spurious interrupts.
pub const VECTOR_SPURIOUS: u8 = 0xFF;

/// Exception vectors.
pub const VECTOR_NMI: u8 = 2;
pub const VECTOR_DOUBLE_FAULT: u8 = 8;
pub const VECTOR_PAGE_FAULT: u8 = 14;
pub const VECTOR_MACHINE_CHECK: u8 = 18;

#[derive(Clone, Copy)]
#[repr(C)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    type_attr: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

impl Gate {
    const EMPTY: Gate = Gate {
        offset_low: 0,
        selector: 0,
        ist: 0,
        type_attr: 0,
        offset_mid: 0,
        offset_high: 0,
        reserved: 0,
    };

    fn interrupt(handler: u64, ist: u8) -> Gate {
        Gate {
            offset_low: handler as u16,
            selector: KERNEL_CODE,
            ist,
            type_attr: 0x8E, // present, DPL 0, 64-bit interrupt gate
            offset_mid: (handler >> 16) as u16,
            offset_high: (handler >> 32) as u32,
            reserved: 0,
        }
    }
}

struct Idt(UnsafeCell<[Gate; 256]>);
// SAFETY: written once by the boot CPU in build() before any other CPU starts
// or any interrupt is enabled; read-only (by hardware) afterwards.
unsafe impl Sync for Idt {}

static IDT: Idt = Idt(UnsafeCell::new([Gate::EMPTY; 256]));

/// Fills the IDT from the trap stubs. Boot CPU, once, before interrupts.
pub fn build() {
    // SAFETY: see `Idt`: single writer during early boot, no reader yet.
    let idt = unsafe { &mut *IDT.0.get() };
    for (vector, gate) in idt.iter_mut().enumerate() {
        let ist = match vector as u8 {
            VECTOR_NMI | VECTOR_MACHINE_CHECK => IST_NMI,
            VECTOR_DOUBLE_FAULT => IST_DOUBLE_FAULT,
            _ => 0,
        };
        *gate = Gate::interrupt(super::trap::stub_address(vector), ist);
    }
}

/// Loads the IDT on this CPU.
pub fn load() {
    // SAFETY: IDT is a static, fully built table (build() ran on the boot CPU first).
    unsafe {
        let ptr = x86::dtables::DescriptorTablePointer {
            limit: (core::mem::size_of::<[Gate; 256]>() - 1) as u16,
            base: IDT.0.get() as *const Gate,
        };
        x86::dtables::lidt(&ptr);
    }
}
