//! The assignment's console logs: `Container <cid> : Scheduling process
//! <pid>` each time a container process is picked to run, and `GVA -> HVA`
//! for each page mapped into a container process. Each line is printed
//! whole under the console lock, so lines from several CPUs never
//! interleave; each log is rate-limited per tick ([`Throttle`]) so the
//! console stays usable, and the first line after a quiet spell says how
//! many were suppressed. Pids are those of the container's numbering.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// At most `per_tick` lines in one tick; the rest are counted.
pub struct Throttle {
    per_tick: u32,
    tick: AtomicU64,
    in_tick: AtomicU32,
    suppressed: AtomicU64,
}

impl Throttle {
    pub const fn new(per_tick: u32) -> Throttle {
        Throttle {
            per_tick,
            tick: AtomicU64::new(u64::MAX),
            in_tick: AtomicU32::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Whether a line may go out at tick `now`: `Some(n)` with the lines
    /// suppressed since the last one printed, or `None` (counted).
    pub fn admit(&self, now: u64) -> Option<u64> {
        if self.tick.swap(now, Ordering::AcqRel) != now {
            self.in_tick.store(0, Ordering::Release);
        }
        if self.in_tick.fetch_add(1, Ordering::AcqRel) < self.per_tick {
            Some(self.suppressed.swap(0, Ordering::AcqRel))
        } else {
            self.suppressed.fetch_add(1, Ordering::AcqRel);
            None
        }
    }
}

static SCHED_LOG: AtomicBool = AtomicBool::new(false);
static MEMORY_LOG: AtomicBool = AtomicBool::new(false);
#[cfg(target_os = "none")]
static SCHED_THROTTLE: Throttle = Throttle::new(8);
#[cfg(target_os = "none")]
static MEMORY_THROTTLE: Throttle = Throttle::new(64);

pub fn set_scheduler_log(on: bool) {
    SCHED_LOG.store(on, Ordering::Release);
}

pub fn set_memory_log(on: bool) {
    MEMORY_LOG.store(on, Ordering::Release);
}

/// One relaxed load: the scheduler asks on every pick.
pub fn scheduler_log_on() -> bool {
    SCHED_LOG.load(Ordering::Relaxed)
}

pub fn memory_log_on() -> bool {
    MEMORY_LOG.load(Ordering::Relaxed)
}

#[cfg(target_os = "none")]
fn suppressed_note(what: &str, n: u64) {
    if n > 0 {
        crate::println!("({what} log: {n} lines suppressed)");
    }
}

/// A container process numbered `pid` in container `cid` was picked to run.
#[cfg(target_os = "none")]
pub fn scheduling(cid: i32, pid: i32) {
    if let Some(n) = SCHED_THROTTLE.admit(crate::time::ticks()) {
        suppressed_note("scheduler", n);
        crate::println!("Container {cid} : Scheduling process {pid}");
    }
}

/// Page `gva` of process `pid` in container `cid` is now backed by the
/// frame the kernel reaches at `hva`.
#[cfg(target_os = "none")]
pub fn memory(pid: i32, cid: i32, gva: u64, hva: u64) {
    if let Some(n) = MEMORY_THROTTLE.admit(crate::time::ticks()) {
        suppressed_note("memory", n);
        crate::println!("Container {cid} : pid {pid} GVA {gva:#x} -> HVA {hva:#x}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_admits_per_tick_and_counts_the_rest() {
        let t = Throttle::new(2);
        assert_eq!(t.admit(5), Some(0));
        assert_eq!(t.admit(5), Some(0));
        assert_eq!(t.admit(5), None);
        assert_eq!(t.admit(5), None);
        assert_eq!(t.admit(6), Some(2));
        assert_eq!(t.admit(6), Some(0));
        assert_eq!(t.admit(6), None);
        assert_eq!(t.admit(9), Some(1));
    }
}
