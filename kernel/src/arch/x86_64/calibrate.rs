//! The arithmetic of measuring one clock against the TSC: bracketed paired
//! reads, the best of them, and a rate with a hard error bound. Pure, so it
//! is unit-tested on the host; `tsc.rs` (TSC against the HPET or the PIT)
//! and `apic.rs` (the LAPIC timer against the TSC) do the reading.
//!
//! A [`Pair`] is `(tsc_before, reading, tsc_after)`: the other clock was
//! read at some instant between the two `rdtsc`s, so the TSC at that
//! instant lies in `[before, after]`. Taking the midpoint, it is off by at
//! most half the pair's width. A window is a start pair and an end pair;
//! its TSC span is the midpoints' difference, off by at most the two half
//! widths, and its reference span is the readings' difference, off by
//! less than one reference tick (each reading is floored). Hence
//!
//! ```text
//! |hz_estimate / hz_true - 1|  <=  (w0/2 + w1/2) / dTSC  +  1 / dRef   (first order)
//! ```
//!
//! which is what [`Estimate::error_ppm`] reports. Nothing else enters: the
//! two clocks both count real time, so a vCPU descheduled *inside* the
//! window changes neither span's meaning; only a deschedule *inside a
//! pair* hurts, and it shows up as that pair's width, which is why the
//! narrowest of a few tries is kept ([`narrowest`]) and a window whose
//! bound is too wide is extended or retried by the caller.

/// One bracketed read of another clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pair {
    /// TSC just before the other clock was read.
    pub before: u64,
    /// What the other clock said (in its own ticks).
    pub reading: u64,
    /// TSC just after.
    pub after: u64,
}

impl Pair {
    /// TSC cycles between the two reads (the uncertainty of the instant).
    pub fn width(&self) -> u64 {
        self.after.saturating_sub(self.before)
    }

    /// The TSC at the middle of the bracket: the best guess for the instant.
    pub fn mid(&self) -> u64 {
        self.before + self.width() / 2
    }
}

/// The narrowest pair of `pairs` (the first of equals); `None` if empty.
pub fn narrowest(pairs: impl IntoIterator<Item = Pair>) -> Option<Pair> {
    pairs
        .into_iter()
        .fold(None, |best: Option<Pair>, p| match best {
            Some(b) if b.width() <= p.width() => Some(b),
            _ => Some(p),
        })
}

/// A window between two pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// TSC cycles between the midpoints.
    pub tsc_cycles: u64,
    /// Reference ticks between the readings (modulo the reference's width).
    pub ref_ticks: u64,
    /// Most the TSC span can be off by: the two half widths, rounded up.
    pub tsc_uncertainty: u64,
}

impl Span {
    /// The window from `start` to `end`; the reference counter wraps at
    /// `ref_mask + 1` (`u32::MAX as u64` for a 32-bit counter). `None` if
    /// `end` is not after `start` on both clocks.
    pub fn between(start: &Pair, end: &Pair, ref_mask: u64) -> Option<Span> {
        let tsc_cycles = end.mid().checked_sub(start.mid())?;
        let ref_ticks = end.reading.wrapping_sub(start.reading) & ref_mask;
        if tsc_cycles == 0 || ref_ticks == 0 {
            return None;
        }
        Some(Span {
            tsc_cycles,
            ref_ticks,
            tsc_uncertainty: start.width().div_ceil(2) + end.width().div_ceil(2),
        })
    }

    /// Bound on the relative error of `tsc_cycles / ref_ticks`, in parts
    /// per million, rounded up (see the module header).
    pub fn error_ppm(&self) -> u64 {
        let (u, tsc, r) = (
            u128::from(self.tsc_uncertainty),
            u128::from(self.tsc_cycles),
            u128::from(self.ref_ticks),
        );
        // u/tsc + 1/r = (u·r + tsc) / (tsc·r)
        let ppm = ((u * r + tsc) * 1_000_000).div_ceil(tsc * r);
        u64::try_from(ppm).unwrap_or(u64::MAX)
    }

    /// The TSC rate given the reference's tick in femtoseconds:
    /// `dTSC / (dRef · period)`.
    pub fn tsc_hz(&self, ref_period_fs: u64) -> Option<Estimate> {
        let fs = u128::from(self.ref_ticks) * u128::from(ref_period_fs);
        if fs == 0 {
            return None;
        }
        let hz = u128::from(self.tsc_cycles) * 1_000_000_000_000_000 / fs;
        Some(Estimate {
            hz: u64::try_from(hz).ok()?,
            error_ppm: self.error_ppm(),
            tsc_cycles: self.tsc_cycles,
        })
    }

    /// Reference ticks per `cycles` TSC cycles, rounded to nearest (the
    /// LAPIC timer's counts per scheduler tick).
    pub fn ref_per(&self, cycles: u64) -> u64 {
        let n = u128::from(self.ref_ticks) * u128::from(cycles);
        let d = u128::from(self.tsc_cycles);
        u64::try_from((n + d / 2) / d).unwrap_or(u64::MAX)
    }
}

/// A TSC frequency and how far off it can be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// TSC ticks per second.
    pub hz: u64,
    /// Bound on the relative error, parts per million.
    pub error_ppm: u64,
    /// Length of the window it came from, in TSC cycles.
    pub tsc_cycles: u64,
}

/// The PIT's input clock: 1.193182 MHz (14.31818 MHz / 12; QEMU's
/// `PIT_FREQ`), as a period in femtoseconds (rounded: 0.5 ppb off).
pub const PIT_PERIOD_FS: u64 = 838_095_345;

/// Femtoseconds in a second.
pub const FS_PER_SEC: u64 = 1_000_000_000_000_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(before: u64, reading: u64, after: u64) -> Pair {
        Pair {
            before,
            reading,
            after,
        }
    }

    #[test]
    fn narrowest_keeps_the_tightest_bracket() {
        let pairs = [pair(100, 1, 500), pair(1000, 2, 1040), pair(2000, 3, 2040)];
        assert_eq!(narrowest(pairs), Some(pair(1000, 2, 1040)));
        assert_eq!(narrowest([]), None);
        assert_eq!(pair(10, 0, 20).mid(), 15);
        assert_eq!(pair(10, 0, 21).width(), 11);
    }

    /// A 2596.12 MHz TSC against QEMU's 100 MHz HPET over 100 ms, read
    /// with TCG-like brackets (~340 cycles): exact, and a tiny bound.
    #[test]
    fn hpet_window_gives_the_rate_and_its_bound() {
        let hz = 2_596_120_000u64;
        let start = pair(1_000_000, 5_000, 1_000_340);
        // 10,000,000 HPET ticks = 100 ms = 259,612,000 cycles later.
        let end = pair(1_000_000 + 259_612_000, 10_005_000, 1_000_340 + 259_612_000);
        let span = Span::between(&start, &end, u64::from(u32::MAX)).unwrap();
        assert_eq!(span.tsc_cycles, 259_612_000);
        assert_eq!(span.ref_ticks, 10_000_000);
        assert_eq!(span.tsc_uncertainty, 340);
        let e = span.tsc_hz(10_000_000).unwrap();
        assert_eq!(e.hz, hz);
        // 340 / 259.6M = 1.3 ppm, + 1 / 10M = 0.1 ppm: rounds up to 2.
        assert_eq!(e.error_ppm, 2);
    }

    /// Brackets of 34,000 cycles (PVM KVM, where MMIO and rdtsc trap)
    /// over 50 ms: a bound of ~262 ppm, too wide for the 100 ppm target
    /// tsc.rs aims at, so the caller extends the window.
    #[test]
    fn wide_brackets_give_a_wide_bound() {
        let start = pair(0, 0, 34_000);
        let end = pair(129_806_000, 5_000_000, 129_840_000);
        let span = Span::between(&start, &end, u64::from(u32::MAX)).unwrap();
        assert_eq!(span.tsc_uncertainty, 34_000);
        assert_eq!(span.error_ppm(), 263);
        // Doubling the window halves it.
        let end = pair(259_612_000, 10_000_000, 259_646_000);
        let span = Span::between(&start, &end, u64::from(u32::MAX)).unwrap();
        assert_eq!(span.error_ppm(), 132);
    }

    #[test]
    fn a_32_bit_reference_may_wrap_inside_the_window() {
        let start = pair(0, u64::from(u32::MAX) - 99, 10);
        let end = pair(26_000, 900, 26_010);
        let span = Span::between(&start, &end, u64::from(u32::MAX)).unwrap();
        assert_eq!(span.ref_ticks, 1_000);
    }

    #[test]
    fn degenerate_windows_are_refused() {
        let p = pair(100, 7, 110);
        assert_eq!(Span::between(&p, &p, u64::MAX), None);
        // End before start on the TSC.
        assert_eq!(Span::between(&pair(200, 7, 210), &p, u64::MAX), None);
        // The reference did not move.
        assert_eq!(Span::between(&p, &pair(5000, 7, 5010), u64::MAX), None);
    }

    /// The PIT fallback: count 59,659 (50 ms) from the bracketed count
    /// write to the bracketed terminal count.
    #[test]
    fn pit_window() {
        let hz = 2_596_120_000u64;
        let count = 59_659u64;
        let cycles = (u128::from(count) * u128::from(PIT_PERIOD_FS) * u128::from(hz)
            / u128::from(FS_PER_SEC)) as u64;
        let start = pair(10_000, 0, 10_300);
        let end = pair(10_000 + cycles - 400, count, 10_300 + cycles + 400);
        let span = Span::between(&start, &end, u64::MAX).unwrap();
        let e = span.tsc_hz(PIT_PERIOD_FS).unwrap();
        // `cycles` was floored: 1 cycle in 50 ms is 20 Hz.
        assert!(e.hz.abs_diff(hz) <= 25, "{} vs {hz}", e.hz);
        // (150 + 550) cycles of 129.8M plus 1/59659: 5.4 + 16.8 ppm.
        assert_eq!(e.error_ppm, 23);
    }

    #[test]
    fn lapic_counts_per_tick() {
        // The LAPIC timer at 62.5 MHz (QEMU: 1 GHz / 16) over 100 ms of
        // a 2596.12 MHz TSC; a 10 ms tick is 25,961,200 cycles.
        let start = pair(0, 0, 300);
        let end = pair(259_612_000, 6_250_000, 259_612_300);
        let span = Span::between(&start, &end, u64::from(u32::MAX)).unwrap();
        assert_eq!(span.ref_per(25_961_200), 625_000);
    }
}
