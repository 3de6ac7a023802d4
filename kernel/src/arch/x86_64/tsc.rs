//! The time-stamp counter's frequency, from the best source the machine
//! offers, and where it came from; the cost of one `rdtsc`.
//!
//! Everything that turns cycles into time uses [`hz`]: the tick clock
//! (`time.rs`: `uptime`, `sleep`), the scheduler's slice, the trace and
//! benchmark headers (which also name [`source`]), delays. So the number
//! has to be right, not just plausible: the aim is an error under 0.1 %
//! with a bound that says so.
//!
//! Sources, best first:
//! 1. CPUID leaf 0x15 with a crystal frequency (ECX ≠ 0): exact by
//!    definition (the TSC is the crystal times EBX/EAX);
//! 2. the hypervisor leaf 0x4000_0010 (KVM/VMware: TSC kHz), what the
//!    host says it programmed;
//! 3. a measurement against the HPET (QEMU's `pc` machine has one, found
//!    through the ACPI `HPET` table: a 100 MHz counter, 10 ns a tick);
//! 4. a measurement against PIT channel 2 (1.193182 MHz);
//! 5. CPUID leaf 0x16's base frequency: a nominal whole number of MHz
//!    (up to ~0.04 % off at 2.6 GHz even when the TSC runs at exactly the
//!    base clock, and nothing says it does), so it ranks below a PIT
//!    measurement that meets its bound, and is used only if none does.
//!
//! Under QEMU 7.2 neither TCG (`qemu64`) nor this machine's KVM (`-cpu
//! host`) offers leaf 0x15 with a crystal, 0x4000_0010 or 0x16, so the
//! HPET is the source in both.
//!
//! Measuring (arithmetic in `calibrate.rs`, host-tested): a sample is a
//! bracketed pair `(rdtsc, read the reference, rdtsc)`; the narrowest of a
//! few tries is kept, retrying while it is wider than 20 µs (by a rough
//! 1 ms estimate made first). The window runs from the best start pair to
//! the best end pair, at least 50 ms; `hz = dTSC / dt` with the bound
//! `(w0/2 + w1/2) / dTSC + 1 / dRef`. If the bound is over 100 ppm the
//! window is extended (an end pair taken 25 ms later, up to 500 ms).
//! Both clocks count real time, so the host descheduling the vCPU *inside*
//! the window does not matter; only inside a pair, where it shows as a
//! wide bracket. This replaces a single 50 ms PIT count timed by bare
//! `rdtsc`s around a poll loop, which read 0.2-2.7 % high at 1-2 CPUs and
//! 16 % at 8: a stall of the vCPU between the count's end and the poll
//! that saw it was counted as part of the 50 ms, and nothing noticed.
//! Observed brackets: ~340 cycles (0.13 µs) for an HPET read under TCG,
//! so the 50 ms window ends with a bound of ~3 ppm; ~34,000 cycles
//! (13 µs, `rdtsc` and the MMIO both trap) under this machine's PVM KVM,
//! so the window grows to 150-175 ms. Why 50 ms and not 100: at those widths
//! 50 ms is already far inside 0.1 % under TCG, and boot time counts.
//!
//! The PIT fallback is bracketed the same way: the count starts when its
//! high byte is written (mode 0; QEMU's mode 0 ignores the gate, and real
//! hardware counts from the next input clock while the gate is high, which
//! it already is), so that `outb` is bracketed by `rdtsc`s; the terminal
//! count is found by polling OUT2 (port 0x61 bit 5), and the edge lies
//! between the TSC before the last poll that saw it clear and the TSC
//! after the first that saw it set. A window whose bound is over 100 ppm
//! is retried (five tries, the best kept); one over 1,000 ppm loses to
//! leaf 0x16 when the CPU has it. With `-machine pc,hpet=off`: TCG reads
//! 2596.118-2596.123 MHz (bound ~20 ppm, mostly the PIT's own 0.84 µs
//! tick), this KVM 2596.29 MHz (bound ~450 ppm: every poll traps).
//!
//! Also measured: the cost of one `rdtsc` (it traps under this machine's
//! KVM: ~8,000 cycles; 26 under TCG), for trace and benchmark headers.

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use super::calibrate::{narrowest, Estimate, Pair, Span, FS_PER_SEC, PIT_PERIOD_FS};
use super::cpu::{inb, outb, rdtsc};
use super::hpet::Hpet;

static HZ: AtomicU64 = AtomicU64::new(0);
static SOURCE: AtomicU8 = AtomicU8::new(0);
static READ_COST: AtomicU64 = AtomicU64::new(0);
/// The measurement's error bound in ppm (u64::MAX: not measured).
static ERROR_PPM: AtomicU64 = AtomicU64::new(u64::MAX);
/// The measurement's window in TSC cycles (0: not measured).
static WINDOW_CYCLES: AtomicU64 = AtomicU64::new(0);

/// Bound a measurement aims for (0.01 %, a tenth of what is asked).
const TARGET_PPM: u64 = 100;
/// Worst bound a PIT measurement may have and still beat leaf 0x16.
const PIT_ACCEPT_PPM: u64 = 1_000;
/// A pair wider than this (at the rough estimate) is taken again.
const NARROW_US: u64 = 20;
/// Shortest and longest HPET window, and how much longer each extension is.
const MIN_WINDOW_MS: u64 = 50;
const MAX_WINDOW_MS: u64 = 500;
const EXTEND_MS: u64 = 25;
/// Pairs tried for one sample: at least the first, at most the second.
const MIN_TRIES: usize = 4;
const MAX_TRIES: usize = 32;
/// Believable TSC rates; a measurement outside is a broken reference.
const PLAUSIBLE_HZ: core::ops::RangeInclusive<u64> = 100_000_000..=20_000_000_000;
/// A frequency to run on when nothing at all could be found.
const GUESS_HZ: u64 = 2_000_000_000;

/// Where the TSC frequency came from (the values are the trace ABI's
/// `tsc_source` numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TscSource {
    Unknown = 0,
    CpuidCrystal = 1,
    Hypervisor = 2,
    CpuidBaseFrequency = 3,
    PitCalibration = 4,
    HpetCalibration = 5,
}

impl TscSource {
    pub fn name(self) -> &'static str {
        berth_abi::trace::tsc_source::name(self as u32)
    }
}

/// TSC ticks per second (0 before `init`).
pub fn hz() -> u64 {
    HZ.load(Ordering::Relaxed)
}

/// Where [`hz`] came from.
pub fn source() -> TscSource {
    match SOURCE.load(Ordering::Relaxed) {
        1 => TscSource::CpuidCrystal,
        2 => TscSource::Hypervisor,
        3 => TscSource::CpuidBaseFrequency,
        4 => TscSource::PitCalibration,
        5 => TscSource::HpetCalibration,
        _ => TscSource::Unknown,
    }
}

/// For a measured [`hz`]: the bound on its error (ppm) and the window's
/// length (µs). `None` when it came from CPUID or a guess.
pub fn measurement() -> Option<(u64, u64)> {
    let cycles = WINDOW_CYCLES.load(Ordering::Relaxed);
    let hz = hz();
    (cycles > 0 && hz > 0).then(|| (ERROR_PPM.load(Ordering::Relaxed), cycles * 1_000_000 / hz))
}

/// Median cycles of one `rdtsc`, measured at boot.
pub fn read_cost() -> u64 {
    READ_COST.load(Ordering::Relaxed)
}

fn cpuid_crystal() -> Option<u64> {
    raw_cpuid::CpuId::new()
        .get_tsc_info()
        .and_then(|t| t.tsc_frequency())
        .filter(|&hz| hz > 0)
}

fn cpuid_hypervisor() -> Option<u64> {
    raw_cpuid::CpuId::new()
        .get_hypervisor_info()
        .and_then(|h| h.tsc_frequency())
        .filter(|&khz| khz > 0)
        .map(|khz| u64::from(khz) * 1000)
}

fn cpuid_base_frequency() -> Option<u64> {
    raw_cpuid::CpuId::new()
        .get_processor_frequency_info()
        .map(|f| u64::from(f.processor_base_frequency()) * 1_000_000)
        .filter(|&hz| hz > 0)
}

/// The narrowest of at least `MIN_TRIES` pairs from `read`, taking more
/// (up to `MAX_TRIES`) while it is wider than `limit` cycles.
fn narrow_pair(mut read: impl FnMut() -> Pair, limit: u64) -> Pair {
    let mut best = read();
    for i in 1..MAX_TRIES {
        if i >= MIN_TRIES && best.width() <= limit {
            break;
        }
        best = narrowest([best, read()]).unwrap_or(best);
    }
    best
}

/// Measures the TSC against the HPET at `phys` (see the module header).
fn from_hpet(phys: u64) -> Option<Estimate> {
    // SAFETY: `phys` is the block the ACPI HPET table names; nothing else
    // in the kernel touches the HPET.
    let hpet = unsafe { Hpet::start(phys) }?;
    let period = hpet.period_fs();
    let mask = u64::from(u32::MAX);
    let pair = || {
        let before = rdtsc();
        let reading = u64::from(hpet.counter());
        let after = rdtsc();
        Pair {
            before,
            reading,
            after,
        }
    };
    let ticks_per_ms = FS_PER_SEC / 1000 / period;
    let elapsed = |from: &Pair| u64::from(hpet.counter()).wrapping_sub(from.reading) & mask;
    // A counter that does not move within ~1-10 s of TSC time (whatever
    // the rate) is broken: give up on it rather than hang the boot.
    let stuck_after = 1u64 << 34;
    let wait = |from: &Pair, ticks: u64| -> bool {
        let t0 = rdtsc();
        while elapsed(from) < ticks {
            if rdtsc().wrapping_sub(t0) > stuck_after {
                return false;
            }
            core::hint::spin_loop();
        }
        true
    };

    // Rough rate over 1 ms, for the 20 µs bracket limit.
    let first = narrow_pair(pair, u64::MAX);
    if !wait(&first, ticks_per_ms) {
        return None;
    }
    let rough = Span::between(&first, &narrow_pair(pair, u64::MAX), mask)?.tsc_hz(period)?;
    let limit = rough.hz / 1_000_000 * NARROW_US;

    let start = if first.width() <= limit {
        first
    } else {
        narrow_pair(pair, limit)
    };
    let mut best: Option<Estimate> = None;
    let mut window = MIN_WINDOW_MS;
    while window <= MAX_WINDOW_MS {
        if !wait(&start, window * ticks_per_ms) {
            return None;
        }
        let end = narrow_pair(pair, limit);
        if let Some(e) = Span::between(&start, &end, mask).and_then(|s| s.tsc_hz(period)) {
            if best.is_none_or(|b| e.error_ppm < b.error_ppm) {
                best = Some(e);
            }
            if e.error_ppm <= TARGET_PPM {
                break;
            }
        }
        window += EXTEND_MS;
    }
    best.filter(|e| PLAUSIBLE_HZ.contains(&e.hz))
}

/// Port 0x61: bit 0 gates PIT channel 2, bit 1 drives the speaker from
/// it, bit 5 reads its OUT.
const PORT_B: u16 = 0x61;
const PIT_CH2: u16 = 0x42;
const PIT_MODE: u16 = 0x43;
/// ~50 ms of PIT input clock (1,193,182 / 20).
const PIT_COUNT: u16 = 59_659;

/// One bracketed 50 ms count on PIT channel 2 (see the module header).
fn pit_window() -> Option<Estimate> {
    let gate = inb(PORT_B);
    outb(PORT_B, (gate & !0x02) | 0x01); // speaker off, gate channel 2 on
    outb(PIT_MODE, 0b1011_0000); // channel 2, lo/hi byte, mode 0, binary
    outb(PIT_CH2, PIT_COUNT as u8);
    let before = rdtsc();
    outb(PIT_CH2, (PIT_COUNT >> 8) as u8); // the count starts here
    let after = rdtsc();
    let start = Pair {
        before,
        reading: 0,
        after,
    };
    // Poll OUT2: the edge lies after the last clear read (which began
    // after `last_clear_before`) and before the first set read ended.
    let mut poll_before = after;
    let mut last_clear_before = start.before;
    let mut end = None;
    // A PIT that has not ended a 50 ms count after 2^33 TSC cycles (0.4 s
    // even at 20 GHz, seconds at real rates) is not there.
    loop {
        let out = inb(PORT_B) & 0x20 != 0;
        let poll_after = rdtsc();
        if poll_after.wrapping_sub(start.after) > 1 << 33 {
            break;
        }
        if out {
            end = Some(Pair {
                before: last_clear_before,
                reading: u64::from(PIT_COUNT),
                after: poll_after,
            });
            break;
        }
        last_clear_before = poll_before;
        poll_before = poll_after;
    }
    outb(PORT_B, gate);
    Span::between(&start, &end?, u64::MAX)?
        .tsc_hz(PIT_PERIOD_FS)
        .filter(|e| PLAUSIBLE_HZ.contains(&e.hz))
}

/// The best of up to five PIT windows, stopping at one within the target.
fn from_pit() -> Option<Estimate> {
    let mut best: Option<Estimate> = None;
    for _ in 0..5 {
        let Some(e) = pit_window() else { continue };
        if best.is_none_or(|b| e.error_ppm < b.error_ppm) {
            best = Some(e);
        }
        if e.error_ppm <= TARGET_PPM {
            break;
        }
    }
    best
}

fn measure_read_cost() -> u64 {
    let mut samples = [0u64; 63];
    for s in samples.iter_mut() {
        let a = rdtsc();
        let b = rdtsc();
        *s = b.wrapping_sub(a);
    }
    samples.sort_unstable();
    samples[samples.len() / 2]
}

/// Picks the source (order in the module header) and measures if needed.
fn find(hpet_phys: Option<u64>) -> (u64, TscSource, Option<Estimate>) {
    if let Some(hz) = cpuid_crystal() {
        return (hz, TscSource::CpuidCrystal, None);
    }
    if let Some(hz) = cpuid_hypervisor() {
        return (hz, TscSource::Hypervisor, None);
    }
    if let Some(e) = hpet_phys.and_then(from_hpet) {
        return (e.hz, TscSource::HpetCalibration, Some(e));
    }
    let pit = from_pit();
    if let Some(e) = pit.filter(|e| e.error_ppm <= PIT_ACCEPT_PPM) {
        return (e.hz, TscSource::PitCalibration, Some(e));
    }
    if let Some(hz) = cpuid_base_frequency() {
        return (hz, TscSource::CpuidBaseFrequency, None);
    }
    match pit {
        Some(e) => (e.hz, TscSource::PitCalibration, Some(e)),
        None => (GUESS_HZ, TscSource::Unknown, None),
    }
}

/// Finds the TSC frequency: boot CPU, once, before anything converts
/// cycles to time. `hpet_phys`: the HPET's registers, if ACPI lists one.
pub fn init(hpet_phys: Option<u64>) {
    let (hz, src, measured) = find(hpet_phys);
    HZ.store(hz, Ordering::Relaxed);
    SOURCE.store(src as u8, Ordering::Relaxed);
    if let Some(e) = measured {
        ERROR_PPM.store(e.error_ppm, Ordering::Relaxed);
        WINDOW_CYCLES.store(e.tsc_cycles, Ordering::Relaxed);
    }
    READ_COST.store(measure_read_cost(), Ordering::Relaxed);
}
