//! Local APIC: timer, IPIs, EOI, in x2APIC mode when CPUID offers it, xAPIC otherwise.
//!
//! Built on the `x2apic` crate, which drives both modes through one API.
//! Two of its conventions are xAPIC-unfriendly and are hidden here: its ICR
//! destination field is the x2APIC one (bits 32..63), so in xAPIC mode the
//! 8-bit APIC id must be shifted to bits 56..63; and its `id()` returns the
//! raw ID register, whose id sits in bits 24..31 in xAPIC mode.
//!
//! The timer: every CPU takes one interrupt per tick edge of the TSC tick
//! clock (`time::clock`), re-armed from the interrupt itself
//! ([`arm_next_tick`]) for the first edge after now, so the interrupts
//! follow the TSC and never drift from `uptime`:
//! - **TSC-deadline mode** when CPUID.1:ECX[24] offers it: the deadline
//!   MSR takes the edge's TSC value itself, nothing to calibrate. This
//!   machine's KVM (`-cpu host`) offers it.
//! - **One-shot mode** otherwise (QEMU 7.2 TCG: its CPU models and APIC
//!   emulation have no TSC-deadline): the initial count is the TSC
//!   distance to the edge (plus 1/128 of a tick, so an interrupt is never
//!   early and the edge is always past when it arrives) converted with the
//!   LAPIC timer's counts per TSC cycle, measured against the TSC over the
//!   boot CPU's TSC calibration (>= 50 ms, bracketed reads, the same
//!   arithmetic as `tsc.rs`: `calibrate.rs`).
//!
//! Why one-shot and not periodic mode with that count: a periodic timer's
//! phase has nothing to do with the tick edges, so a sleeper would wake
//! up to a whole period (10 ms, 1 % of `sleep(100)`) after its deadline,
//! and any residual error in the count piles up as drift between the
//! interrupt count and the clock. Re-arming costs one register write per
//! tick. Either way `uptime` no longer depends on the timer: it reads the
//! TSC (`time.rs`); the timer only decides how promptly sleepers wake and
//! slices end.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};

use x2apic::lapic::{IpiAllShorthand, LocalApic, LocalApicBuilder, TimerDivide, TimerMode};

use super::calibrate::{narrowest, Pair, Span};
use super::idt::{VECTOR_APIC_ERROR, VECTOR_SPURIOUS, VECTOR_TIMER};
use super::percpu::this_cpu;
use super::{cpu, paging};

/// Physical address of the xAPIC register page.
const XAPIC_PHYS: u64 = 0xFEE0_0000;

static X2APIC: AtomicBool = AtomicBool::new(false);

/// `IA32_TSC_DEADLINE`.
const MSR_TSC_DEADLINE: u32 = 0x6E0;

/// How every CPU's timer is armed (one of the `TIMER_*` values).
static TIMER_KIND: AtomicU8 = AtomicU8::new(TIMER_UNSET);
const TIMER_UNSET: u8 = 0;
const TIMER_TSC_DEADLINE: u8 = 1;
const TIMER_ONE_SHOT: u8 = 2;

/// LAPIC timer counts (divide-by-16) per 2^32 TSC cycles, measured on the
/// boot CPU (one-shot mode only).
static COUNTS_PER_2_32_CYCLES: AtomicU64 = AtomicU64::new(0);

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

fn cpu_has_tsc_deadline() -> bool {
    raw_cpuid::CpuId::new()
        .get_feature_info()
        .is_some_and(|f| f.has_tsc_deadline())
}

/// The boot CPU's LAPIC timer counting down from `u32::MAX` since the
/// first pair (LAPIC counts so far, bracketed by `rdtsc`).
pub struct TimerCalibration {
    start: Pair,
}

fn timer_pair(l: &LocalApic) -> Pair {
    let before = cpu::rdtsc();
    // SAFETY: reading this CPU's own current-count register.
    let left = unsafe { l.timer_current() };
    let after = cpu::rdtsc();
    Pair {
        before,
        reading: u64::from(u32::MAX - left),
        after,
    }
}

fn narrow_timer_pair(l: &LocalApic) -> Pair {
    narrowest((0..8).map(|_| timer_pair(l))).expect("eight pairs")
}

/// Picks the timer mode; for one-shot mode starts measuring the LAPIC
/// timer against the TSC (boot CPU, after `init_this_cpu`). Whatever runs
/// until [`finish_timer_calibration`] (the TSC calibration) is the window.
pub fn start_timer_calibration() -> Option<TimerCalibration> {
    if cpu_has_tsc_deadline() {
        TIMER_KIND.store(TIMER_TSC_DEADLINE, Ordering::Relaxed);
        return None;
    }
    TIMER_KIND.store(TIMER_ONE_SHOT, Ordering::Relaxed);
    Some(with_lapic(|l| {
        // SAFETY: reprogramming this CPU's own timer; its vector is
        // installed, and interrupts are off until the timers start.
        unsafe {
            l.set_timer_mode(TimerMode::OneShot);
            l.set_timer_initial(u32::MAX);
        }
        TimerCalibration {
            start: narrow_timer_pair(l),
        }
    }))
}

/// Ends the measurement: waits until the window is at least 50 ms of
/// TSC time (`tsc::init` has run), takes the end pair, and records the
/// LAPIC counts per TSC cycle.
pub fn finish_timer_calibration(cal: Option<TimerCalibration>) {
    let Some(cal) = cal else { return };
    let min_window = super::tsc::hz() / 20;
    while cpu::rdtsc().saturating_sub(cal.start.after) < min_window {
        core::hint::spin_loop();
    }
    with_lapic(|l| {
        let end = narrow_timer_pair(l);
        // SAFETY: as above; stops the countdown.
        unsafe { l.set_timer_initial(0) };
        let span = Span::between(&cal.start, &end, u64::from(u32::MAX))
            .expect("lapic: the timer does not count");
        COUNTS_PER_2_32_CYCLES.store(span.ref_per(1 << 32), Ordering::Relaxed);
    });
}

/// The timer mode, for the boot report.
pub fn timer_mode_name() -> &'static str {
    match TIMER_KIND.load(Ordering::Relaxed) {
        TIMER_TSC_DEADLINE => "TSC-deadline",
        TIMER_ONE_SHOT => "one-shot",
        _ => "unset",
    }
}

/// Arms this CPU's timer for the first tick edge after now (interrupts
/// off: from the timer interrupt or [`start_timer`]).
pub fn arm_next_tick() {
    let clock = crate::time::tick_clock();
    let now = cpu::rdtsc();
    let edge = clock.next_edge_after(now);
    match TIMER_KIND.load(Ordering::Relaxed) {
        // SAFETY: the LVT timer is in TSC-deadline mode (start_timer); a
        // deadline only schedules this CPU's timer interrupt.
        TIMER_TSC_DEADLINE => unsafe { cpu::wrmsr(MSR_TSC_DEADLINE, edge) },
        _ => {
            let margin = clock.cycles_per_tick / 128;
            let cycles = u128::from(edge - now + margin);
            let per = u128::from(COUNTS_PER_2_32_CYCLES.load(Ordering::Relaxed));
            let count = ((cycles * per) >> 32).clamp(1, u128::from(u32::MAX)) as u32;
            // SAFETY: writing this CPU's own initial count (re)starts its
            // one-shot countdown; 0, which would stop it, is excluded.
            with_lapic(|l| unsafe { l.set_timer_initial(count) });
        }
    }
}

/// Starts this CPU's tick (after the boot CPU calibrated, and after
/// `time::start_clock`).
pub fn start_timer() {
    let kind = TIMER_KIND.load(Ordering::Relaxed);
    assert!(
        kind == TIMER_TSC_DEADLINE || COUNTS_PER_2_32_CYCLES.load(Ordering::Relaxed) > 0,
        "lapic timer not calibrated"
    );
    with_lapic(|l| {
        // SAFETY: programming this CPU's own timer; its vector is installed.
        unsafe {
            if kind == TIMER_TSC_DEADLINE {
                l.set_timer_mode(TimerMode::TscDeadline);
            } else {
                l.set_timer_mode(TimerMode::OneShot);
            }
            l.enable_timer();
        }
    });
    // The LVT write must be ordered before a deadline write: in xAPIC mode
    // it is a store to MMIO and WRMSR is not serialising for it (SDM
    // 10.5.4.1, "software must order ... using MFENCE").
    cpu::mfence();
    arm_next_tick();
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
