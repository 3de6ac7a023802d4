//! Sleeping lock for long critical sections (disk I/O, inodes, buffers).
//!
//! Unlike a spinlock it keeps interrupts on and may be held across a
//! sleep; it must never be taken from an interrupt handler or while holding
//! a spinlock. A waiter gives up the CPU through [`crate::sync::SleepLock`]'s
//! wait hook: in the kernel that is the scheduler's sleep on the lock's
//! address (woken by the unlock); on the host a thread yield.
//!
//! Ordering: acquire is a compare-exchange with `Acquire`, release a store
//! with `Release`, as for the spinlock, so the protected data written by
//! one holder is visible to the next.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

const NO_HOLDER: usize = usize::MAX;

/// A named lock that sleeps instead of spinning.
pub struct SleepLock<T> {
    locked: AtomicBool,
    holder: AtomicUsize,
    name: &'static str,
    data: UnsafeCell<T>,
}

// SAFETY: the lock serialises all access to `data`.
unsafe impl<T: Send> Sync for SleepLock<T> {}
// SAFETY: moving the lock moves the T it owns.
unsafe impl<T: Send> Send for SleepLock<T> {}

/// Who holds a sleep lock: the current process id in the kernel, the thread on the host.
fn holder_id() -> usize {
    wait::current_holder()
}

impl<T> SleepLock<T> {
    pub const fn new(name: &'static str, data: T) -> Self {
        SleepLock {
            locked: AtomicBool::new(false),
            holder: AtomicUsize::new(NO_HOLDER),
            name,
            data: UnsafeCell::new(data),
        }
    }

    fn channel(&self) -> usize {
        self as *const Self as *const u8 as usize
    }

    /// Takes the lock, sleeping while another holder has it.
    pub fn lock(&self) -> SleepLockGuard<'_, T> {
        if self.holding() {
            panic!("sleeplock {}: acquired twice by its holder", self.name);
        }
        loop {
            if self
                .locked
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                break;
            }
            wait::sleep_while(self.channel(), || self.locked.load(Ordering::Acquire));
        }
        self.holder.store(holder_id(), Ordering::Relaxed);
        SleepLockGuard { lock: self }
    }

    /// Whether the current process (thread) holds the lock.
    pub fn holding(&self) -> bool {
        self.locked.load(Ordering::Relaxed) && self.holder.load(Ordering::Relaxed) == holder_id()
    }

    /// The lock's name, for reports.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Mutable access without locking, for an owner with `&mut self`.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

/// Proof that the sleep lock is held; releases it and wakes waiters on drop.
pub struct SleepLockGuard<'a, T> {
    lock: &'a SleepLock<T>,
}

impl<T> Deref for SleepLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SleepLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while the lock is held.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SleepLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.holder.store(NO_HOLDER, Ordering::Relaxed);
        self.lock.locked.store(false, Ordering::Release);
        wait::wake_all(self.lock.channel());
    }
}

/// How a sleep-lock waiter gives up the CPU.
mod wait {
    #[cfg(not(target_os = "none"))]
    pub fn sleep_while(_channel: usize, busy: impl Fn() -> bool) {
        while busy() {
            std::thread::yield_now();
        }
    }
    #[cfg(not(target_os = "none"))]
    pub fn wake_all(_channel: usize) {}
    #[cfg(not(target_os = "none"))]
    pub fn current_holder() -> usize {
        super::super::cpu::cpu_index()
    }

    // Kernel: until processes exist the waiter spins; the process issue
    // replaces these with the scheduler's sleep/wakeup on `channel`.
    #[cfg(target_os = "none")]
    pub fn sleep_while(_channel: usize, busy: impl Fn() -> bool) {
        while busy() {
            core::hint::spin_loop();
        }
    }
    #[cfg(target_os = "none")]
    pub fn wake_all(_channel: usize) {}
    #[cfg(target_os = "none")]
    pub fn current_holder() -> usize {
        super::super::cpu::cpu_index()
    }
}
