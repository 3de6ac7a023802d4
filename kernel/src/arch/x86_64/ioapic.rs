//! IOAPIC: routes device IRQs (COM1 now, the disk later) to CPU vectors.
//!
//! Uses the `x2apic` crate's IOAPIC driver on the direct-mapped register
//! window. ISA IRQs are remapped through the MADT's interrupt source
//! overrides before they are routed.

use crate::sync::SpinLock;
use x2apic::ioapic::{IoApic, IrqFlags, IrqMode, RedirectionTableEntry};

use super::acpi::Madt;
use super::idt::VECTOR_IRQ_BASE;
use super::paging;

struct Router {
    ioapic: IoApic,
    gsi_base: u32,
}

// SAFETY: the IoApic handle only holds an MMIO address; all access goes through the mutex.
unsafe impl Send for Router {}

static ROUTER: SpinLock<Option<Router>> = SpinLock::new("ioapic", None);
static OVERRIDES: spin::Once<Madt> = spin::Once::new();

/// Sets up the first IOAPIC described by the MADT, with every line masked.
pub fn init(madt: &Madt) {
    let Some(info) = madt.ioapics().first() else {
        panic!("acpi: MADT lists no IOAPIC");
    };
    OVERRIDES.call_once(|| madt.clone());
    // SAFETY: the register window is mapped uncached in the direct map, and this
    // is the only handle to it (stored in ROUTER).
    let mut ioapic = unsafe { IoApic::new(paging::phys_to_virt(u64::from(info.address))) };
    // SAFETY: masks and programs every redirection entry of this IOAPIC.
    unsafe { ioapic.init(VECTOR_IRQ_BASE) };
    *ROUTER.lock() = Some(Router {
        ioapic,
        gsi_base: info.gsi_base,
    });
}

/// Routes ISA `irq` to vector `VECTOR_IRQ_BASE + irq` on the CPU with `apic_id`.
pub fn route_isa_irq(irq: u8, apic_id: u32) {
    let madt = OVERRIDES.get().expect("ioapic not initialised");
    let (gsi, flags) = madt.isa_irq_to_gsi(irq);
    let mut guard = ROUTER.lock();
    let router = guard.as_mut().expect("ioapic not initialised");
    let pin = (gsi - router.gsi_base) as u8;
    let mut entry = RedirectionTableEntry::default();
    entry.set_mode(IrqMode::Fixed);
    let mut f = IrqFlags::empty();
    if flags.level_triggered {
        f |= IrqFlags::LEVEL_TRIGGERED;
    }
    if flags.active_low {
        f |= IrqFlags::LOW_ACTIVE;
    }
    entry.set_flags(f);
    entry.set_vector(VECTOR_IRQ_BASE + irq);
    entry.set_dest(apic_id as u8);
    // SAFETY: programs one redirection entry to a vector with an IDT handler.
    unsafe {
        router.ioapic.set_table_entry(pin, entry);
        router.ioapic.enable_irq(pin);
    }
}
