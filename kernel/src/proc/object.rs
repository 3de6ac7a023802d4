//! The process object and its states (see `proc/mod.rs` for who may touch what).

use alloc::string::String;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use berth_abi::syscall::proc_state;

use super::sched;
use crate::arch::x86_64::trap::TrapFrame;
use crate::container::Container;
use crate::file::view::ProcFs;
use crate::file::FdTable;
use crate::mm::uvm::AddressSpace;
use crate::sched::wake::RunState;
use crate::sync::list::{Link, Linked};
use crate::sync::{SleepLock, SleepLockGuard, SpinLock, WaitQueue};

/// Scheduling state (values match `berth_abi::syscall::proc_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    Embryo = proc_state::EMBRYO as u8,
    Sleeping = proc_state::SLEEPING as u8,
    Runnable = proc_state::RUNNABLE as u8,
    Running = proc_state::RUNNING as u8,
    Zombie = proc_state::ZOMBIE as u8,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            x if x == State::Sleeping as u8 => State::Sleeping,
            x if x == State::Runnable as u8 => State::Runnable,
            x if x == State::Running as u8 => State::Running,
            x if x == State::Zombie as u8 => State::Zombie,
            _ => State::Embryo,
        }
    }
}

/// A kernel stack owned by one process.
pub struct KernelStack {
    top: u64,
}

impl KernelStack {
    pub(super) fn new() -> Option<KernelStack> {
        Some(KernelStack {
            top: crate::mm::kstack::alloc()?,
        })
    }

    pub fn top(&self) -> u64 {
        self.top
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        crate::mm::kstack::free(self.top);
    }
}

/// Things only the process itself changes, listed by `ps`.
pub struct Identity {
    pub name: String,
    pub parent: Weak<Proc>,
    pub exit_status: i32,
}

/// A process.
pub struct Proc {
    pub pid: i32,
    /// Slot index in the process table.
    pub slot: usize,
    /// Its run state (`sched::wake`: wakers change it without a lock).
    pub(crate) run: RunState,
    /// The "still on a CPU" token, held from a process's decision to stop
    /// running until its registers are saved (see `sched.rs`).
    pub sched_lock: SpinLock<()>,
    /// 1 + the CPU running it, 0 when it runs nowhere (catches a process
    /// resumed on two CPUs).
    pub(crate) on_cpu: AtomicI32,
    pub killed: AtomicBool,
    /// The container it belongs to (the host's for host processes). Only
    /// the process itself changes it (join, leave), with `container`,
    /// `ctr_serial`, `vpid` and `pgid` beside it; others read the atomics.
    pub(crate) ctr: SpinLock<Arc<Container>>,
    /// Its container's id (0 = host).
    pub container: AtomicI32,
    /// Its container's serial (what visibility compares: never reused).
    pub ctr_serial: AtomicU64,
    /// Its pid in its container's numbering (= `pid` on the host).
    pub vpid: AtomicI32,
    /// Its slot in its container's `procReferenceTable`.
    pub ref_index: AtomicUsize,
    /// Waiting in its container's freezer (`vState` frozen).
    pub frozen: AtomicBool,
    /// Process group, in its container's numbering (^C kills the console's
    /// foreground group of the foreground container).
    pub pgid: AtomicI32,
    /// CPU it runs or last ran on (-1: never).
    pub cpu: AtomicI32,
    /// TSC cycles it has run, added at each switch-out.
    pub cycles: AtomicU64,
    /// Saved kernel stack pointer while switched out.
    pub(crate) saved_rsp: UnsafeCell<u64>,
    pub kstack: KernelStack,
    /// User FPU/SSE registers while switched out (see `arch::x86_64::fpu`);
    /// touched only by the CPU switching the process in or out, under `sched_lock`.
    pub(crate) fpu: UnsafeCell<crate::arch::x86_64::fpu::FpuState>,
    pub identity: SpinLock<Identity>,
    /// The user address space. Only the process itself changes it (its
    /// system calls and page faults, exec, exit), so a sleep lock: fork
    /// copies it with interrupts on. Taken through [`Proc::lock_mm`].
    pub(crate) mm: SleepLock<Option<AddressSpace>>,
    /// Page-table root the scheduler loads to run this process (0: the
    /// kernel's). Changed only by the process itself, with interrupts off,
    /// together with CR3 (exec, exit), so it is stable while switched out.
    pub(crate) page_root: AtomicU64,
    /// User pages in use, for `ps` (which may run where it cannot sleep).
    pub mm_pages: AtomicU64,
    pub files: SpinLock<FdTable>,
    /// The file-system view paths resolve in and the current directory
    /// (None without a file system). Taken out of the lock before it is
    /// dropped: dropping an inode reference may sleep.
    pub fs: SpinLock<Option<ProcFs>>,
    /// Live and zombie children (the "wait lock").
    pub children: SpinLock<Vec<Arc<Proc>>>,
    /// Woken when a child becomes a zombie.
    pub child_exited: WaitQueue,
    /// Set for the program started from the command line in test mode.
    pub is_test_program: AtomicBool,
    /// Links on the wait queue it sleeps on (at most one; see `sched.rs`).
    pub(crate) wait_link: Link<Proc>,
}

// SAFETY: saved_rsp is written only by the CPU switching the process out
// (holding sched_lock) and read only by the CPU switching it in (holding
// sched_lock); every other field is an atomic or behind a lock.
unsafe impl Sync for Proc {}
// SAFETY: as above; a Proc has no CPU-affine state.
unsafe impl Send for Proc {}

// SAFETY: always the same field.
unsafe impl Linked for Proc {
    fn link(&self) -> &Link<Proc> {
        &self.wait_link
    }
}

/// The locked address space of a process; on release it records the
/// page count `ps` shows.
pub struct MmGuard<'a> {
    proc: &'a Proc,
    guard: SleepLockGuard<'a, Option<AddressSpace>>,
}

impl Deref for MmGuard<'_> {
    type Target = Option<AddressSpace>;
    fn deref(&self) -> &Self::Target {
        &self.guard
    }
}

impl DerefMut for MmGuard<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.guard
    }
}

impl Drop for MmGuard<'_> {
    fn drop(&mut self) {
        let pages = self.guard.as_ref().map_or(0, |m| m.size_bytes() / 4096);
        self.proc.mm_pages.store(pages, Ordering::Relaxed);
    }
}

impl Proc {
    /// Locks the address space (may sleep).
    pub fn lock_mm(&self) -> MmGuard<'_> {
        MmGuard {
            proc: self,
            guard: self.mm.lock(),
        }
    }

    pub fn state(&self) -> State {
        State::from_u8(self.run.get())
    }

    /// A state change only the process's owner makes (see `sched::wake`):
    /// the process itself, or the code starting or running it.
    pub(crate) fn set_state(&self, s: State) {
        self.run.set(s as u8);
    }

    pub fn killed(&self) -> bool {
        self.killed.load(Ordering::Acquire)
    }

    pub fn name(&self) -> String {
        self.identity.lock().name.clone()
    }

    /// Its container.
    pub fn container(&self) -> Arc<Container> {
        self.ctr.lock().clone()
    }

    /// Whether it is on the host (not in a container).
    pub fn on_host(&self) -> bool {
        self.container.load(Ordering::Acquire) == 0
    }

    /// Its pid as `caller` names it, or `None` if `caller` may not see it:
    /// the host sees every process by its real pid; a container caller sees
    /// only its own container's processes, in that container's numbering.
    pub fn pid_seen_by(&self, caller: &Proc) -> Option<i32> {
        let serial = caller.ctr_serial.load(Ordering::Acquire);
        if serial == 0 {
            return Some(self.pid);
        }
        (self.ctr_serial.load(Ordering::Acquire) == serial)
            .then(|| self.vpid.load(Ordering::Relaxed))
    }

    /// The state its container's scheduler sees (`vState`): its state, or
    /// frozen while its container is paused and it waits in the freezer.
    pub fn vstate(&self) -> i32 {
        if self.frozen.load(Ordering::Relaxed) {
            proc_state::FROZEN
        } else {
            self.state() as i32
        }
    }

    /// The user trap frame at the top of the kernel stack.
    pub fn trap_frame(&self) -> *mut TrapFrame {
        (self.kstack.top() - core::mem::size_of::<TrapFrame>() as u64) as *mut TrapFrame
    }
}

/// The process running on this CPU, if any.
pub fn current() -> Option<Arc<Proc>> {
    sched::current()
}

/// The pid of the process running on this CPU.
pub fn current_pid() -> Option<i32> {
    sched::current_pid()
}
