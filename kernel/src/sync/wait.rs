//! Wait queues: sleep until a condition protected by a spinlock changes
//! (xv6's `sleep(chan, lk)` / `wakeup(chan)`).
//!
//! [`WaitQueue::sleep`] gives up the spinlock and the CPU together, so a
//! wakeup issued after the waiter checked its condition (under the lock)
//! cannot be lost; it returns with the lock held again, and the caller
//! re-checks its condition in a loop. Until processes exist the kernel
//! version re-takes the lock after a pause; on the host a thread yields.

use super::{SpinLock, SpinLockGuard};

/// Something processes wait on; identified by its address.
#[derive(Default)]
pub struct WaitQueue {
    _private: (),
}

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue { _private: () }
    }

    /// The channel number waiters sleep on.
    pub fn channel(&self) -> usize {
        self as *const Self as usize
    }

    /// Releases `guard`'s lock, waits for a wakeup on this queue, re-takes the lock.
    pub fn sleep<'a, T>(&self, guard: SpinLockGuard<'a, T>) -> SpinLockGuard<'a, T> {
        let lock: &'a SpinLock<T> = guard.spinlock();
        drop(guard);
        pause();
        lock.lock()
    }

    /// Wakes every process sleeping on this queue.
    pub fn wake_all(&self) {}
}

#[cfg(target_os = "none")]
fn pause() {
    core::hint::spin_loop();
}

#[cfg(not(target_os = "none"))]
fn pause() {
    std::thread::yield_now();
}
