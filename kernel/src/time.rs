//! Ticks and timed sleep: the global 100 Hz clock behind `uptime`/`sleep`,
//! per-CPU tick counts, and each CPU's sleepers in a deadline heap.
//!
//! A sleeping process waits in the heap of the CPU it slept on
//! (`sched::timer::TimerHeap`, behind that CPU's own small lock), keyed by
//! its process slot, so a tick pops only what expired (O(expired · log n))
//! instead of waking every sleeper to re-check. The heaps are allocated
//! once, at boot (`init`), so the timer path never allocates.
//!
//! Races: the sleeper inserts itself and is marked sleeping before the
//! heap lock is released (`sched::sleep_unlinked`), so an expiry cannot
//! fall in between; the expiry wakes it with the lock-free `wake` (a kill
//! may have won already, then it does nothing). A sleeper woken early (a
//! kill) takes its own entry out before it returns, so an entry always
//! belongs to a process still inside [`sleep_ticks`].

use core::sync::atomic::{AtomicU64, Ordering};

use berth_abi::errno::Errno;
use berth_abi::limits::NPROC;

use crate::arch::x86_64::percpu;
use crate::param::MAX_CPUS;
use crate::sched::timer::TimerHeap;
use crate::sync::SpinLock;

static TICKS: AtomicU64 = AtomicU64::new(0);
static TIMERS: [SpinLock<Option<TimerHeap>>; MAX_CPUS] =
    [const { SpinLock::new("timers", None) }; MAX_CPUS];

/// Makes every CPU's timer heap (before any process can sleep).
pub fn init() {
    for t in &TIMERS {
        *t.lock() = Some(TimerHeap::new(NPROC));
    }
}

/// Ticks since boot (counted by CPU 0's timer).
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Called from every CPU's timer interrupt: counts the tick and wakes
/// this CPU's sleepers whose deadline has come.
pub fn on_timer_tick(cpu: usize) {
    percpu::this_cpu().ticks.fetch_add(1, Ordering::Relaxed);
    if cpu == 0 {
        TICKS.fetch_add(1, Ordering::Relaxed);
    }
    let now = ticks();
    let mut heap = TIMERS[cpu].lock();
    let Some(h) = heap.as_mut() else { return };
    while let Some(slot) = h.pop_expired(now) {
        if let Some(p) = crate::proc::table::PROCS.get(slot) {
            crate::proc::sched::make_runnable_if_sleeping(p);
        }
    }
}

/// Sleeps the current process for `n` ticks; `EINTR` if it is killed
/// meanwhile. `sleep(0)` returns at once (as xv6's does).
pub fn sleep_ticks(n: u64) -> Result<(), Errno> {
    let Some(p) = crate::proc::current() else {
        return Ok(());
    };
    let deadline = ticks().saturating_add(n);
    loop {
        if p.killed() {
            return Err(Errno::EINTR);
        }
        if ticks() >= deadline {
            return Ok(());
        }
        // Any CPU's heap would do; this one's is the one its ticks serve.
        let cpu = percpu::cpu_index();
        let mut heap = TIMERS[cpu].lock();
        let Some(h) = heap.as_mut() else {
            return Ok(());
        };
        h.insert(p.slot, deadline);
        crate::proc::sched::sleep_unlinked(heap, true);
        // Woken by the deadline (our entry is gone) or by a kill (it is
        // still there): take it out either way, from the heap we used.
        if let Some(h) = TIMERS[cpu].lock().as_mut() {
            h.remove(p.slot);
        }
    }
}
