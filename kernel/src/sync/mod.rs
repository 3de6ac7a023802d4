//! Locks: the interrupt-disabling spinlock (sleep locks come with processes).

mod spinlock;

pub use spinlock::{SpinLock, SpinLockGuard};
