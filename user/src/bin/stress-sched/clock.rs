//! The interval clock every process of a run shares: interval `k` is the
//! ticks `[t0 + k * len, t0 + (k + 1) * len)`; the run ends at interval
//! `intervals`. It is fixed before the first process is forked, so each
//! carries its own copy.

use ulib::process;

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// The tick interval 0 starts at.
    pub t0: u64,
    /// Ticks per interval.
    pub len: u64,
    /// Intervals the run lasts.
    pub intervals: u32,
}

impl Clock {
    /// The interval `tick` falls in (`None` before the start; it may be
    /// `intervals` or more after the end).
    pub fn interval_at(&self, tick: u64) -> Option<u32> {
        if tick < self.t0 {
            return None;
        }
        Some(((tick - self.t0) / self.len).min(u64::from(u32::MAX)) as u32)
    }

    /// The interval now.
    pub fn now(&self) -> Option<u32> {
        self.interval_at(process::uptime())
    }

    /// The first tick of interval `k`.
    pub fn start_of(&self, k: u32) -> u64 {
        self.t0 + u64::from(k) * self.len
    }

    /// The tick the run ends at.
    pub fn end(&self) -> u64 {
        self.start_of(self.intervals)
    }

    /// The first interval a generation started now must show progress in:
    /// the next one (a generation started mid-interval did not have all of it).
    pub fn first_full(&self) -> u32 {
        self.now().map_or(0, |k| k + 1)
    }
}

/// Sleeps until uptime reaches `tick` (at once if it has).
pub fn sleep_until(tick: u64) {
    let now = process::uptime();
    if tick > now {
        let _ = process::sleep((tick - now).min(i32::MAX as u64) as i32);
    }
}
