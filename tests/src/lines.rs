//! Parsers for the console lines the kernel prints at boot (and the
//! memory line closing a ^P listing).
//!
//! Pure functions, unit-tested against the exact text of `kernel/src/banner.rs`.
//! The fixed parts come from `berth_abi::markers` where the ABI defines
//! them; the rest (`memory: `, `apic: `, `tsc: `, `cpu N online`) are
//! spelled here, next to the parser that depends on them.

use berth_abi::markers::{
    ALL_TICKING_PREFIX, BANNER_PREFIX, CPUS_ONLINE_SUFFIX, FREE_MEMORY_PREFIX,
};

/// Start of the memory line: `memory: 510 MiB usable`.
pub const MEMORY_PREFIX: &str = "memory: ";
/// Start of the APIC line: `apic: x2APIC`.
pub const APIC_PREFIX: &str = "apic: ";
/// Start of the TSC line: `tsc: 2596.631 MHz (source: ...; rdtsc costs N cycles)`.
pub const TSC_PREFIX: &str = "tsc: ";
/// Start of the clock line: `clock: 100 Hz from the TSC (...); lapic timer: ...`.
pub const CLOCK_PREFIX: &str = "clock: ";
/// Start of `clockprobe`'s lines: `clock tsc=123 ticks=45`.
pub const CLOCK_PROBE_PREFIX: &str = "clock tsc=";
/// End of the first banner line: `berth 0.1.0 (x86_64 SMP)`.
pub const BANNER_SUFFIX: &str = " (x86_64 SMP)";

/// Which local APIC interface the kernel drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApicMode {
    /// MSR-based x2APIC.
    X2Apic,
    /// Memory-mapped xAPIC.
    XApic,
}

/// The TSC line's fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Tsc {
    /// Measured frequency in MHz.
    pub mhz: f64,
    /// How the frequency was found (e.g. `PIT calibration`).
    pub source: String,
    /// Cycles one `rdtsc` costs (about 6,000 under the PVM KVM, 26 under TCG).
    pub read_cycles: u64,
}

/// The clock line's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clock {
    /// Tick rate of `uptime`.
    pub hz: u64,
    /// For a measured TSC frequency, the kernel's bound on its error (ppm).
    pub error_ppm: Option<u64>,
    /// How the LAPIC timer is armed: `one-shot` or `TSC-deadline`.
    pub timer: String,
}

/// The `timer: all N CPUs ticking at H Hz (ticks: ...)` line's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticking {
    /// CPUs ticking.
    pub cpus: usize,
    /// Tick rate.
    pub hz: u64,
    /// Ticks each CPU had taken, by CPU index.
    pub ticks: Vec<u64>,
}

/// The ^P listing's memory line, in KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FreeMemory {
    /// RAM not allocated to anything.
    pub free: u64,
    /// RAM the frame allocator manages.
    pub total: u64,
    /// Kernel heap in use.
    pub heap_used: u64,
    /// Kernel heap size.
    pub heap: u64,
}

impl FreeMemory {
    /// Whether free RAM and heap are back to `before`'s, within `slack_kib`.
    pub fn gave_back(&self, before: &FreeMemory, slack_kib: u64) -> bool {
        self.free + slack_kib >= before.free && self.heap_used <= before.heap_used + slack_kib
    }
}

/// `free: 455936K of 521664K RAM; kernel heap 4824K of 65208K in use`.
pub fn parse_free_memory(line: &str) -> Option<FreeMemory> {
    let rest = line.strip_prefix(FREE_MEMORY_PREFIX)?;
    let (free, rest) = rest.split_once("K of ")?;
    let (total, rest) = rest.split_once("K RAM; kernel heap ")?;
    let (heap_used, rest) = rest.split_once("K of ")?;
    let heap = rest.strip_suffix("K in use")?;
    Some(FreeMemory {
        free: free.parse().ok()?,
        total: total.parse().ok()?,
        heap_used: heap_used.parse().ok()?,
        heap: heap.parse().ok()?,
    })
}

/// `berth 0.1.0 (x86_64 SMP)` -> `0.1.0`.
pub fn parse_banner(line: &str) -> Option<String> {
    let version = line
        .strip_prefix(BANNER_PREFIX)?
        .strip_suffix(BANNER_SUFFIX)?;
    (!version.is_empty() && !version.contains(' ')).then(|| version.to_string())
}

/// `memory: 510 MiB usable` -> 510.
pub fn parse_memory(line: &str) -> Option<u64> {
    line.strip_prefix(MEMORY_PREFIX)?
        .strip_suffix(" MiB usable")?
        .parse()
        .ok()
}

/// `apic: x2APIC` / `apic: xAPIC`.
pub fn parse_apic(line: &str) -> Option<ApicMode> {
    match line.strip_prefix(APIC_PREFIX)? {
        "x2APIC" => Some(ApicMode::X2Apic),
        "xAPIC" => Some(ApicMode::XApic),
        _ => None,
    }
}

/// `tsc: 2596.631 MHz (source: PIT calibration; rdtsc costs 5980 cycles)`.
pub fn parse_tsc(line: &str) -> Option<Tsc> {
    let rest = line.strip_prefix(TSC_PREFIX)?;
    let (mhz, rest) = rest.split_once(" MHz (source: ")?;
    let (source, rest) = rest.split_once("; rdtsc costs ")?;
    let cycles = rest.strip_suffix(" cycles)")?;
    Some(Tsc {
        mhz: mhz.parse().ok()?,
        source: source.to_string(),
        read_cycles: cycles.parse().ok()?,
    })
}

/// `clock: 100 Hz from the TSC (frequency within 3 ppm, measured over
/// 50.1 ms); lapic timer: one-shot at tick edges`, or `(frequency as
/// reported, not measured)` in the middle.
pub fn parse_clock(line: &str) -> Option<Clock> {
    let rest = line.strip_prefix(CLOCK_PREFIX)?;
    let (hz, rest) = rest.split_once(" Hz from the TSC (")?;
    let (how, rest) = rest.split_once("); lapic timer: ")?;
    let timer = rest.strip_suffix(" at tick edges")?;
    let error_ppm = match how.strip_prefix("frequency within ") {
        Some(m) => Some(m.split_once(" ppm, measured over ")?.0.parse().ok()?),
        None if how == "frequency as reported, not measured" => None,
        None => return None,
    };
    Some(Clock {
        hz: hz.parse().ok()?,
        error_ppm,
        timer: timer.to_string(),
    })
}

/// `clock tsc=123 ticks=45` (`clockprobe`) -> (123, 45).
pub fn parse_clock_probe(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix(CLOCK_PROBE_PREFIX)?;
    let (tsc, ticks) = rest.split_once(" ticks=")?;
    Some((tsc.parse().ok()?, ticks.parse().ok()?))
}

/// `cpu 3 online (apic id 3)` -> (3, 3).
pub fn parse_cpu_online(line: &str) -> Option<(usize, u32)> {
    let rest = line.strip_prefix("cpu ")?;
    let (index, rest) = rest.split_once(" online (apic id ")?;
    let apic_id = rest.strip_suffix(')')?;
    Some((index.parse().ok()?, apic_id.parse().ok()?))
}

/// `8 of 8 CPUs online` -> (8, 8): (online, listed by the firmware).
pub fn parse_cpus_online(line: &str) -> Option<(usize, usize)> {
    let counts = line.strip_suffix(CPUS_ONLINE_SUFFIX)?.strip_suffix(' ')?;
    let (online, listed) = counts.split_once(" of ")?;
    Some((online.parse().ok()?, listed.parse().ok()?))
}

/// `timer: all 2 CPUs ticking at 100 Hz (ticks: 10 11)`. The kernel's
/// other form, `timer: only ...`, means some CPU is silent and is `None`.
pub fn parse_ticking(line: &str) -> Option<Ticking> {
    let rest = line.strip_prefix(ALL_TICKING_PREFIX)?;
    let (cpus, rest) = rest.split_once(" CPUs ticking at ")?;
    let (hz, rest) = rest.split_once(" Hz (ticks:")?;
    let ticks = rest.strip_suffix(')')?;
    let ticks: Option<Vec<u64>> = ticks.split_whitespace().map(|t| t.parse().ok()).collect();
    Some(Ticking {
        cpus: cpus.parse().ok()?,
        hz: hz.parse().ok()?,
        ticks: ticks?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as printed by the kernel under TCG and KVM (from real runs).
    #[test]
    fn banner_lines() {
        assert_eq!(
            parse_banner("berth 0.1.0 (x86_64 SMP)").as_deref(),
            Some("0.1.0")
        );
        assert_eq!(parse_banner("berth (x86_64 SMP)"), None);
        assert_eq!(parse_banner("berth 0.1.0"), None);
        assert_eq!(parse_memory("memory: 510 MiB usable"), Some(510));
        assert_eq!(parse_memory("memory: lots MiB usable"), None);
        assert_eq!(parse_apic("apic: x2APIC"), Some(ApicMode::X2Apic));
        assert_eq!(parse_apic("apic: xAPIC"), Some(ApicMode::XApic));
        assert_eq!(parse_apic("apic: none"), None);
    }

    #[test]
    fn free_memory_line() {
        assert_eq!(
            parse_free_memory("free: 455936K of 521664K RAM; kernel heap 4824K of 65208K in use"),
            Some(FreeMemory {
                free: 455936,
                total: 521664,
                heap_used: 4824,
                heap: 65208
            })
        );
        assert_eq!(
            parse_free_memory("free: 455936K of 521664K RAM; kernel heap 4824K in use"),
            None
        );
        assert_eq!(parse_free_memory("memory: 510 MiB usable"), None);
    }

    #[test]
    fn tsc_line() {
        let tsc = parse_tsc("tsc: 2596.631 MHz (source: PIT calibration; rdtsc costs 5980 cycles)")
            .unwrap();
        assert_eq!(tsc.mhz, 2596.631);
        assert_eq!(tsc.source, "PIT calibration");
        assert_eq!(tsc.read_cycles, 5980);
        assert_eq!(parse_tsc("tsc: fast"), None);
    }

    #[test]
    fn clock_lines() {
        assert_eq!(
            parse_clock(
                "clock: 100 Hz from the TSC (frequency within 3 ppm, measured over 50.1 ms); \
                 lapic timer: one-shot at tick edges"
            ),
            Some(Clock {
                hz: 100,
                error_ppm: Some(3),
                timer: "one-shot".to_string()
            })
        );
        assert_eq!(
            parse_clock(
                "clock: 100 Hz from the TSC (frequency as reported, not measured); \
                 lapic timer: TSC-deadline at tick edges"
            ),
            Some(Clock {
                hz: 100,
                error_ppm: None,
                timer: "TSC-deadline".to_string()
            })
        );
        assert_eq!(parse_clock("clock: fast"), None);
        assert_eq!(
            parse_clock_probe("clock tsc=2596120000 ticks=101"),
            Some((2_596_120_000, 101))
        );
        assert_eq!(parse_clock_probe("clock tsc=x ticks=1"), None);
    }

    #[test]
    fn cpu_lines() {
        assert_eq!(parse_cpu_online("cpu 7 online (apic id 7)"), Some((7, 7)));
        assert_eq!(parse_cpu_online("cpu x online (apic id 7)"), None);
        assert_eq!(parse_cpus_online("8 of 8 CPUs online"), Some((8, 8)));
        assert_eq!(parse_cpus_online("7 of 8 CPUs online"), Some((7, 8)));
        assert_eq!(parse_cpus_online("all CPUs online"), None);
    }

    #[test]
    fn ticking_line() {
        let t =
            parse_ticking("timer: all 8 CPUs ticking at 100 Hz (ticks: 10 16 15 14 13 12 11 10)")
                .unwrap();
        assert_eq!(t.cpus, 8);
        assert_eq!(t.hz, 100);
        assert_eq!(t.ticks, [10, 16, 15, 14, 13, 12, 11, 10]);
        assert_eq!(
            parse_ticking("timer: only 2 of 3 CPUs ticking (ticks: 10 0 3)"),
            None
        );
        assert_eq!(
            parse_ticking("timer: all 1 CPUs ticking at 100 Hz (ticks: 1x)"),
            None
        );
    }
}
