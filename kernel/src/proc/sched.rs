//! Per-CPU scheduling: run queues, the scheduler loop, sleep and wakeup.
//!
//! Each CPU owns a run queue (its own small lock, never a global one) and
//! runs its own scheduler loop on its boot stack. A runnable process sits
//! on exactly one queue. Placement: a woken process goes back to the CPU it
//! last ran on unless that queue is longer than the shortest by two or more,
//! in which case it goes to the shortest; a CPU whose queue is empty steals
//! from the longest. Sending a reschedule IPI wakes a halted target CPU.
//! Each queue reserves room for `NPROC` processes before its CPU starts
//! scheduling: a process is on at most one run queue, at most once (it is
//! queued when it becomes `Runnable` and taken off to run), so `enqueue`
//! never grows a queue and never allocates.
//!
//! The hand-off follows xv6: a process that gives up the CPU takes its own
//! `sched_lock`, sets its state and switches to its CPU's scheduler, which
//! releases the lock only after the switch; a CPU about to run a process
//! takes the same lock and checks the state is still `Runnable`. So a
//! process is never resumed before its registers are saved, and a wakeup
//! that races with going to sleep simply waits for the lock.
//!
//! Wait queues ([`Waiters`]) are intrusive lists (`sync::list`) through
//! each process's `wait_link`, so sleeping and waking never allocate (they
//! run under `mm::heap::NoAlloc`, which panics if they do). Lock order: a
//! process's `sched_lock` → a wait-queue lock → a run-queue lock. Sleeping
//! links the process onto the queue under both its `sched_lock` and the
//! queue's lock; a waker takes one process off under the queue lock, drops
//! it, then takes that process's `sched_lock` to make it runnable.
//!
//! Why no wait-queue pointer ever dangles: a queue holds one counted
//! reference to each process on it (`Arc::into_raw` on linking, `from_raw`
//! on unlinking), and follows links only under its own lock, so a linked
//! process is alive; a waker works only on the `Arc` it took off. A process
//! links itself only inside `sleep_on(w)` and, before returning, takes itself
//! off `w` in O(1) if no wakeup did (woken by `kill`), so it is on at most one
//! queue, and `w` (borrowed for the whole call) outlives its being on it.
//!
//! The container-fair, lock-free selection of a later milestone replaces
//! the queue discipline, not this hand-off.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use berth_abi::limits::NPROC;
use crossbeam_utils::CachePadded;

use super::{Proc, State};
use crate::arch::x86_64::{apic, cpu, idt, percpu, switch};
use crate::mm::heap::NoAlloc;
use crate::param::MAX_CPUS;
use crate::sync::list::ArcList;
use crate::sync::{SpinLock, SpinLockGuard};

/// Scheduler state of one CPU.
struct CpuSched {
    queue: SpinLock<VecDeque<Arc<Proc>>>,
    /// Length of `queue`, readable without its lock (placement heuristics only).
    len: AtomicUsize,
    /// The process running here. Written only by this CPU with interrupts off.
    current: UnsafeCell<Option<Arc<Proc>>>,
    /// The scheduler loop's saved stack pointer.
    scheduler_rsp: UnsafeCell<u64>,
    /// Whether this CPU is halted waiting for work.
    idle: AtomicBool,
    /// Whether the scheduler loop has started here.
    started: AtomicBool,
    /// Interrupt-enable state saved across a switch (xv6's intena).
    _pad: Cell<u8>,
}

// SAFETY: `current` and `scheduler_rsp` are touched only by the owning CPU
// with interrupts off; the rest is atomics or behind the queue's lock.
unsafe impl Sync for CpuSched {}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: CachePadded<CpuSched> = CachePadded::new(CpuSched {
    queue: SpinLock::new("runqueue", VecDeque::new()),
    len: AtomicUsize::new(0),
    current: UnsafeCell::new(None),
    scheduler_rsp: UnsafeCell::new(0),
    idle: AtomicBool::new(false),
    started: AtomicBool::new(false),
    _pad: Cell::new(0),
});
static CPUS: [CachePadded<CpuSched>; MAX_CPUS] = [EMPTY; MAX_CPUS];

fn this() -> &'static CpuSched {
    &CPUS[percpu::cpu_index()]
}

/// The process running on this CPU.
pub fn current() -> Option<Arc<Proc>> {
    percpu::push_irq_off();
    // SAFETY: own CPU, interrupts off.
    let p = unsafe { (*this().current.get()).clone() };
    percpu::pop_irq_off();
    p
}

/// The pid of the process running on this CPU (no reference count traffic).
pub fn current_pid() -> Option<i32> {
    percpu::push_irq_off();
    // SAFETY: own CPU, interrupts off.
    let p = unsafe { (*this().current.get()).as_ref().map(|p| p.pid) };
    percpu::pop_irq_off();
    p
}

/// Chooses the CPU a runnable process should queue on.
fn place(p: &Proc) -> usize {
    let online = percpu::online_count().max(1);
    let last = p.cpu.load(Ordering::Relaxed);
    let shortest = (0..online)
        .filter(|&c| CPUS[c].started.load(Ordering::Acquire))
        .min_by_key(|&c| CPUS[c].len.load(Ordering::Relaxed))
        .unwrap_or(0);
    if last >= 0 && (last as usize) < online && CPUS[last as usize].started.load(Ordering::Acquire)
    {
        let l = last as usize;
        if CPUS[l].len.load(Ordering::Relaxed) < CPUS[shortest].len.load(Ordering::Relaxed) + 2 {
            return l;
        }
    }
    shortest
}

/// Puts a runnable process on a run queue and pokes that CPU if it idles.
/// The caller holds `p.sched_lock` and has set the state to `Runnable`.
pub fn enqueue(p: Arc<Proc>) {
    let target = place(&p);
    let q = &CPUS[target];
    {
        let mut queue = q.queue.lock();
        queue.push_back(p);
        // SeqCst store, then SeqCst load of `idle`: with the idle CPU's
        // SeqCst store of `idle` and load of `len` (run_scheduler), one of
        // the two sees the other's store, so either that CPU finds the
        // process or we send the IPI (a Relaxed store here could be passed
        // by the load below, and both would miss).
        q.len.store(queue.len(), Ordering::SeqCst);
    }
    if target != percpu::cpu_index() && q.idle.load(Ordering::SeqCst) {
        apic::send_ipi(
            percpu::cpu(target).apic_id.load(Ordering::Relaxed),
            idt::VECTOR_RESCHEDULE,
        );
    }
}

fn pop_own() -> Option<Arc<Proc>> {
    let me = this();
    let mut q = me.queue.lock();
    let p = q.pop_front();
    me.len.store(q.len(), Ordering::Relaxed);
    p
}

fn steal() -> Option<Arc<Proc>> {
    let me = percpu::cpu_index();
    let victim = (0..percpu::online_count())
        .filter(|&c| c != me)
        .max_by_key(|&c| CPUS[c].len.load(Ordering::Relaxed))?;
    if CPUS[victim].len.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let mut q = CPUS[victim].queue.lock();
    let p = q.pop_back();
    CPUS[victim].len.store(q.len(), Ordering::Relaxed);
    p
}

/// This CPU's scheduler loop. Never returns.
pub fn run_scheduler() -> ! {
    let me = this();
    // Before `started`, which lets `place` pick this queue (module header).
    me.queue.lock().reserve(NPROC);
    me.started.store(true, Ordering::Release);
    loop {
        // Let interrupts in between picks so a wakeup IPI or tick can land.
        cpu::enable_interrupts();
        let Some(p) = pop_own().or_else(steal) else {
            cpu::disable_interrupts();
            me.idle.store(true, Ordering::SeqCst);
            // Re-check after announcing idleness: an enqueue that missed the
            // flag has already put its process where we look now.
            if me.len.load(Ordering::SeqCst) == 0 {
                cpu::wait_for_interrupt();
            }
            me.idle.store(false, Ordering::SeqCst);
            continue;
        };
        let guard = p.sched_lock.lock();
        if p.state() != State::Runnable {
            drop(guard);
            continue;
        }
        p.set_state(State::Running);
        p.cpu.store(percpu::cpu_index() as i32, Ordering::Relaxed);
        let ctr = p.container();
        if !ctr.is_host() && crate::container::log::scheduler_log_on() {
            crate::container::log::scheduling(ctr.id, p.vpid.load(Ordering::Relaxed));
        }
        let switched_in = crate::arch::x86_64::cpu::rdtsc();
        let top = p.kstack.top();
        let c = percpu::this_cpu();
        c.kernel_stack_top.set(top);
        // SAFETY: own CPU's TSS; `top` is the top of the process's kernel stack.
        unsafe { c.tables.set_rsp0(top) };
        let root = p.page_root.load(Ordering::Relaxed);
        if root != 0 {
            // SAFETY: a process's page_root names its live table: it changes
            // only while the process runs (exec, exit, with interrupts off),
            // and the old table is freed after; we hold its sched_lock, so it
            // is not running.
            unsafe { crate::arch::x86_64::paging::activate_root(root) };
        }
        // SAFETY: we hold the process's sched_lock; nobody else touches its FPU image.
        unsafe { (*p.fpu.get()).restore() };
        let target_rsp = p.saved_rsp.get();
        // SAFETY: own CPU, interrupts off (we hold sched_lock).
        unsafe { *me.current.get() = Some(p.clone()) };
        core::mem::forget(guard);
        // SAFETY: the process's saved stack pointer was stored by its last
        // switch-out (or built by prepare_first_entry) under the sched_lock
        // we now hold, and it runs on no other CPU (state was Runnable).
        unsafe { switch::switch(me.scheduler_rsp.get(), *target_rsp) };
        // Back from the process, which switched out holding its sched_lock.
        crate::arch::x86_64::paging::activate_kernel_table();
        ctr.cycles.fetch_add(
            crate::arch::x86_64::cpu::rdtsc().wrapping_sub(switched_in),
            Ordering::Relaxed,
        );
        ctr.switches.fetch_add(1, Ordering::Relaxed);
        drop(ctr);
        // SAFETY: own CPU, interrupts off.
        let prev = unsafe { (*me.current.get()).take() };
        if let Some(prev) = prev {
            // SAFETY: its sched_lock is still held (taken before it switched to us),
            // and the kernel never uses the FPU, so the registers are its state.
            unsafe { (*prev.fpu.get()).save() };
            // SAFETY: the process took this lock before switching to us, on this CPU.
            unsafe { prev.sched_lock.force_unlock() };
        }
    }
}

/// Switches from the current process to this CPU's scheduler. The caller
/// holds the process's `sched_lock` (and no other lock) and has set its state.
fn switch_to_scheduler(p: &Proc) {
    let c = percpu::this_cpu();
    assert!(p.sched_lock.holding(), "sched without sched_lock");
    assert_eq!(c.irq_off_depth.get(), 1, "sched with other locks held");
    assert!(p.state() != State::Running, "sched of a running process");
    let were_enabled = c.irq_were_enabled.get();
    // SAFETY: saved_rsp is this process's, written under its sched_lock; the
    // scheduler's saved stack is alive (it is this CPU's boot stack).
    unsafe { switch::switch(p.saved_rsp.get(), *this().scheduler_rsp.get()) };
    // We may resume on another CPU: re-read the per-CPU block.
    percpu::this_cpu().irq_were_enabled.set(were_enabled);
}

/// Called on a new process's first switch-in: finish the scheduler hand-off.
#[no_mangle]
extern "C" fn process_first_run() {
    let p = current().expect("first run without a current process");
    // SAFETY: the scheduler took this lock on this CPU before switching here.
    unsafe { p.sched_lock.force_unlock() };
    // A child forked into a paused container stops before its first user
    // instruction, like every other way back to user mode.
    if crate::container::members::must_freeze(&p) {
        // The return path turns interrupts off again before iretq.
        cpu::enable_interrupts();
        crate::container::members::freeze_point(&p);
    }
}

/// Gives up the CPU; the process stays runnable.
pub fn yield_now() {
    let Some(p) = current() else { return };
    let guard = p.sched_lock.lock();
    p.set_state(State::Runnable);
    enqueue(p.clone());
    core::mem::forget(guard);
    switch_to_scheduler(&p);
    // SAFETY: the scheduler that resumed us took our sched_lock on this CPU.
    unsafe { p.sched_lock.force_unlock() };
}

/// Processes waiting on one wait queue: an intrusive list through each
/// process's `wait_link`, so sleeping and waking never allocate (see the
/// module header for why this is safe).
pub struct Waiters {
    list: SpinLock<ArcList<Proc>>,
}

impl Default for Waiters {
    fn default() -> Self {
        Self::new()
    }
}

impl Waiters {
    pub const fn new() -> Self {
        Waiters {
            list: SpinLock::new("waitqueue", ArcList::new()),
        }
    }
}

/// Puts the current process to sleep on `w`, releasing `guard`'s lock only
/// once the process is registered and marked sleeping. Returns false (and
/// does nothing) when there is no current process.
///
/// An `interruptible` sleep does not start for a killed process: `kill`
/// sets the flag before it takes the sched_lock to wake a sleeper, and this
/// reads the flag under that lock, so a kill landing after the caller's own
/// check but before it is marked sleeping is seen here, not lost.
pub fn sleep_on<T>(w: &Waiters, guard: SpinLockGuard<'_, T>, interruptible: bool) -> bool {
    let Some(p) = current() else {
        drop(guard);
        return false;
    };
    let sched_guard = p.sched_lock.lock();
    let no_alloc = NoAlloc::new();
    if interruptible && p.killed() {
        drop(no_alloc);
        drop(sched_guard);
        drop(guard);
        return true;
    }
    w.list.lock().push_back(p.clone());
    p.set_state(State::Sleeping);
    drop(guard);
    drop(no_alloc);
    core::mem::forget(sched_guard);
    switch_to_scheduler(&p);
    // SAFETY: the scheduler that resumed us took our sched_lock on this CPU.
    unsafe { p.sched_lock.force_unlock() };
    // A wakeup took us off `w`; woken by kill instead, we are still on it.
    let no_alloc = NoAlloc::new();
    // SAFETY: a process links itself only here, on `w`, and is off every
    // queue again before this returns, so it is on `w` or on none.
    let ours = unsafe { w.list.lock().remove(&p) };
    drop(no_alloc);
    // The queue's reference; ours (`p`) is still alive, so this frees nothing.
    drop(ours);
    true
}

/// Makes every process sleeping on `w` runnable. Takes the waiters off one
/// at a time (the queue lock ranks below their sched_locks), but only those
/// queued when it started, so a woken process queueing again cannot keep it going.
pub fn wake_all(w: &Waiters) {
    let mark = w.list.lock().mark();
    loop {
        let next = {
            let _no_alloc = NoAlloc::new();
            w.list.lock().pop_front_before(mark)
        };
        let Some(p) = next else { break };
        make_runnable_if_sleeping(p);
    }
}

/// Wakes `p` if it sleeps (used by wakeups and by kill).
pub fn make_runnable_if_sleeping(p: Arc<Proc>) {
    {
        let _no_alloc = NoAlloc::new();
        let guard = p.sched_lock.lock();
        if p.state() == State::Sleeping {
            p.set_state(State::Runnable);
            enqueue(p.clone());
        }
        drop(guard);
    }
    // Dropping the last reference frees the process: outside the NoAlloc
    // scope, as freeing is allowed (and dropping a process's parts is not
    // this module's to vouch for).
    drop(p);
}

/// Ends the current process for good: marks it a zombie and leaves the CPU.
/// The caller has done all other exit work; `on_zombie` runs once the
/// process is a zombie, under its sched_lock.
pub fn exit_switch(p: Arc<Proc>, on_zombie: impl FnOnce(&Proc)) -> ! {
    let guard = p.sched_lock.lock();
    p.set_state(State::Zombie);
    on_zombie(&p);
    core::mem::forget(guard);
    let raw: *const Proc = Arc::as_ptr(&p);
    drop(p);
    // SAFETY: the scheduler still holds a reference (`current`), so the
    // process outlives this switch; it never resumes.
    switch_to_scheduler(unsafe { &*raw });
    unreachable!("a zombie was resumed");
}

/// Timer tick on this CPU: preempt the current process.
pub fn on_tick() {
    if current_pid().is_some() {
        yield_now();
    }
}

/// Number of processes queued on each CPU (for listings).
pub fn queue_lengths() -> [usize; MAX_CPUS] {
    core::array::from_fn(|i| CPUS[i].len.load(Ordering::Relaxed))
}
