//! Ticks: the global 100 Hz clock behind `uptime`/`sleep`, and per-CPU tick counts.

use core::sync::atomic::{AtomicU64, Ordering};

use berth_abi::errno::Errno;

use crate::arch::x86_64::percpu;
use crate::sync::{SpinLock, WaitQueue};

static TICKS: AtomicU64 = AtomicU64::new(0);
/// Taken around the tick increment so a sleeper's check-then-sleep cannot miss it.
static TICK_LOCK: SpinLock<()> = SpinLock::new("ticks", ());
static TICK_WAIT: WaitQueue = WaitQueue::new();

/// Ticks since boot (counted by CPU 0's timer).
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Called from every CPU's timer interrupt.
pub fn on_timer_tick(cpu: usize) {
    percpu::this_cpu().ticks.fetch_add(1, Ordering::Relaxed);
    if cpu == 0 {
        let g = TICK_LOCK.lock();
        TICKS.fetch_add(1, Ordering::Relaxed);
        drop(g);
        TICK_WAIT.wake_all();
    }
}

/// Sleeps the current process for `n` ticks; `EINTR` if it is killed meanwhile.
pub fn sleep_ticks(n: u64) -> Result<(), Errno> {
    let start = ticks();
    let mut g = TICK_LOCK.lock();
    while ticks() - start < n {
        if crate::proc::current().is_some_and(|p| p.killed()) {
            return Err(Errno::EINTR);
        }
        g = TICK_WAIT.sleep_interruptible(g);
    }
    drop(g);
    Ok(())
}
