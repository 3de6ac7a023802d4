//! The boot banner: what the kernel says about the machine as it comes up
//! (the `tsc:` line's format is parsed by the tests and `perf/`: keep it).
//!
//! Formatting is pure (`write_*` take any `fmt::Write`) so it is unit-tested
//! on the host; the `print_*` wrappers send it to the console.

use core::fmt::{self, Write};

use berth_abi::markers::{ALL_TICKING_PREFIX, BANNER_PREFIX, CPUS_ONLINE_SUFFIX};

use crate::param::VERSION;

/// `berth 0.1.0 (x86_64 SMP)`, memory, APIC mode and TSC lines.
pub fn write_boot_banner(
    w: &mut impl Write,
    usable_bytes: u64,
    apic_mode: &str,
    tsc_hz: u64,
    tsc_source: &str,
    tsc_read_cycles: u64,
) -> fmt::Result {
    writeln!(w, "{BANNER_PREFIX}{VERSION} (x86_64 SMP)")?;
    writeln!(w, "memory: {} MiB usable", usable_bytes >> 20)?;
    writeln!(w, "apic: {apic_mode}")?;
    let khz = tsc_hz / 1000;
    writeln!(
        w,
        "tsc: {}.{:03} MHz (source: {tsc_source}; rdtsc costs {tsc_read_cycles} cycles)",
        khz / 1000,
        khz % 1000
    )
}

/// `clock: 100 Hz from the TSC (frequency within 3 ppm, measured over
/// 50.1 ms); lapic timer: one-shot at tick edges`. `measured` is the
/// bound in ppm and the window in µs (`None`: the frequency came from
/// CPUID, not a measurement); `timer_mode` how the LAPIC timer is armed.
pub fn write_clock(
    w: &mut impl Write,
    hz: u64,
    measured: Option<(u64, u64)>,
    timer_mode: &str,
) -> fmt::Result {
    write!(w, "clock: {hz} Hz from the TSC (")?;
    match measured {
        Some((ppm, us)) => write!(
            w,
            "frequency within {ppm} ppm, measured over {}.{} ms",
            us / 1000,
            us % 1000 / 100
        )?,
        None => write!(w, "frequency as reported, not measured")?,
    }
    writeln!(w, "); lapic timer: {timer_mode} at tick edges")
}

/// `cpu 3 online (apic id 3)`.
pub fn write_cpu_online(w: &mut impl Write, index: usize, apic_id: u32) -> fmt::Result {
    writeln!(w, "cpu {index} online (apic id {apic_id})")
}

/// `8 of 8 CPUs online`.
pub fn write_cpus_online(w: &mut impl Write, online: usize, listed: usize) -> fmt::Result {
    writeln!(w, "{online} of {listed} {CPUS_ONLINE_SUFFIX}")
}

/// `timer: all 8 CPUs ticking at 100 Hz (ticks: 12 12 11 ...)`, or who is missing.
pub fn write_ticking(w: &mut impl Write, hz: u64, ticks: &[u64]) -> fmt::Result {
    let ticking = ticks.iter().filter(|&&t| t > 0).count();
    if ticking == ticks.len() {
        write!(
            w,
            "{ALL_TICKING_PREFIX}{} CPUs ticking at {hz} Hz (ticks:",
            ticks.len()
        )?;
    } else {
        write!(
            w,
            "timer: only {ticking} of {} CPUs ticking (ticks:",
            ticks.len()
        )?;
    }
    for t in ticks {
        write!(w, " {t}")?;
    }
    writeln!(w, ")")
}

#[cfg(target_os = "none")]
mod print {
    use super::*;

    /// Collects a piece first so it reaches the console in one locked write.
    struct Line {
        buf: [u8; 512],
        len: usize,
    }
    impl Write for Line {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let n = s.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            Ok(())
        }
    }
    fn emit(f: impl FnOnce(&mut Line) -> fmt::Result) {
        let mut line = Line {
            buf: [0; 512],
            len: 0,
        };
        let _ = f(&mut line);
        let text = core::str::from_utf8(&line.buf[..line.len]).unwrap_or("?\n");
        crate::console::print_fmt(format_args!("{text}"));
    }

    pub fn print_boot_banner(bytes: u64, apic: &str, hz: u64, src: &str, cost: u64) {
        emit(|w| write_boot_banner(w, bytes, apic, hz, src, cost));
    }
    pub fn print_clock(hz: u64, measured: Option<(u64, u64)>, timer_mode: &str) {
        emit(|w| write_clock(w, hz, measured, timer_mode));
    }
    pub fn print_cpu_online(index: usize, apic_id: u32) {
        emit(|w| write_cpu_online(w, index, apic_id));
    }
    pub fn print_cpus_online(online: usize, listed: usize) {
        emit(|w| write_cpus_online(w, online, listed));
    }
    pub fn print_ticking(hz: u64, ticks: &[u64]) {
        emit(|w| write_ticking(w, hz, ticks));
    }
}
#[cfg(target_os = "none")]
pub use print::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_names_version_memory_apic_and_tsc() {
        let mut s = String::new();
        write_boot_banner(
            &mut s,
            512 << 20,
            "xAPIC",
            2_596_123_456,
            "PIT calibration",
            26,
        )
        .unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], format!("berth {VERSION} (x86_64 SMP)"));
        assert_eq!(lines[1], "memory: 512 MiB usable");
        assert_eq!(lines[2], "apic: xAPIC");
        assert_eq!(
            lines[3],
            "tsc: 2596.123 MHz (source: PIT calibration; rdtsc costs 26 cycles)"
        );
    }

    #[test]
    fn clock_line_says_how_good_the_frequency_is() {
        let mut s = String::new();
        write_clock(&mut s, 100, Some((3, 50_123)), "one-shot").unwrap();
        assert_eq!(
            s,
            "clock: 100 Hz from the TSC (frequency within 3 ppm, measured over 50.1 ms); \
             lapic timer: one-shot at tick edges\n"
        );
        let mut s = String::new();
        write_clock(&mut s, 100, None, "TSC-deadline").unwrap();
        assert_eq!(
            s,
            "clock: 100 Hz from the TSC (frequency as reported, not measured); \
             lapic timer: TSC-deadline at tick edges\n"
        );
    }

    #[test]
    fn cpu_lines() {
        let mut s = String::new();
        write_cpu_online(&mut s, 3, 3).unwrap();
        write_cpus_online(&mut s, 8, 8).unwrap();
        assert_eq!(s, "cpu 3 online (apic id 3)\n8 of 8 CPUs online\n");
    }

    #[test]
    fn ticking_line_says_who_is_missing() {
        let mut s = String::new();
        write_ticking(&mut s, 100, &[10, 11]).unwrap();
        assert_eq!(s, "timer: all 2 CPUs ticking at 100 Hz (ticks: 10 11)\n");
        let mut s = String::new();
        write_ticking(&mut s, 100, &[10, 0, 3]).unwrap();
        assert_eq!(s, "timer: only 2 of 3 CPUs ticking (ticks: 10 0 3)\n");
    }
}
