//! Ticks: the global 100 Hz clock behind `uptime`/`sleep`, and per-CPU tick counts.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::x86_64::percpu;

static TICKS: AtomicU64 = AtomicU64::new(0);

/// Ticks since boot (counted by CPU 0's timer).
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Called from every CPU's timer interrupt.
pub fn on_timer_tick(cpu: usize) {
    percpu::this_cpu().ticks.fetch_add(1, Ordering::Relaxed);
    if cpu == 0 {
        TICKS.fetch_add(1, Ordering::Relaxed);
    }
}
