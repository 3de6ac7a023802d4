//! The kernel side of scheduling: each CPU's scheduler loop, the switch
//! hand-off, and sleep / wakeup / yield / exit for processes. The policy
//! (which process runs where) is `crate::sched`, plain lock-free data
//! structures tested on the host; this file drives them and does what
//! needs the hardware (CR3, TSS, FPU, the register switch, IPIs).
//!
//! **Tasks and groups.** A process is task `p.slot` (its process-table
//! slot, a stable pool) of group `p.container` (its container's id). A
//! runnable process is queued with a counted reference as the task's
//! payload (`Arc::into_raw`); the CPU whose claim wins takes it back
//! (`Arc::from_raw`). Reaping a process retires its task, so its slot's
//! next queueing has a new generation.
//!
//! **The hand-off.** A process's `sched_lock` is the "still on a CPU"
//! token: a process about to stop running (yield, sleep, exit) takes it,
//! and it is released only on the other side of the switch, once the
//! registers are saved; a CPU about to resume a claimed process takes it
//! first. So a process woken while its CPU is still switching away (wakeups
//! take no lock: `sched::wake`) is not resumed on a stack still in use. The
//! held lock crosses each switch as a value, [`HandOff`], left in the
//! CPU's hand-off slot by one side and taken (and dropped, releasing the
//! lock) by the other; a debug-style check that costs one atomic swap
//! (`on_cpu`) catches a process running on two CPUs.
//!
//! **Preemption.** Each tick asks the policy whether the running process's
//! slice is over (slices shrink with load); a reschedule IPI marks its
//! target too. The mark is honoured at the end of the interrupt, on the way
//! back to the interrupted code ([`preempt_if_asked`]). Killed processes and
//! the freezer are handled there too, with interrupts on.
//!
//! **Clock.** The TSC is read once per switch (`stamp`) and once per
//! tick: a process is charged from its switch-in stamp to each tick and to
//! its switch-out, so a process that nothing preempts (nothing waits) is
//! still counted as it runs, and the accounting and (later) the tracing
//! probes share the switch's one read.
//!
//! Wait queues ([`Waiters`]) are intrusive lists (`sync::list`) through
//! each process's `wait_link`, so sleeping and waking never allocate (they
//! run under `mm::heap::NoAlloc`, which panics if they do); neither does
//! anything here on the schedule, wakeup or timer paths (the policy's
//! structures are allocated once, at the first CPU's start). Lock order: a
//! wait condition's lock → a process's `sched_lock` → a wait-queue lock.
//!
//! Why no wait-queue pointer ever dangles: a queue holds one counted
//! reference to each process on it (`Arc::into_raw` on linking, `from_raw`
//! on unlinking), and follows links only under its own lock, so a linked
//! process is alive; a waker works only on the `Arc` it took off. A process
//! links itself only inside `sleep_on(w)` and, before returning, takes itself
//! off `w` in O(1) if no wakeup did (woken by `kill`), so it is on at most one
//! queue, and `w` (borrowed for the whole call) outlives its being on it.

use alloc::sync::Arc;
use core::cell::{Cell, UnsafeCell};
use core::sync::atomic::Ordering;

use berth_abi::container::{CPU_WEIGHT_DEFAULT, MAX_CONTAINERS};
use berth_abi::limits::NPROC;
use crossbeam_utils::CachePadded;
use spin::Once;

use super::{Proc, State};
use crate::arch::x86_64::{apic, cpu, idt, percpu, switch, tsc};
use crate::mm::heap::NoAlloc;
use crate::param::{MAX_CPUS, TICKS_PER_SEC};
use crate::sched::{wake, Config, Scheduler};
use crate::sync::list::ArcList;
use crate::sync::{SpinLock, SpinLockGuard};
use crate::trace;
use berth_abi::trace::event;

static POLICY: Once<Scheduler> = Once::new();

/// Builds the policy's tables (the only allocation it makes). Called by
/// the boot CPU with interrupts off, before any other CPU starts: built
/// lazily instead, an interrupt on the building CPU that looked at the
/// policy would wait for itself.
pub fn init() {
    POLICY.call_once(|| {
        Scheduler::new(Config {
            cpus: MAX_CPUS,
            groups: MAX_CONTAINERS + 1,
            tasks: NPROC,
            unit_weight: CPU_WEIGHT_DEFAULT,
            tick_cycles: (tsc::hz() / TICKS_PER_SEC).max(1),
        })
    });
}

fn policy() -> &'static Scheduler {
    POLICY.get().expect("scheduler used before sched::init")
}

/// A process's `sched_lock`, held across one switch: taken on one stack,
/// released (by dropping this) on the other. `requeue`: the process yielded
/// and goes back on a run queue once it is off the CPU.
struct HandOff {
    proc: Arc<Proc>,
    requeue: bool,
}

impl HandOff {
    /// Takes `p`'s `sched_lock` (waiting, if its last CPU is still
    /// switching away from it) for one switch.
    fn lock(p: &Arc<Proc>, requeue: bool) -> HandOff {
        core::mem::forget(p.sched_lock.lock());
        HandOff {
            proc: p.clone(),
            requeue,
        }
    }
}

impl Drop for HandOff {
    fn drop(&mut self) {
        // SAFETY: `lock` took this lock and forgot the guard; the HandOff is
        // dropped once, on the CPU the switch brought it to, which is where
        // the lock's interrupt-off depth was carried (it crosses the switch
        // with interrupts off, as xv6's p->lock does).
        unsafe { self.proc.sched_lock.force_unlock() };
    }
}

/// The scheduler state of one CPU, touched only by that CPU with
/// interrupts off (through [`this`]).
struct CpuSched {
    /// The process running here.
    current: UnsafeCell<Option<Arc<Proc>>>,
    /// The scheduler loop's saved stack pointer.
    scheduler_rsp: UnsafeCell<u64>,
    /// The lock crossing the switch in progress (see [`HandOff`]).
    handoff: UnsafeCell<Option<HandOff>>,
    /// TSC when the running process was last charged: its switch-in (the
    /// last switch, or the wake from idle) or the last tick.
    stamp: Cell<u64>,
    /// TSC at the running process's switch-in (its slice is measured from here).
    picked_at: Cell<u64>,
    /// The running process's group (as picked, or as it joined since).
    group: Cell<usize>,
}

// SAFETY: every field is touched only by the owning CPU with interrupts
// off (the type's contract, kept by `this()`).
unsafe impl Sync for CpuSched {}

impl CpuSched {
    /// Reads the TSC (the one read of a switch or a tick) and moves the
    /// stamp there: returns it and the cycles since the last charge.
    fn lap(&self) -> (u64, u64) {
        let now = cpu::rdtsc();
        let ran = now.wrapping_sub(self.stamp.get());
        self.stamp.set(now);
        (now, ran)
    }
}

#[allow(clippy::declare_interior_mutable_const)]
const IDLE_CPU: CachePadded<CpuSched> = CachePadded::new(CpuSched {
    current: UnsafeCell::new(None),
    scheduler_rsp: UnsafeCell::new(0),
    handoff: UnsafeCell::new(None),
    stamp: Cell::new(0),
    picked_at: Cell::new(0),
    group: Cell::new(0),
});
static CPUS: [CachePadded<CpuSched>; MAX_CPUS] = [IDLE_CPU; MAX_CPUS];

/// This CPU's scheduler state: the one accessor, for the owning CPU only.
fn this() -> &'static CpuSched {
    &CPUS[percpu::cpu_index()]
}

/// Runs `f` on this CPU's state with interrupts off (so nothing else on
/// this CPU, and no migration, can come between).
fn with_this<R>(f: impl FnOnce(&'static CpuSched) -> R) -> R {
    percpu::push_irq_off();
    let r = f(this());
    percpu::pop_irq_off();
    r
}

/// Runs `f` so that the running process can neither be preempted nor
/// migrate meanwhile (interrupts off). `f` must not sleep.
pub fn unpreempted<R>(f: impl FnOnce() -> R) -> R {
    with_this(|_| f())
}

/// The process running on this CPU.
pub fn current() -> Option<Arc<Proc>> {
    // SAFETY: own CPU, interrupts off.
    with_this(|c| unsafe { (*c.current.get()).clone() })
}

/// The TLB shootdown IPI's part here: a CPU running no process lets go
/// of the table it kept loaded (see arch `tlb.rs`); a process's own table
/// is never the one being retired.
pub fn drop_lazy_table() {
    let running = with_this(|c| {
        // SAFETY: own CPU, interrupts off.
        unsafe {
            (*c.current.get())
                .as_ref()
                .map(|p| p.page_root.load(Ordering::Relaxed))
        }
    });
    if running.unwrap_or(0) == 0 && crate::arch::x86_64::tlb::loaded() != 0 {
        crate::arch::x86_64::paging::activate_kernel_table();
    }
}

/// The pid of the process running on this CPU (no reference count traffic).
pub fn current_pid() -> Option<i32> {
    // SAFETY: own CPU, interrupts off.
    with_this(|c| unsafe { (*c.current.get()).as_ref().map(|p| p.pid) })
}

// ---- the policy's view of processes and containers ----

/// Readies container `id`'s group for a new container of weight `w`.
pub fn reset_group(id: i32, w: u32) {
    policy().reset_group(id as usize, w);
}

pub fn set_weight(id: i32, w: u32) {
    policy().set_weight(id as usize, w);
}

/// Container `id`'s `procReferenceTable` (task ids are process slots).
pub fn members(id: i32) -> &'static crate::sched::members::Members {
    &policy().group(id as usize).members
}

/// TSC cycles container `id`'s processes ran, and their switch-ins.
pub fn group_counts(id: i32) -> (u64, u64) {
    let g = policy().group(id as usize);
    (
        g.cycles.load(Ordering::Relaxed),
        g.switches.load(Ordering::Relaxed),
    )
}

/// The running process moves from container `from` to `to` (join, leave):
/// its time so far is charged to `from`, the rest of its run to `to`.
pub fn moved_container(from: i32, to: i32) {
    with_this(|c| {
        let (_, ran) = c.lap();
        // SAFETY: own CPU, interrupts off.
        if let Some(cur) = unsafe { (*c.current.get()).as_ref() } {
            cur.cycles.fetch_add(ran, Ordering::Relaxed);
        }
        let p = policy();
        p.charge(from as usize, ran);
        p.move_running(percpu::cpu_index(), from as usize, to as usize);
        c.group.set(to as usize);
    });
}

/// Ends process slot `slot`'s use by a reaped process.
pub fn retire_task(slot: usize) {
    policy().task(slot).retire();
}

/// Asks every CPU running a process of container `id` to reschedule now
/// (pause: its members reach the freezer without waiting for a tick).
pub fn kick_group(id: i32) {
    let me = percpu::cpu_index();
    for c in policy().cpus_running(id as usize) {
        policy().set_need_resched(c);
        if c != me {
            send_reschedule(c);
        }
    }
}

fn send_reschedule(c: usize) {
    if trace::on(event::IPI) {
        trace::emit(
            event::IPI,
            current_pid().unwrap_or(-1),
            -1,
            u32::from(idt::VECTOR_RESCHEDULE),
            c as u64,
        );
    }
    apic::send_ipi(
        percpu::cpu(c).apic_id.load(Ordering::Relaxed),
        idt::VECTOR_RESCHEDULE,
    );
}

/// Puts a runnable process on a run queue; an idle CPU it went to (or
/// that must steal it) gets a reschedule IPI. The caller made it
/// `Runnable` (the winner of its wakeup, or its own yield or start).
pub fn enqueue(p: &Arc<Proc>) {
    queue(p, Queueing::Woke);
}

/// Queues a process that ran a moment ago and gave way (see `Scheduler::requeue`).
fn requeue(p: &Arc<Proc>) {
    queue(p, Queueing::GaveWay);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Queueing {
    Woke,
    /// Woken by a process about to block (see `Scheduler::enqueue_beside`).
    WokeBeside,
    GaveWay,
}

fn queue(p: &Arc<Proc>, how: Queueing) {
    percpu::push_irq_off();
    let me = percpu::cpu_index();
    let last = p.cpu.load(Ordering::Relaxed);
    let prefer = if last >= 0 { last as usize } else { me };
    let group = p.container.load(Ordering::Acquire) as usize;
    let payload = Arc::into_raw(p.clone()) as usize;
    let s = policy();
    // The one clock read of a wakeup: whether it preempts a busy CPU, and
    // the trace record's time.
    let now = if how == Queueing::GaveWay {
        0
    } else {
        cpu::rdtsc()
    };
    if how != Queueing::GaveWay && trace::on(event::WAKEUP) {
        // SAFETY: own CPU, interrupts off (push_irq_off above).
        let waker = unsafe { (*this().current.get()).as_ref().map_or(-1, |w| w.pid) };
        trace::emit_at(
            now,
            event::WAKEUP,
            p.pid,
            group as i32,
            prefer as u32,
            waker as i64 as u64,
        );
    }
    let poke = match how {
        Queueing::Woke => s.enqueue(p.slot, group, prefer, me, payload, now),
        Queueing::WokeBeside => s.enqueue_beside(p.slot, group, me, payload, now),
        Queueing::GaveWay => s.requeue(p.slot, group, prefer, me, payload),
    };
    if let Some(c) = poke {
        send_reschedule(c);
    }
    percpu::pop_irq_off();
}

// ---- the scheduler loop ----

/// Picks in a row that found tasks counted queued but none to claim after
/// which the loop says so once (a queueing in flight resolves in a few).
const UNCLAIMABLE_REPORT: u64 = 10_000_000;

/// This CPU's scheduler loop. Never returns.
pub fn run_scheduler() -> ! {
    let s = policy();
    let me = percpu::cpu_index();
    s.set_online(percpu::online_count().max(me + 1));
    this().stamp.set(cpu::rdtsc());
    let mut misses = 0u64;
    loop {
        // Let interrupts in between picks so a wakeup IPI, a shootdown or a
        // tick can land (it used to be `sti; cli`, which lets none in: a CPU
        // that found work counted but none it could claim then spun with
        // interrupts shut, and with every CPU doing so the machine hung).
        cpu::interrupt_window();
        let Some(pick) = s.pick(me, this().stamp.get()) else {
            misses += 1;
            if misses == UNCLAIMABLE_REPORT {
                crate::println!(
                    "sched: cpu {me}: {} tasks counted queued, none claimable for {misses} picks",
                    s.queued()
                );
            }
            if s.idle_enter(me) {
                misses = 0;
                // `sti; hlt`: an IPI sent after our flag went up ends the halt.
                cpu::wait_for_interrupt();
                cpu::disable_interrupts();
                this().stamp.set(cpu::rdtsc());
            }
            s.idle_exit(me);
            continue;
        };
        // SAFETY: the payload is the counted reference `enqueue` leaked for
        // this queueing, and only the CPU whose claim won gets it.
        let p = unsafe { Arc::from_raw(pick.payload as *const Proc) };
        misses = 0;
        run(me, p, pick.group);
    }
}

/// Runs claimed process `p` (of `group`) on this CPU until it gives the CPU back.
fn run(me: usize, p: Arc<Proc>, group: usize) {
    let c = this();
    // Waits here while its last CPU is still saving its registers.
    let handoff = HandOff::lock(&p, false);
    assert_eq!(
        p.state(),
        State::Runnable,
        "claimed a process that is not runnable"
    );
    let before = p.on_cpu.swap(me as i32 + 1, Ordering::AcqRel);
    assert_eq!(before, 0, "pid {} on two CPUs", p.pid);
    p.set_state(State::Running);
    let ran_last_here = p.cpu.swap(me as i32, Ordering::Relaxed) == me as i32;
    if group != 0 && crate::container::log::scheduler_log_on() {
        crate::container::log::scheduling(group as i32, p.vpid.load(Ordering::Relaxed));
    }
    let top = p.kstack.top();
    let pc = percpu::this_cpu();
    pc.kernel_stack_top.set(top);
    // SAFETY: own CPU's TSS; `top` is the top of the process's kernel stack.
    unsafe { pc.tables.set_rsp0(top) };
    let root = p.page_root.load(Ordering::Relaxed);
    let loaded = crate::arch::x86_64::tlb::loaded();
    if root == 0 {
        // Exiting: on the kernel's table, not a lazily kept one that may
        // be freed while we run.
        if loaded != 0 {
            // The process's table stays loaded (lazy TLB: see arch tlb.rs).
        }
    } else if loaded != root || !ran_last_here {
        // Kept loaded since it last ran here, its table and this CPU's
        // TLB agree (only the process changes its own table, and it ran
        // nowhere else since): no CR3 write. Otherwise, a fresh one.
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
    unsafe {
        *c.current.get() = Some(p.clone());
        *c.handoff.get() = Some(handoff);
    }
    c.picked_at.set(c.stamp.get());
    c.group.set(group);
    if trace::on(event::SWITCH) {
        // From the scheduler loop (idle) to the process, on a clock read
        // of its own: the stamp its slice is charged from (the last
        // switch-out) predates records the loop made since (an interrupt
        // between picks), and a CPU's records must stay in time order.
        trace::emit(event::SWITCH, -1, -1, p.pid as u32, u64::from(group as u32));
    }
    // SAFETY: the process's saved stack pointer was stored by its last
    // switch-out (or built by prepare_first_entry) under the sched_lock
    // we now hold, and it runs on no other CPU (we won its claim).
    unsafe { switch::switch(c.scheduler_rsp.get(), *target_rsp) };
    // Back from the process, which left its own HandOff in the slot.
    let (now, ran) = c.lap();
    if trace::on(event::SWITCH) {
        // From the process to the scheduler loop, on the switch's own clock
        // read; written before the kernel table goes in, while the TLB
        // (which a CR3 write empties, all of it under TCG) still maps the
        // ring page the process's own probes wrote.
        let state = p.state() as u8;
        trace::emit_at(
            now,
            event::SWITCH,
            p.pid,
            c.group.get() as i32,
            u32::MAX,
            u64::from(u32::MAX) | u64::from(state) << 32,
        );
    }
    crate::arch::x86_64::paging::activate_kernel_table();
    // SAFETY: own CPU, interrupts off.
    let (prev, back) = unsafe { ((*c.current.get()).take(), (*c.handoff.get()).take()) };
    let back = back.expect("a process switched back without its hand-off");
    drop(prev);
    // SAFETY: its sched_lock is still held (the HandOff), and the kernel
    // never uses the FPU, so the registers are its state.
    unsafe { (*p.fpu.get()).save() };
    p.cycles.fetch_add(ran, Ordering::Relaxed);
    policy().put(me, c.group.get(), ran);
    p.on_cpu.store(0, Ordering::Release);
    let requeue = back.requeue;
    drop(back);
    if requeue {
        self::requeue(&p);
    }
}

/// Switches from the current process to this CPU's scheduler, handing it
/// `handoff` (the process's own `sched_lock`); returns when a scheduler
/// resumes the process, having released the lock that scheduler took.
fn switch_to_scheduler(p: &Proc, handoff: HandOff) {
    let pc = percpu::this_cpu();
    assert!(p.sched_lock.holding(), "sched without sched_lock");
    assert_eq!(pc.irq_off_depth.get(), 1, "sched with other locks held");
    assert!(p.state() != State::Running, "sched of a running process");
    let were_enabled = pc.irq_were_enabled.get();
    let c = this();
    // SAFETY: own CPU, interrupts off (sched_lock held).
    unsafe { *c.handoff.get() = Some(handoff) };
    // SAFETY: saved_rsp is this process's, written under its sched_lock; the
    // scheduler's saved stack is alive (this CPU's own guarded stack, for good).
    unsafe { switch::switch(p.saved_rsp.get(), *c.scheduler_rsp.get()) };
    // We may resume on another CPU: re-read the per-CPU state.
    percpu::this_cpu().irq_were_enabled.set(were_enabled);
    finish_switch_in();
}

/// Drops the HandOff the scheduler that resumed us left (our sched_lock).
fn finish_switch_in() {
    // SAFETY: own CPU, interrupts off (the lock in the HandOff is held).
    let h = unsafe { (*this().handoff.get()).take() };
    drop(h.expect("resumed without a hand-off"));
}

/// Called on a new process's first switch-in (from `arch`'s
/// `first_entry`, a `sym` operand): finish the scheduler hand-off.
pub(crate) extern "C" fn process_first_run() {
    finish_switch_in();
    let p = current().expect("first run without a current process");
    // A child forked into a paused container stops before its first user
    // instruction, like every other way back to user mode.
    if crate::container::members::must_freeze(&p) {
        // The return path turns interrupts off again before iretq.
        cpu::enable_interrupts();
        crate::container::members::freeze_point(&p);
    }
}

/// Gives up the CPU; the process stays runnable (queued again once it is off the CPU).
pub fn yield_now() {
    let Some(p) = current() else { return };
    let handoff = HandOff::lock(&p, true);
    p.set_state(State::Runnable);
    switch_to_scheduler(&p, handoff);
}

// ---- preemption ----

/// Timer tick on this CPU (interrupts off): charges the running process
/// for the time since its last charge, then asks whether its slice is over.
pub fn on_tick() {
    let me = percpu::cpu_index();
    let c = this();
    // SAFETY: own CPU, interrupts off (an interrupt handler).
    let Some(p) = (unsafe { (*c.current.get()).as_ref() }) else {
        return;
    };
    let (now, ran) = c.lap();
    p.cycles.fetch_add(ran, Ordering::Relaxed);
    policy().charge(c.group.get(), ran);
    policy().tick(me, now.wrapping_sub(c.picked_at.get()));
}

/// A reschedule IPI arrived: the running process (if any) gives way at
/// the end of this interrupt. (On an idle CPU the IPI only ends the halt.)
pub fn on_reschedule_ipi() {
    if current_pid().is_some() {
        policy().set_need_resched(percpu::cpu_index());
    }
}

/// At the end of a trap: yields if this CPU was asked to reschedule.
/// Interrupts were on where the trap came from (or it came from user
/// mode), so no spinlock is held and the process may switch.
pub fn preempt_if_asked() {
    if policy().take_need_resched(percpu::cpu_index()) && current_pid().is_some() {
        yield_now();
    }
}

// ---- sleep and wakeup ----

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
/// once the process is marked sleeping and linked. Returns false (and
/// does nothing) when there is no current process.
///
/// An `interruptible` sleep does not start for a killed process, and a
/// kill racing with this call is never lost (`sched::wake`).
pub fn sleep_on<T>(w: &Waiters, guard: SpinLockGuard<'_, T>, interruptible: bool) -> bool {
    let Some(p) = current() else {
        drop(guard);
        return false;
    };
    let handoff = HandOff::lock(&p, false);
    let no_alloc = NoAlloc::new();
    if !p.run.begin_sleep(&p.killed, interruptible) {
        drop(no_alloc);
        drop(handoff);
        drop(guard);
        return true;
    }
    w.list.lock().push_back(p.clone());
    drop(guard);
    drop(no_alloc);
    switch_to_scheduler(&p, handoff);
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

/// Puts the current process to sleep where no wait queue holds it (a
/// timer heap does: `time.rs`), releasing `guard` once it is marked
/// sleeping. Same contract as [`sleep_on`].
pub fn sleep_unlinked<T>(guard: SpinLockGuard<'_, T>, interruptible: bool) -> bool {
    let Some(p) = current() else {
        drop(guard);
        return false;
    };
    let handoff = HandOff::lock(&p, false);
    if !p.run.begin_sleep(&p.killed, interruptible) {
        drop(handoff);
        drop(guard);
        return true;
    }
    drop(guard);
    switch_to_scheduler(&p, handoff);
    true
}

/// Makes every process sleeping on `w` runnable. Takes the waiters off one
/// at a time, but only those queued when it started, so a woken process
/// queueing again cannot keep it going.
pub fn wake_all(w: &Waiters) {
    wake_all_as(w, Queueing::Woke);
}

/// [`wake_all`] by a process about to block (a pipe's other end): the
/// woken ones wait on this CPU for it to (see `Scheduler::enqueue_beside`).
pub fn wake_all_beside(w: &Waiters) {
    wake_all_as(w, Queueing::WokeBeside);
}

fn wake_all_as(w: &Waiters, how: Queueing) {
    let mark = w.list.lock().mark();
    loop {
        let next = {
            let _no_alloc = NoAlloc::new();
            w.list.lock().pop_front_before(mark)
        };
        let Some(p) = next else { break };
        wake_as(p, how);
    }
}

/// Wakes `p` if it sleeps (used by wakeups, timers and kill).
pub fn make_runnable_if_sleeping(p: Arc<Proc>) {
    wake_as(p, Queueing::Woke);
}

fn wake_as(p: Arc<Proc>, how: Queueing) {
    {
        let _no_alloc = NoAlloc::new();
        if p.run.wake() {
            queue(&p, how);
        }
    }
    // Dropping the last reference frees the process: outside the NoAlloc
    // scope, as freeing is allowed (and dropping a process's parts is not
    // this module's to vouch for).
    drop(p);
}

/// Marks `p` killed and makes it act on it soon: woken if it sleeps,
/// asked to reschedule if it runs on another CPU (it exits at its next
/// return towards user mode).
pub fn kill(p: &Arc<Proc>) {
    {
        let _no_alloc = NoAlloc::new();
        if wake::kill(&p.run, &p.killed) {
            enqueue(p);
            return;
        }
    }
    let on = p.on_cpu.load(Ordering::Acquire);
    if on > 0 && (on - 1) as usize != percpu::cpu_index() {
        policy().set_need_resched((on - 1) as usize);
        send_reschedule((on - 1) as usize);
    }
}

/// Ends the current process for good: marks it a zombie and leaves the CPU.
/// The caller has done all other exit work; `on_zombie` runs once the
/// process is a zombie, under its sched_lock.
pub fn exit_switch(p: Arc<Proc>, on_zombie: impl FnOnce(&Proc)) -> ! {
    let handoff = HandOff::lock(&p, false);
    p.set_state(State::Zombie);
    on_zombie(&p);
    let raw: *const Proc = Arc::as_ptr(&p);
    drop(p);
    // SAFETY: the HandOff (and the scheduler's `current`) still hold
    // references, so the process outlives this switch; it never resumes.
    switch_to_scheduler(unsafe { &*raw }, handoff);
    unreachable!("a zombie was resumed");
}
