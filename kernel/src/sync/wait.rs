//! Wait queues: sleep until a condition protected by a spinlock changes
//! (xv6's `sleep(chan, lk)` / `wakeup(chan)`, with an explicit queue
//! instead of a scan of every process).
//!
//! [`WaitQueue::sleep`] registers the caller on the queue and marks it
//! sleeping *before* it lets go of the condition's lock, and the scheduler
//! only lets another CPU touch the sleeper once it has switched away, so a
//! wakeup issued after the waiter checked its condition cannot be lost. It
//! returns with the lock held again; callers re-check their condition in a
//! loop (wakeups may be spurious). Waking takes the waiters off the queue
//! and makes each runnable on some CPU's run queue. Neither allocates: the
//! queue is an intrusive list through the processes (`proc::sched::Waiters`),
//! so sleeping works with the kernel heap full.
//!
//! Outside a process (early boot) and on the host, where a thread stands in
//! for a CPU, sleeping degrades to releasing the lock, pausing and re-taking it.

use super::{SpinLock, SpinLockGuard};

/// Something processes wait on.
pub struct WaitQueue {
    #[cfg(target_os = "none")]
    waiters: crate::proc::sched::Waiters,
}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueue {
    pub const fn new() -> Self {
        WaitQueue {
            #[cfg(target_os = "none")]
            waiters: crate::proc::sched::Waiters::new(),
        }
    }

    /// Releases `guard`'s lock, waits for a wakeup on this queue, re-takes the lock.
    pub fn sleep<'a, T>(&self, guard: SpinLockGuard<'a, T>) -> SpinLockGuard<'a, T> {
        self.sleep_maybe_interruptible(guard, false)
    }

    /// Like [`Self::sleep`], but returns at once if the caller has been
    /// killed, even by a kill that came after the caller last checked: for
    /// waits a kill must end (pipes, console input, `wait`, `sleep`), whose
    /// loops check `killed` and return `EINTR`.
    pub fn sleep_interruptible<'a, T>(&self, guard: SpinLockGuard<'a, T>) -> SpinLockGuard<'a, T> {
        self.sleep_maybe_interruptible(guard, true)
    }

    fn sleep_maybe_interruptible<'a, T>(
        &self,
        guard: SpinLockGuard<'a, T>,
        interruptible: bool,
    ) -> SpinLockGuard<'a, T> {
        let lock: &'a SpinLock<T> = guard.spinlock();
        #[cfg(target_os = "none")]
        {
            if crate::proc::sched::sleep_on(&self.waiters, guard, interruptible) {
                return lock.lock();
            }
        }
        #[cfg(not(target_os = "none"))]
        let _ = interruptible;
        #[cfg(not(target_os = "none"))]
        drop(guard);
        pause();
        lock.lock()
    }

    /// Wakes every process sleeping on this queue.
    pub fn wake_all(&self) {
        #[cfg(target_os = "none")]
        crate::proc::sched::wake_all(&self.waiters);
    }

    /// [`WaitQueue::wake_all`] by a caller about to block (a pipe's end
    /// after a request): the woken wait on this CPU for it to, instead of
    /// waking an idle CPU (a ping-pong stays on one CPU).
    pub fn wake_all_beside(&self) {
        #[cfg(target_os = "none")]
        crate::proc::sched::wake_all_beside(&self.waiters);
        #[cfg(not(target_os = "none"))]
        self.wake_all();
    }
}

#[cfg(target_os = "none")]
fn pause() {
    core::hint::spin_loop();
}

#[cfg(not(target_os = "none"))]
fn pause() {
    std::thread::yield_now();
}
