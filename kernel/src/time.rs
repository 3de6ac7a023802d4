//! Ticks and timed sleep: the 100 Hz clock behind `uptime`/`sleep`, read
//! from the TSC; per-CPU timer-interrupt counts; and each CPU's sleepers
//! in a deadline heap.
//!
//! The clock: [`ticks`] is `(rdtsc() - tsc_at_boot) / cycles_per_tick`
//! (`clock::TickClock`, host-tested), with `cycles_per_tick = tsc::hz() /
//! TICKS_PER_SEC`. It does not count interrupts, so it is as right as the
//! TSC frequency (`tsc.rs`: bound below 100 ppm when calibrated) at every
//! CPU count: an interrupt delivered late, or lost while the host has the
//! vCPU descheduled, delays a wakeup but never loses time, and a user
//! program that watches `uptime` sees each tick edge to within a system
//! call's latency. (It used to count CPU 0's interrupts against a LAPIC
//! timer calibrated over 10 ms: ~1 % long at 1-2 CPUs, worse at 8.)
//!
//! Across CPUs: QEMU (TCG and KVM) gives every vCPU the same TSC, so the
//! readings agree; [`ticks`] still returns the largest value any CPU has
//! returned (`clock::monotonic`, an `AtomicU64` max), so a process that
//! migrates never sees the clock go back. Were the TSCs not synchronised,
//! the clock would follow the CPU furthest ahead (a one-time step of its
//! offset; with equal rates it then runs at the right rate) and a CPU
//! behind would read that maximum until its own TSC caught up; sleeps
//! would stay correct (deadlines are compared with the same maximum) but
//! could end early by the step.
//!
//! The timer interrupt (`apic.rs` arms each CPU's for the next tick edge)
//! only wakes sleepers whose deadline is `<= ticks()` and drives
//! preemption; its per-CPU count (the boot line `timer: all N CPUs
//! ticking`, `kmain::check_timers`) says that each CPU's timer works.
//!
//! Sleepers: a sleeping process waits in the heap of the CPU it slept on
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

use crate::arch::x86_64::cpu::rdtsc;
use crate::arch::x86_64::percpu;
use crate::param::{MAX_CPUS, TICKS_PER_SEC};
use crate::sched::timer::TimerHeap;
use crate::sync::SpinLock;

pub mod clock;

use clock::TickClock;

/// TSC at the start of tick 0.
static BASE_TSC: AtomicU64 = AtomicU64::new(0);
/// TSC cycles per tick (0 until [`start_clock`]: the clock reads 0).
static CYCLES_PER_TICK: AtomicU64 = AtomicU64::new(0);
/// The largest tick count returned so far, on any CPU.
static LAST_TICKS: AtomicU64 = AtomicU64::new(0);
static TIMERS: [SpinLock<Option<TimerHeap>>; MAX_CPUS] =
    [const { SpinLock::new("timers", None) }; MAX_CPUS];

/// Makes every CPU's timer heap (before any process can sleep).
pub fn init() {
    for t in &TIMERS {
        *t.lock() = Some(TimerHeap::new(NPROC));
    }
}

/// Starts the clock at tick 0 now, running at `tsc_hz / TICKS_PER_SEC`
/// cycles a tick. Boot CPU, once, after `tsc::init`.
pub fn start_clock(tsc_hz: u64) {
    BASE_TSC.store(rdtsc(), Ordering::Relaxed);
    CYCLES_PER_TICK.store((tsc_hz / TICKS_PER_SEC).max(1), Ordering::Release);
}

/// The clock's parameters (tick edges for the timer, `apic.rs`).
pub fn tick_clock() -> TickClock {
    let cycles_per_tick = CYCLES_PER_TICK.load(Ordering::Acquire);
    TickClock {
        base_tsc: BASE_TSC.load(Ordering::Relaxed),
        cycles_per_tick,
    }
}

/// Ticks (10 ms) since boot, from the TSC; never less than any value
/// returned before, on any CPU.
pub fn ticks() -> u64 {
    clock::monotonic(&LAST_TICKS, tick_clock().ticks_at(rdtsc()))
}

/// Called from every CPU's timer interrupt: counts the interrupt and
/// wakes this CPU's sleepers whose deadline has come.
pub fn on_timer_tick(cpu: usize) {
    percpu::this_cpu().ticks.fetch_add(1, Ordering::Relaxed);
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
