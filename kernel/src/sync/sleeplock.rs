//! Sleeping lock for long critical sections (disk I/O, inodes, buffers).
//!
//! Unlike a spinlock it keeps interrupts on while held and its holder may
//! sleep; it must never be taken from an interrupt handler or while holding
//! a spinlock. The `locked` flag lives under a small spinlock and waiters
//! sleep on a [`WaitQueue`] (xv6's sleeplock): the spinlock orders the flag
//! and, by its Acquire/Release pair, the data the holder wrote.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};

use super::{SpinLock, WaitQueue};

const NO_HOLDER: usize = usize::MAX;

struct State {
    locked: bool,
    holder: usize,
}

/// A named lock that sleeps instead of spinning.
pub struct SleepLock<T> {
    state: SpinLock<State>,
    waiters: WaitQueue,
    data: UnsafeCell<T>,
}

// SAFETY: the lock serialises all access to `data`.
unsafe impl<T: Send> Sync for SleepLock<T> {}
// SAFETY: moving the lock moves the T it owns.
unsafe impl<T: Send> Send for SleepLock<T> {}

/// Who holds a sleep lock: the current process in the kernel (its pid, or
/// the CPU before processes exist), the thread on the host.
fn holder_id() -> usize {
    #[cfg(target_os = "none")]
    {
        crate::proc::current_pid().map_or(super::cpu::cpu_index() | (1 << 40), |p| p as usize)
    }
    #[cfg(not(target_os = "none"))]
    {
        super::cpu::cpu_index()
    }
}

impl<T> SleepLock<T> {
    pub const fn new(name: &'static str, data: T) -> Self {
        SleepLock {
            state: SpinLock::new(
                name,
                State {
                    locked: false,
                    holder: NO_HOLDER,
                },
            ),
            waiters: WaitQueue::new(),
            data: UnsafeCell::new(data),
        }
    }

    /// Takes the lock, sleeping while another holder has it.
    pub fn lock(&self) -> SleepLockGuard<'_, T> {
        let me = holder_id();
        let mut st = self.state.lock();
        if st.locked && st.holder == me {
            panic!(
                "sleeplock {}: acquired twice by its holder",
                self.state.name()
            );
        }
        while st.locked {
            st = self.waiters.sleep(st);
        }
        st.locked = true;
        st.holder = me;
        SleepLockGuard { lock: self }
    }

    /// Whether the current process (thread) holds the lock.
    pub fn holding(&self) -> bool {
        let st = self.state.lock();
        st.locked && st.holder == holder_id()
    }

    /// The lock's name, for reports.
    pub fn name(&self) -> &'static str {
        self.state.name()
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
        let mut st = self.lock.state.lock();
        st.locked = false;
        st.holder = NO_HOLDER;
        drop(st);
        self.lock.waiters.wake_all();
    }
}
