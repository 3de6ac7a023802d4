//! Spinlock that disables interrupts while held and records its holder.
//!
//! Interrupts stay off from `lock()` to the guard's drop (nestable, xv6's
//! `push_off`/`pop_off`), so an interrupt handler on the same CPU can never
//! spin on a lock its own CPU holds. The holder's CPU number is recorded so
//! re-acquiring on the same CPU is reported as the deadlock it is, with the
//! lock's name. Guards are `!Send`: a lock is released by the CPU that took it.
//!
//! Ordering: the acquiring compare-exchange is `Acquire` and the releasing
//! store `Release`, so everything written inside one critical section is
//! visible to the next holder (the lock's whole job); the holder field is
//! only a diagnostic and uses `Relaxed`.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::cpu::{cpu_index, pop_irq_off, push_irq_off};

const NO_HOLDER: usize = usize::MAX;

/// A named spinlock protecting a `T`.
/// A spin at least this long (TSC cycles, about 4 µs) is traced.
#[cfg_attr(not(target_os = "none"), allow(dead_code))]
pub const LONG_SPIN_CYCLES: u64 = 10_000;

pub struct SpinLock<T> {
    locked: AtomicBool,
    holder: AtomicUsize,
    name: &'static str,
    data: UnsafeCell<T>,
}

// SAFETY: the lock serialises all access to `data`, so sharing the lock
// between CPUs is safe whenever `T` may be sent between them.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the T it owns.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub const fn new(name: &'static str, data: T) -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
            holder: AtomicUsize::new(NO_HOLDER),
            name,
            data: UnsafeCell::new(data),
        }
    }

    /// Spins until the lock is free, with interrupts off until the guard drops.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        push_irq_off();
        if self.holding() {
            panic!(
                "spinlock {}: acquired twice by cpu {}",
                self.name,
                cpu_index()
            );
        }
        if self
            .locked
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.spin();
        }
        self.holder.store(cpu_index(), Ordering::Relaxed);
        SpinLockGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }

    /// The contended path: spins until the lock is ours; a spin longer than
    /// [`LONG_SPIN_CYCLES`] is a trace record while spins are traced.
    #[cold]
    fn spin(&self) {
        #[cfg(target_os = "none")]
        let started =
            crate::trace::on(berth_abi::trace::event::SPIN).then(crate::arch::x86_64::cpu::rdtsc);
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.locked.load(Ordering::Relaxed) {
                core::hint::spin_loop();
            }
        }
        #[cfg(target_os = "none")]
        if let Some(t0) = started {
            let spun = crate::arch::x86_64::cpu::rdtsc().wrapping_sub(t0);
            if spun > LONG_SPIN_CYCLES {
                let pid = crate::proc::sched::current_pid().unwrap_or(-1);
                let lock = crate::trace::lock_index(self.name);
                crate::trace::emit(berth_abi::trace::event::SPIN, pid, -1, lock, spun);
            }
        }
    }

    /// Whether this CPU holds the lock.
    pub fn holding(&self) -> bool {
        self.locked.load(Ordering::Relaxed) && self.holder.load(Ordering::Relaxed) == cpu_index()
    }

    /// The lock's name, for reports.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Releases a lock whose guard was forgotten (the scheduler hand-off,
    /// where a lock taken by one context is released by another on the same CPU).
    ///
    /// # Safety
    /// This CPU must hold the lock, and no guard for it may be dropped later.
    pub unsafe fn force_unlock(&self) {
        debug_assert!(
            self.holding(),
            "force_unlock of {} by a non-holder",
            self.name
        );
        self.holder.store(NO_HOLDER, Ordering::Relaxed);
        self.locked.store(false, Ordering::Release);
        pop_irq_off();
    }
}

/// Proof that the lock is held; releases it (and restores interrupts) on drop.
pub struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    _not_send: PhantomData<*const ()>,
}

impl<'a, T> SpinLockGuard<'a, T> {
    /// The lock this guard holds (for wait queues that must release and re-take it).
    pub fn spinlock(&self) -> &'a SpinLock<T> {
        self.lock
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the lock is held by this CPU.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while the lock is held by this CPU.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.holder.store(NO_HOLDER, Ordering::Relaxed);
        self.lock.locked.store(false, Ordering::Release);
        pop_irq_off();
    }
}
