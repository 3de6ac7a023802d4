//! Locks: the interrupt-disabling spinlock and the sleeping lock, plus the
//! wait queue and the allocation-free intrusive list it is built on.
//!
//! All compile on the host as well (`cargo test -p berth-kernel --lib`),
//! where a thread stands in for a CPU and there are no interrupts to mask;
//! that lets pure kernel logic built on them (file system, scheduler data
//! structures) be unit-tested there.

pub mod list;
mod sleeplock;
mod spinlock;
mod wait;

pub use sleeplock::{SleepLock, SleepLockGuard};
pub use spinlock::{SpinLock, SpinLockGuard};
pub use wait::WaitQueue;

/// What the locks need from the CPU: its number and nestable interrupt masking.
pub(crate) mod cpu {
    #[cfg(target_os = "none")]
    pub use crate::arch::x86_64::percpu::{cpu_index, pop_irq_off, push_irq_off};

    #[cfg(not(target_os = "none"))]
    mod host {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        std::thread_local!(static ID: usize = NEXT.fetch_add(1, Ordering::Relaxed));
        /// On the host each thread plays one CPU.
        pub fn cpu_index() -> usize {
            ID.with(|id| *id)
        }
        pub fn push_irq_off() {}
        pub fn pop_irq_off() {}
    }
    #[cfg(not(target_os = "none"))]
    pub use host::*;
}
