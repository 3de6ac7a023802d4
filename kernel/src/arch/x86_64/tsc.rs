//! Time-stamp counter frequency: from CPUID when it says, else measured against the PIT.
//!
//! Sources tried in order: CPUID leaf 0x15 (crystal ratio), the hypervisor
//! leaf 0x4000_0010 (KVM/VMware TSC kHz), CPUID leaf 0x16 (base MHz), and
//! finally a 50 ms count on PIT channel 2. The winner is recorded so the
//! banner, trace headers and benchmarks can say where the number came from.
//! Also measured: the cost of one `rdtsc` (it traps under this machine's KVM).

use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use super::cpu::{inb, outb, rdtsc};

static HZ: AtomicU64 = AtomicU64::new(0);
static SOURCE: AtomicU8 = AtomicU8::new(0);
static READ_COST: AtomicU64 = AtomicU64::new(0);

/// Where the TSC frequency came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TscSource {
    Unknown = 0,
    CpuidCrystal = 1,
    Hypervisor = 2,
    CpuidBaseFrequency = 3,
    PitCalibration = 4,
}

impl TscSource {
    pub fn name(self) -> &'static str {
        match self {
            TscSource::Unknown => "unknown",
            TscSource::CpuidCrystal => "cpuid 0x15",
            TscSource::Hypervisor => "hypervisor cpuid 0x40000010",
            TscSource::CpuidBaseFrequency => "cpuid 0x16",
            TscSource::PitCalibration => "PIT calibration",
        }
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
        _ => TscSource::Unknown,
    }
}

/// Median cycles of one `rdtsc`, measured at boot.
pub fn read_cost() -> u64 {
    READ_COST.load(Ordering::Relaxed)
}

fn from_cpuid() -> Option<(u64, TscSource)> {
    let cpuid = raw_cpuid::CpuId::new();
    if let Some(hz) = cpuid.get_tsc_info().and_then(|t| t.tsc_frequency()) {
        if hz > 0 {
            return Some((hz, TscSource::CpuidCrystal));
        }
    }
    if let Some(khz) = cpuid.get_hypervisor_info().and_then(|h| h.tsc_frequency()) {
        if khz > 0 {
            return Some((u64::from(khz) * 1000, TscSource::Hypervisor));
        }
    }
    if let Some(mhz) = cpuid
        .get_processor_frequency_info()
        .map(|f| f.processor_base_frequency())
    {
        if mhz > 0 {
            return Some((u64::from(mhz) * 1_000_000, TscSource::CpuidBaseFrequency));
        }
    }
    None
}

/// Counts TSC ticks during 50 ms of PIT channel 2 (1.193182 MHz).
fn from_pit() -> u64 {
    const PIT_HZ: u64 = 1_193_182;
    const COUNT: u64 = PIT_HZ / 20;
    let gate = inb(0x61);
    outb(0x61, (gate & !0x02) | 0x01); // speaker off, gate channel 2 on
    outb(0x43, 0b1011_0000); // channel 2, lo/hi byte, mode 0, binary
    outb(0x42, COUNT as u8);
    outb(0x42, (COUNT >> 8) as u8);
    let g = inb(0x61) & !0x01;
    outb(0x61, g); // restart the count with a gate edge
    outb(0x61, g | 0x01);
    let start = rdtsc();
    while inb(0x61) & 0x20 == 0 {
        core::hint::spin_loop();
    }
    let cycles = rdtsc() - start;
    outb(0x61, gate);
    cycles * 20
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

/// Finds the TSC frequency. Boot CPU, once, before timers are calibrated.
pub fn init() {
    let (hz, src) = from_cpuid().unwrap_or_else(|| (from_pit(), TscSource::PitCalibration));
    HZ.store(hz, Ordering::Relaxed);
    SOURCE.store(src as u8, Ordering::Relaxed);
    READ_COST.store(measure_read_cost(), Ordering::Relaxed);
}
