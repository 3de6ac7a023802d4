//! Local APIC: timer, IPIs, EOI, in x2APIC mode when CPUID offers it, xAPIC otherwise.
//!
//! Built on the `x2apic` crate, which drives both modes through one API.
//! Two of its conventions are xAPIC-unfriendly and are hidden here: its ICR
//! destination field is the x2APIC one (bits 32..63), so in xAPIC mode the
//! 8-bit APIC id must be shifted to bits 56..63; and its `id()` returns the
//! raw ID register, whose id sits in bits 24..31 in xAPIC mode.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use x2apic::lapic::{IpiAllShorthand, LocalApic, LocalApicBuilder, TimerDivide, TimerMode};

use super::idt::{VECTOR_APIC_ERROR, VECTOR_SPURIOUS, VECTOR_TIMER};
use super::percpu::this_cpu;
use super::{cpu, paging};

/// Physical address of the xAPIC register page.
const XAPIC_PHYS: u64 = 0xFEE0_0000;

static X2APIC: AtomicBool = AtomicBool::new(false);
/// LAPIC timer counts (divide-by-16) per scheduler tick, measured on the boot CPU.
static TIMER_COUNT_PER_TICK: AtomicU32 = AtomicU32::new(0);

/// This CPU's local APIC.
pub struct Lapic {
    inner: LocalApic,
}

/// Which register interface the LAPICs use.
pub fn mode_name() -> &'static str {
    if X2APIC.load(Ordering::Relaxed) {
        "x2APIC"
    } else {
        "xAPIC"
    }
}

fn cpu_has_x2apic() -> bool {
    raw_cpuid::CpuId::new()
        .get_feature_info()
        .is_some_and(|f| f.has_x2apic())
}

fn dest(apic_id: u32) -> u32 {
    if X2APIC.load(Ordering::Relaxed) {
        apic_id
    } else {
        apic_id << 24
    }
}

/// Enables this CPU's LAPIC with its timer masked-off (initial count 0) and
/// stores the handle in the per-CPU block.
pub fn init_this_cpu() {
    X2APIC.store(cpu_has_x2apic(), Ordering::Relaxed);
    let lapic = LocalApicBuilder::new()
        .timer_vector(VECTOR_TIMER as usize)
        .error_vector(VECTOR_APIC_ERROR as usize)
        .spurious_vector(VECTOR_SPURIOUS as usize)
        .timer_mode(TimerMode::Periodic)
        .timer_divide(TimerDivide::Div16)
        .timer_initial(0)
        .set_xapic_base(paging::phys_to_virt(XAPIC_PHYS))
        .build()
        .unwrap_or_else(|e| panic!("lapic: {e}"));
    let mut lapic = Lapic { inner: lapic };
    // SAFETY: enabling this CPU's own LAPIC; the xAPIC page is mapped uncached
    // in the direct map, and x2APIC mode is only chosen when CPUID reports it.
    unsafe { lapic.inner.enable() };
    // SAFETY: on the owning CPU with interrupts off (start-up path).
    unsafe { *this_cpu().lapic.get_mut() = Some(lapic) };
}

fn with_lapic<R>(f: impl FnOnce(&mut LocalApic) -> R) -> R {
    super::percpu::push_irq_off();
    // SAFETY: own CPU, interrupts off, so no handler can hold the reference too.
    let slot = unsafe { this_cpu().lapic.get_mut() };
    let r = f(&mut slot.as_mut().expect("lapic used before init").inner);
    super::percpu::pop_irq_off();
    r
}

/// This CPU's APIC id (usable before `init_this_cpu`, straight from CPUID).
pub fn current_apic_id() -> u32 {
    let cpuid = raw_cpuid::CpuId::new();
    if cpu_has_x2apic() {
        if let Some(topo) = cpuid.get_extended_topology_info() {
            if let Some(level) = topo.into_iter().next() {
                return level.x2apic_id();
            }
        }
    }
    cpuid
        .get_feature_info()
        .map_or(0, |f| f.initial_local_apic_id() as u32)
}

/// Signals end of interrupt.
pub fn end_of_interrupt() {
    // SAFETY: EOI is always valid after an interrupt was delivered.
    with_lapic(|l| unsafe { l.end_of_interrupt() });
}

/// Measures the LAPIC timer against the TSC on the boot CPU (10 ms window).
pub fn calibrate_timer(ticks_per_sec: u64) {
    with_lapic(|l| {
        // SAFETY: reprogramming this CPU's own timer; its vector is installed.
        unsafe {
            l.set_timer_mode(TimerMode::OneShot);
            l.set_timer_initial(u32::MAX);
        }
        cpu::delay_us(10_000);
        // SAFETY: as above.
        let left = unsafe { l.timer_current() };
        // SAFETY: as above; stops the one-shot countdown.
        unsafe { l.set_timer_initial(0) };
        let per_10ms = u64::from(u32::MAX - left);
        let per_tick = (per_10ms * 100 / ticks_per_sec).clamp(1, u64::from(u32::MAX));
        TIMER_COUNT_PER_TICK.store(per_tick as u32, Ordering::Relaxed);
    });
}

/// Starts this CPU's periodic tick (after `calibrate_timer` ran on the boot CPU).
pub fn start_timer() {
    let count = TIMER_COUNT_PER_TICK.load(Ordering::Relaxed);
    assert!(count > 0, "lapic timer not calibrated");
    with_lapic(|l| {
        // SAFETY: programming this CPU's own timer with a calibrated count.
        unsafe {
            l.set_timer_mode(TimerMode::Periodic);
            l.set_timer_initial(count);
            l.enable_timer();
        }
    });
}

/// Sends INIT to the CPU with `apic_id`.
pub fn send_init(apic_id: u32) {
    // SAFETY: INIT is only sent to APs that have not started yet.
    with_lapic(|l| unsafe { l.send_init_ipi(dest(apic_id)) });
}

/// Sends a start-up IPI: the AP starts in real mode at `vector_page * 4096`.
pub fn send_startup(apic_id: u32, vector_page: u8) {
    // SAFETY: the trampoline is in place at that page before this is called.
    with_lapic(|l| unsafe { l.send_sipi(vector_page, dest(apic_id)) });
}

/// Sends a fixed IPI with `vector` to the CPU with `apic_id`.
pub fn send_ipi(apic_id: u32, vector: u8) {
    // SAFETY: the vector has a handler in the IDT.
    with_lapic(|l| unsafe { l.send_ipi(vector, dest(apic_id)) });
}

/// Sends an NMI to every other CPU (panic path: must not take locks).
pub fn send_nmi_to_others() {
    // SAFETY: reached from the panic path on a CPU whose LAPIC is enabled.
    // A panicking CPU may already hold its own slot through with_lapic (a
    // panic inside it), so the slot is read directly; the NMI is the last
    // thing this CPU does with its LAPIC.
    unsafe {
        if let Some(l) = this_cpu().lapic.get_mut().as_mut() {
            l.inner.send_nmi_all(IpiAllShorthand::AllExcludingSelf);
        }
    }
}
