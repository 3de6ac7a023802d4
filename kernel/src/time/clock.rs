//! The tick clock's arithmetic: ticks from the TSC, the TSC at a tick's
//! edge, and the clamp that keeps the clock monotonic across CPUs. Pure,
//! so it is unit-tested on the host; `time.rs` feeds it `rdtsc`.
//!
//! Tick `k` is the TSC interval `[base + k·c, base + (k+1)·c)` with `c`
//! the TSC cycles per tick (`hz / TICKS_PER_SEC`, rounded down: under
//! 1 cycle in 25 million, 0.04 ppb). So the tick count is as right as the
//! TSC frequency (`tsc.rs`: within 100 ppm by construction), however late
//! or lost the timer interrupts are.

use core::sync::atomic::{AtomicU64, Ordering};

/// Ticks of `cycles_per_tick` TSC cycles since `base_tsc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickClock {
    /// TSC at the start of tick 0.
    pub base_tsc: u64,
    /// TSC cycles per tick; 0 before the clock is set (then it reads 0).
    pub cycles_per_tick: u64,
}

impl TickClock {
    /// The tick the TSC value `tsc` falls in (0 before `base_tsc`, e.g. a
    /// CPU whose TSC lags the boot CPU's).
    pub fn ticks_at(&self, tsc: u64) -> u64 {
        tsc.saturating_sub(self.base_tsc)
            .checked_div(self.cycles_per_tick)
            .unwrap_or(0)
    }

    /// The TSC at which tick `tick` begins.
    pub fn edge(&self, tick: u64) -> u64 {
        self.base_tsc
            .saturating_add(tick.saturating_mul(self.cycles_per_tick))
    }

    /// The first tick edge strictly after `tsc`.
    pub fn next_edge_after(&self, tsc: u64) -> u64 {
        self.edge(self.ticks_at(tsc).saturating_add(1))
    }
}

/// The larger of `now` and every value returned before through `last`,
/// recording `now` if it is new: what keeps a clock read on several CPUs
/// from going backwards when their readings disagree slightly. The common
/// case (the clock has not moved since the last read) is one load; only a
/// reading that moves the clock does the read-modify-write.
pub fn monotonic(last: &AtomicU64, now: u64) -> u64 {
    let seen = last.load(Ordering::Relaxed);
    if now <= seen {
        return seen;
    }
    last.fetch_max(now, Ordering::Relaxed).max(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const C: TickClock = TickClock {
        base_tsc: 1_000,
        cycles_per_tick: 25_961_200,
    };

    #[test]
    fn ticks_count_whole_intervals_from_the_base() {
        assert_eq!(C.ticks_at(0), 0);
        assert_eq!(C.ticks_at(1_000), 0);
        assert_eq!(C.ticks_at(1_000 + 25_961_199), 0);
        assert_eq!(C.ticks_at(1_000 + 25_961_200), 1);
        // One second of a 2596.12 MHz TSC is 100 ticks.
        assert_eq!(C.ticks_at(1_000 + 2_596_120_000), 100);
        // Unset: always 0.
        let unset = TickClock {
            base_tsc: 0,
            cycles_per_tick: 0,
        };
        assert_eq!(unset.ticks_at(u64::MAX), 0);
    }

    #[test]
    fn edges_bound_their_ticks() {
        for tsc in [
            1_000,
            5_000,
            1_000 + 25_961_200 - 1,
            1_000 + 25_961_200,
            9_999_999_999,
        ] {
            let k = C.ticks_at(tsc);
            assert!(C.edge(k) <= tsc && tsc < C.edge(k + 1), "tsc {tsc}");
            let next = C.next_edge_after(tsc);
            assert!(next > tsc);
            assert_eq!(C.ticks_at(next), k + 1);
            assert_eq!(C.ticks_at(next - 1), k);
        }
        // Before the base the next edge is tick 1's.
        assert_eq!(C.next_edge_after(0), C.edge(1));
        assert_eq!(C.edge(u64::MAX), u64::MAX);
    }

    #[test]
    fn monotonic_never_goes_back() {
        let last = AtomicU64::new(0);
        assert_eq!(monotonic(&last, 5), 5);
        assert_eq!(monotonic(&last, 3), 5);
        assert_eq!(monotonic(&last, 5), 5);
        assert_eq!(monotonic(&last, 7), 7);
        assert_eq!(last.load(Ordering::Relaxed), 7);
    }

    /// Four "CPUs" whose TSCs are skewed by up to 3 ticks read the clock
    /// concurrently: each one's sequence never decreases, and whatever one
    /// returns is at least what any returned before the threads started.
    #[test]
    fn monotonic_across_skewed_readers() {
        let last = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..4u64)
            .map(|skew| {
                let last = Arc::clone(&last);
                std::thread::spawn(move || {
                    let mut prev = 0;
                    for t in 0..20_000u64 {
                        let clock = TickClock {
                            base_tsc: 0,
                            cycles_per_tick: 10,
                        };
                        let v = monotonic(&last, clock.ticks_at(t * 10 + skew * 10));
                        assert!(v >= prev, "went back from {prev} to {v}");
                        prev = v;
                    }
                    prev
                })
            })
            .collect();
        let ends: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        let last = last.load(Ordering::Relaxed);
        // The most skewed reader ends 3 ticks ahead of its own time; the clock ends there.
        assert_eq!(last, 19_999 + 3);
        assert!(ends.iter().all(|&e| e <= last));
    }
}
