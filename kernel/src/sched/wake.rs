//! A task's run state and the sleep/wakeup hand-off, without a lock.
//!
//! The state word moves Embryo → Runnable → Running ⇄ (Runnable |
//! Sleeping) → … → Zombie. Only the task itself leaves `Running` (it
//! yields, sleeps or exits on its own CPU); a waker moves `Sleeping` →
//! `Runnable` with a compare-exchange, and the one waker that wins queues
//! the task. So two wakers (a wait queue and a kill, or a timer and a
//! kill) never queue it twice, and a wakeup never needs the sleeper's lock.
//!
//! **Kill racing a sleep** (Dekker's pattern, SeqCst): the sleeper stores
//! `Sleeping`, then reads `killed`; the killer stores `killed`, then tries
//! `Sleeping` → `Runnable`. Whatever the interleaving, the sleeper sees the
//! flag or the killer sees it sleeping. If both happen, exactly one of the
//! sleeper's undo (`Sleeping` → `Running`) and the killer's wake wins:
//! either the sleeper does not sleep at all, or it was queued and goes
//! through one switch. A sleep is never missed, and an interruptible sleep
//! never starts for a process already killed.
//!
//! A waker taking a sleeper off a wait queue sees `Sleeping`: the sleeper
//! stores it before linking itself, both under the wait condition's lock.
//!
//! What this does not cover is the stack: a task woken (and queued) while
//! its CPU is still switching away from it must not be resumed before its
//! registers are saved. The kernel keeps that with the process's
//! `sched_lock`, held from before the state change until the switch is
//! done (see `proc::sched`).

use berth_abi::syscall::proc_state;

use super::atomic::{dekker_turn, AtomicBool, AtomicU8, Ordering};

pub const EMBRYO: u8 = proc_state::EMBRYO as u8;
pub const SLEEPING: u8 = proc_state::SLEEPING as u8;
pub const RUNNABLE: u8 = proc_state::RUNNABLE as u8;
pub const RUNNING: u8 = proc_state::RUNNING as u8;
pub const ZOMBIE: u8 = proc_state::ZOMBIE as u8;

pub struct RunState(AtomicU8);

impl Default for RunState {
    fn default() -> Self {
        Self::new()
    }
}

impl RunState {
    pub fn new() -> RunState {
        RunState(AtomicU8::new(EMBRYO))
    }

    pub fn get(&self) -> u8 {
        self.0.load(Ordering::Acquire)
    }

    /// A state change only the task's owner makes (it runs, or it is being
    /// started, made runnable by yielding, or made a zombie).
    pub fn set(&self, s: u8) {
        self.0.store(s, Ordering::SeqCst);
    }

    /// The running task is going to sleep. False (and it is running
    /// again) when `interruptible` and `killed` is set: it must not sleep.
    /// True: it sleeps, and must switch away (it may already be queued,
    /// woken by a kill that raced with this call).
    pub fn begin_sleep(&self, killed: &AtomicBool, interruptible: bool) -> bool {
        self.0.store(SLEEPING, Ordering::SeqCst);
        dekker_turn();
        if interruptible && killed.load(Ordering::SeqCst) {
            // Undo, unless the killer's wakeup won (it queued us already).
            return self
                .0
                .compare_exchange(SLEEPING, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
                .is_err();
        }
        true
    }

    /// A waker: `Sleeping` → `Runnable`. True when this call did it, and
    /// so must queue the task.
    pub fn wake(&self) -> bool {
        self.0
            .compare_exchange(SLEEPING, RUNNABLE, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

/// Kill's half of the race: flags the task, then wakes it if it sleeps.
/// True when the caller must queue it.
pub fn kill(state: &RunState, killed: &AtomicBool) -> bool {
    killed.store(true, Ordering::SeqCst);
    dekker_turn();
    state.wake()
}
