//! The two-level choice: which group, then which of its tasks, on which CPU.
//!
//! See the module header of `sched` for the design and the ordering
//! argument; this file is the code it describes.

use alloc::boxed::Box;

use crossbeam_utils::CachePadded;

use super::atomic::{dekker_turn, AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use super::mask::Mask;
use super::members::Members;
use super::task::Task;

/// Sizes and clock of one scheduler.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub cpus: usize,
    pub groups: usize,
    pub tasks: usize,
    /// The weight whose virtual time runs at the speed of the TSC.
    pub unit_weight: u32,
    /// TSC cycles of one timer tick (the preemption granularity).
    pub tick_cycles: u64,
}

/// Longest slice, in ticks, when few tasks wait (it shrinks with load).
const MAX_SLICE_TICKS: u64 = 4;
/// How far behind the pack (in virtual cycles: ticks at the unit weight)
/// a group that slept may start again.
const LAG_TICKS: u64 = 1;
const NO_GROUP: u32 = u32::MAX;
/// A woken task may take a CPU from one that has run at least this share
/// of a tick since its switch-in (and only then: a shorter wait than that
/// is not worth a switch, and it bounds how often wakeups preempt).
const WAKE_GRANULARITY_DIV: u64 = 8;
const NO_NEXT: u64 = u64::MAX;
/// Groups one pick tries before it gives up (and the CPU looks again).
const PICK_TRIES: usize = 4;

/// One group's scheduling state (a container's).
pub struct Group {
    /// Its `procReferenceTable`.
    pub members: Members,
    weight: AtomicU32,
    /// Virtual time: TSC cycles run × unit weight / weight.
    vruntime: AtomicU64,
    /// Its queued tasks, per home CPU, and in all.
    queued_on: Box<[AtomicU32]>,
    queued: AtomicU32,
    /// Its tasks claimed and not yet put back.
    running: AtomicU32,
    /// TSC cycles its tasks ran, and times one was switched in.
    pub cycles: AtomicU64,
    pub switches: AtomicU64,
}

/// One CPU's scheduling state.
pub struct Cpu {
    /// Halted (or about to halt) waiting for work; taken by the one waker
    /// that will send it an IPI.
    idle: AtomicBool,
    /// Reschedule before returning to user mode.
    need_resched: AtomicBool,
    /// Groups with tasks queued here (its run queue's first level).
    groups: Mask,
    /// Tasks queued here.
    load: AtomicU32,
    /// Group of the task it runs (`NO_GROUP`: none).
    current_group: AtomicU32,
    /// TSC at its running task's switch-in.
    since: AtomicU64,
    /// A woken task (id and generation) that preempted this CPU: its next
    /// pick takes it first, if it is still queued (`NO_NEXT`: none).
    next: AtomicU64,
}

/// How a task comes to be queued.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Queueing {
    /// It woke (or is new).
    Woke,
    /// It woke, and its waker is about to block ([`Scheduler::enqueue_beside`]).
    WokeBeside,
    /// It was running a moment ago and gave way.
    GaveWay,
}

/// What a pick took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Picked {
    pub task: usize,
    pub group: usize,
    pub payload: usize,
    /// The CPU whose queue it came from (differs from the picker: a steal).
    pub from: usize,
}

/// The scheduler of one machine.
pub struct Scheduler {
    cfg: Config,
    cpus: Box<[CachePadded<Cpu>]>,
    groups: Box<[Group]>,
    tasks: Box<[Task]>,
    /// Groups with queued tasks anywhere.
    active: Mask,
    queued: AtomicU32,
    online: AtomicUsize,
    /// Virtual time of the pack: the largest virtual time a pick or a
    /// charge has seen. (Charges count too: tasks that run unpreempted,
    /// because nothing else waits, are never picked again, and a pack
    /// time frozen at their last pick let a group that slept meanwhile
    /// come back with all that time as credit.)
    vmin: AtomicU64,
}

impl Scheduler {
    pub fn new(cfg: Config) -> Scheduler {
        assert!(
            cfg.cpus > 0 && cfg.cpus < 256 && cfg.groups < 65536 && cfg.tasks < u32::MAX as usize
        );
        Scheduler {
            cfg,
            cpus: (0..cfg.cpus)
                .map(|_| {
                    CachePadded::new(Cpu {
                        idle: AtomicBool::new(false),
                        need_resched: AtomicBool::new(false),
                        groups: Mask::new(cfg.groups),
                        load: AtomicU32::new(0),
                        current_group: AtomicU32::new(NO_GROUP),
                        since: AtomicU64::new(0),
                        next: AtomicU64::new(NO_NEXT),
                    })
                })
                .collect(),
            groups: (0..cfg.groups)
                .map(|_| Group {
                    members: Members::new(cfg.tasks),
                    weight: AtomicU32::new(cfg.unit_weight),
                    vruntime: AtomicU64::new(0),
                    queued_on: (0..cfg.cpus).map(|_| AtomicU32::new(0)).collect(),
                    queued: AtomicU32::new(0),
                    running: AtomicU32::new(0),
                    cycles: AtomicU64::new(0),
                    switches: AtomicU64::new(0),
                })
                .collect(),
            tasks: (0..cfg.tasks).map(|_| Task::new()).collect(),
            active: Mask::new(cfg.groups),
            queued: AtomicU32::new(0),
            online: AtomicUsize::new(1),
            vmin: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// CPUs that schedule (placement looks only at these).
    pub fn set_online(&self, n: usize) {
        self.online
            .store(n.clamp(1, self.cfg.cpus), Ordering::Release);
    }

    fn online(&self) -> usize {
        self.online.load(Ordering::Acquire)
    }

    fn lag(&self) -> u64 {
        LAG_TICKS * self.cfg.tick_cycles
    }

    pub fn group(&self, g: usize) -> &Group {
        &self.groups[g]
    }

    pub fn task(&self, t: usize) -> &Task {
        &self.tasks[t]
    }

    // ---- groups ----

    /// Readies group `g` for a new container: weight `w`, counters at zero,
    /// virtual time level with the pack (it neither owes nor is owed).
    pub fn reset_group(&self, g: usize, w: u32) {
        let grp = &self.groups[g];
        debug_assert!(grp.members.is_empty() && grp.queued.load(Ordering::Relaxed) == 0);
        grp.weight.store(w.max(1), Ordering::Relaxed);
        grp.vruntime
            .store(self.vmin.load(Ordering::Relaxed), Ordering::Relaxed);
        grp.cycles.store(0, Ordering::Relaxed);
        grp.switches.store(0, Ordering::Relaxed);
    }

    pub fn set_weight(&self, g: usize, w: u32) {
        self.groups[g].weight.store(w.max(1), Ordering::Relaxed);
    }

    pub fn vruntime(&self, g: usize) -> u64 {
        self.groups[g].vruntime.load(Ordering::Relaxed)
    }

    /// CPUs now running a task of group `g`.
    pub fn cpus_running(&self, g: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.online())
            .filter(move |&c| self.cpus[c].current_group.load(Ordering::Acquire) == g as u32)
    }

    // ---- queueing ----

    /// Queues task `t` of group `g` (it woke, or is new), last run on
    /// `prefer`, from CPU `me` at TSC `now`. The caller owns the task (it
    /// is not queued, and nobody else may queue it meanwhile). Returns a
    /// CPU that must be sent a reschedule IPI: an idle one this call took
    /// the idle flag of, so it will look for work, or a busy one the task
    /// preempts (see [`Scheduler::wake_preempts`]).
    pub fn enqueue(
        &self,
        t: usize,
        g: usize,
        prefer: usize,
        me: usize,
        payload: usize,
        now: u64,
    ) -> Option<usize> {
        self.wake(t, g, prefer, me, payload, now, Queueing::Woke)
    }

    /// [`Scheduler::enqueue`] for a task woken by one on `me` that is about
    /// to block (a pipe's other end: the writer of a request then reads
    /// the reply): it is queued on `me`, marked as `me`'s next pick, and no
    /// idle CPU is woken for it, unless something else already waits on
    /// `me`. So a ping-pong stays on one CPU and each round trip costs two
    /// switches, not two IPIs and two halted CPUs' wake-ups. If the waker
    /// goes on running instead, an idle CPU steals the task at its next
    /// tick, or a slice's end gives it `me`.
    pub fn enqueue_beside(
        &self,
        t: usize,
        g: usize,
        me: usize,
        payload: usize,
        now: u64,
    ) -> Option<usize> {
        self.wake(t, g, me, me, payload, now, Queueing::WokeBeside)
    }

    /// Queues a woken task; then, unless an idle CPU was poked, whether it
    /// preempts the CPU it went to.
    #[allow(clippy::too_many_arguments)]
    fn wake(
        &self,
        t: usize,
        g: usize,
        prefer: usize,
        me: usize,
        payload: usize,
        now: u64,
        how: Queueing,
    ) -> Option<usize> {
        let poke = self.queue_task(t, g, prefer, me, payload, how);
        if poke.is_some() {
            return poke;
        }
        let home = self.tasks[t].load().home();
        self.wake_preempts(t, g, home, me, now).then_some(home)
    }

    /// [`Scheduler::enqueue`] for a task that was running a moment ago on
    /// `me` and gave way (preempted or yielding), called by `me` before
    /// its next pick: its group did not sleep, even if
    /// for that moment nothing of it was queued or running, so its virtual
    /// time stays what it is. (Lifting it to the pack's there cost a
    /// one-process container a twentieth of its share against six.)
    pub fn requeue(
        &self,
        t: usize,
        g: usize,
        prefer: usize,
        me: usize,
        payload: usize,
    ) -> Option<usize> {
        self.queue_task(t, g, prefer, me, payload, Queueing::GaveWay)
    }

    fn queue_task(
        &self,
        t: usize,
        g: usize,
        prefer: usize,
        me: usize,
        payload: usize,
        how: Queueing,
    ) -> Option<usize> {
        let woke = how != Queueing::GaveWay;
        let grp = &self.groups[g];
        // A group coming back from sleep starts no further behind the pack
        // than one lag: it does not bank the time it did not use.
        if woke
            && grp.queued.load(Ordering::Acquire) == 0
            && grp.running.load(Ordering::Acquire) == 0
        {
            let floor = self.vmin.load(Ordering::Acquire).saturating_sub(self.lag());
            grp.vruntime.fetch_max(floor, Ordering::AcqRel);
        }
        // A task that gave way on `me` with nothing else waiting there
        // stays: `me` is about to pick, and takes it again at once (or
        // whatever is further behind), so no idle CPU need be told. Sent to
        // an idle CPU instead (or an idle CPU poked for it), each lone
        // yield cost an IPI and a halted CPU's wake-up: six times the
        // cycles at eight CPUs. A task woken beside its waker stays too
        // (`me` picks it once the waker blocks; see `enqueue_beside`).
        let stays = how != Queueing::Woke && self.cpus[me].load.load(Ordering::Relaxed) == 0;
        let (home, mut poke) = if stays {
            (me, None)
        } else {
            self.place(prefer, me)
        };
        // Counters first, then the task: a counter is never below the
        // number of tasks a claimer can find (see the module header).
        self.cpus[home].groups.increment(g, &grp.queued_on[home]);
        self.active.increment(g, &grp.queued);
        self.cpus[home].load.fetch_add(1, Ordering::SeqCst);
        self.queued.fetch_add(1, Ordering::SeqCst);
        dekker_turn();
        self.tasks[t].queue(g, home, payload);
        if poke.is_none() && !stays {
            // An idle CPU that missed this work (it read `queued` before our
            // increment) set its flag before that read, so we see it here.
            poke = self.take_idle(me, home);
        }
        poke.filter(|&c| c != me)
    }

    /// Whether task `t` of group `g`, just woken by `me` onto busy CPU
    /// `home`, takes it now rather than at the end of the running task's
    /// slice: when the running task has had its wake granularity and is of
    /// the same group (which then serves its woken task first, the way a
    /// sleeper's low virtual time does in CFS) or of a group ahead of
    /// `g`'s by more than that granularity. Then `home` is asked to
    /// reschedule and `t` is its next pick. A task that only gave way is
    /// never a preempter. On the waker's own CPU the task is only marked
    /// next, without preempting: the waker is usually about to block, and
    /// preempting it would cost a switch.
    fn wake_preempts(&self, t: usize, g: usize, home: usize, me: usize, now: u64) -> bool {
        let cpu = &self.cpus[home];
        let cur = cpu.current_group.load(Ordering::Acquire);
        if cur == NO_GROUP {
            return false;
        }
        let gran = self.cfg.tick_cycles / WAKE_GRANULARITY_DIV;
        let cur = cur as usize;
        if cur != g && self.vruntime(g).saturating_add(gran) >= self.vruntime(cur) {
            return false;
        }
        let preempt = home != me && now.wrapping_sub(cpu.since.load(Ordering::Acquire)) >= gran;
        if home != me && !preempt {
            return false;
        }
        let w = self.tasks[t].load();
        cpu.next
            .store(u64::from(w.gen()) << 32 | t as u64, Ordering::Release);
        if preempt {
            self.set_need_resched(home);
        }
        preempt
    }

    /// The task a wakeup marked as `me`'s next, if it is still queued.
    fn claim_next(&self, me: usize) -> Option<Picked> {
        let next = self.cpus[me].next.swap(NO_NEXT, Ordering::AcqRel);
        if next == NO_NEXT {
            return None;
        }
        let t = (next & 0xffff_ffff) as usize;
        let task = self.tasks.get(t)?;
        let w = task.load();
        if !w.queued() || u64::from(w.gen()) != next >> 32 {
            return None;
        }
        let payload = task.claim(w)?;
        Some(self.took(t, w.group(), w.home(), payload))
    }

    /// A claim of task `t` (queued for group `g` on `home`) won: the
    /// counters come down.
    fn took(&self, t: usize, g: usize, home: usize, payload: usize) -> Picked {
        let grp = &self.groups[g];
        self.cpus[home].groups.decrement(g, &grp.queued_on[home]);
        self.active.decrement(g, &grp.queued);
        self.cpus[home].load.fetch_sub(1, Ordering::SeqCst);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        Picked {
            task: t,
            group: g,
            payload,
            from: home,
        }
    }

    /// Chooses the CPU to queue on; with `Some` when it took that CPU's idle flag.
    fn place(&self, prefer: usize, me: usize) -> (usize, Option<usize>) {
        let n = self.online();
        let prefer = if prefer < n { prefer } else { me.min(n - 1) };
        for k in 0..n {
            let c = (prefer + k) % n;
            if self.take_idle_flag(c) {
                return (c, Some(c));
            }
        }
        let load = |c: usize| self.cpus[c].load.load(Ordering::Relaxed);
        let lightest = (0..n).min_by_key(|&c| load(c)).unwrap_or(prefer);
        if load(prefer) > load(lightest) + 1 {
            (lightest, None)
        } else {
            (prefer, None)
        }
    }

    fn take_idle_flag(&self, c: usize) -> bool {
        self.cpus[c]
            .idle
            .compare_exchange(true, false, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// An idle CPU to wake, preferring `first`.
    fn take_idle(&self, me: usize, first: usize) -> Option<usize> {
        let n = self.online();
        (0..n)
            .map(|k| (first + k) % n)
            .filter(|&c| c != me)
            .find(|&c| self.take_idle_flag(c))
    }

    // ---- picking ----

    /// The group with the least virtual time among `mask`'s, counting only
    /// groups with tasks queued on `cpu` (or anywhere, for `None`).
    fn best(&self, mask: &Mask, cpu: Option<usize>, skip: &[usize]) -> Option<(usize, u64)> {
        let mut best: Option<(usize, u64)> = None;
        mask.for_each(|g| {
            if skip.contains(&g) {
                return;
            }
            let grp = &self.groups[g];
            let n = match cpu {
                Some(c) => grp.queued_on[c].load(Ordering::SeqCst),
                None => grp.queued.load(Ordering::SeqCst),
            };
            if n == 0 {
                return;
            }
            let v = grp.vruntime.load(Ordering::Acquire);
            if best.is_none_or(|(_, bv)| v < bv) {
                best = Some((g, v));
            }
        });
        best
    }

    /// Picks the next task for CPU `me` at TSC `now`: the task a wakeup
    /// preempted `me` for, if it is still queued; else the group furthest
    /// behind among those queued here, unless a group queued elsewhere is
    /// further behind (then that one: a CPU's own queue wins ties only;
    /// letting it win by up to a tick cost a one-process container 5 % of
    /// its share against six, each time waiting a tick on another CPU's
    /// queue); inside the group, the next queued task from its cursor,
    /// wherever it is queued (a steal when that is another CPU).
    pub fn pick(&self, me: usize, now: u64) -> Option<Picked> {
        let p = self.claim_next(me).or_else(|| self.pick_fair(me))?;
        let grp = &self.groups[p.group];
        grp.running.fetch_add(1, Ordering::AcqRel);
        grp.switches.fetch_add(1, Ordering::Relaxed);
        self.vmin
            .fetch_max(grp.vruntime.load(Ordering::Acquire), Ordering::AcqRel);
        let cpu = &self.cpus[me];
        cpu.since.store(now, Ordering::Release);
        cpu.current_group.store(p.group as u32, Ordering::Release);
        Some(p)
    }

    /// The two-level choice (see [`Scheduler::pick`]).
    fn pick_fair(&self, me: usize) -> Option<Picked> {
        // Groups whose counters ran ahead of their tasks on this pick: the
        // next try passes them over, so one group with a queueing in
        // flight cannot keep a CPU from the others.
        let mut failed = [usize::MAX; PICK_TRIES];
        for k in 0..PICK_TRIES {
            let local = self.best(&self.cpus[me].groups, Some(me), &failed[..k]);
            let global = self.best(&self.active, None, &failed[..k]);
            let g = match (local, global) {
                (Some((gl, vl)), Some((_, vg))) if vl <= vg => gl,
                (_, Some((gg, _))) => gg,
                (Some((gl, _)), None) => gl,
                (None, None) => return None,
            };
            if let Some(p) = self.claim_in(g) {
                return Some(p);
            }
            // The counters ran ahead of the tasks (a queueing in flight, or
            // a claim not yet counted down): look again, elsewhere.
            failed[k] = g;
        }
        None
    }

    /// Claims the next queued task of group `g` in its cursor's order,
    /// wherever it is queued (strict round robin inside the group: with
    /// five tasks on two CPUs, tasks kept to their CPU's queue would get
    /// a third or a half of a CPU each), moving the group's cursor.
    fn claim_in(&self, g: usize) -> Option<Picked> {
        let grp = &self.groups[g];
        grp.members.pick(|t| {
            let task = self.tasks.get(t as usize)?;
            let w = task.load();
            if !w.queued() || w.group() != g {
                return None;
            }
            let payload = task.claim(w)?;
            Some(self.took(t as usize, g, w.home(), payload))
        })
    }

    /// A task of group `g` ran `cycles` more TSC cycles: its group's
    /// virtual time moves on by `cycles` at its weight. Called at each tick
    /// for the running task (so a task that is never preempted, because
    /// nothing waits, is still counted as it runs) and by [`Scheduler::put`].
    pub fn charge(&self, g: usize, cycles: u64) {
        let grp = &self.groups[g];
        let w = u64::from(grp.weight.load(Ordering::Relaxed).max(1));
        let dv = (u128::from(cycles) * u128::from(self.cfg.unit_weight) / u128::from(w)) as u64;
        let v = grp
            .vruntime
            .fetch_add(dv, Ordering::AcqRel)
            .wrapping_add(dv);
        self.vmin.fetch_max(v, Ordering::AcqRel);
        grp.cycles.fetch_add(cycles, Ordering::Relaxed);
    }

    /// The task picked on `me` stopped running after `cycles` TSC cycles
    /// not yet charged.
    pub fn put(&self, me: usize, g: usize, cycles: u64) {
        self.charge(g, cycles);
        let grp = &self.groups[g];
        grp.running.fetch_sub(1, Ordering::AcqRel);
        self.cpus[me]
            .current_group
            .store(NO_GROUP, Ordering::Release);
    }

    /// The task running on `me` now belongs to group `to` (it was picked
    /// for `from`): the rest of its run counts for `to`.
    pub fn move_running(&self, me: usize, from: usize, to: usize) {
        self.groups[to].running.fetch_add(1, Ordering::AcqRel);
        self.groups[from].running.fetch_sub(1, Ordering::AcqRel);
        self.cpus[me]
            .current_group
            .store(to as u32, Ordering::Release);
    }

    // ---- preemption ----

    /// The slice a task may run before a waiting one gets the CPU: shorter
    /// as more tasks wait per CPU, never below one tick.
    pub fn slice(&self) -> u64 {
        let waiting = u64::from(self.queued.load(Ordering::Relaxed));
        let per_cpu = waiting.div_ceil(self.online() as u64).max(1);
        (MAX_SLICE_TICKS / per_cpu).max(1) * self.cfg.tick_cycles
    }

    /// A tick on `me`, whose task has run `ran` cycles since it was picked:
    /// whether it should give way (also recorded as `me`'s need-resched).
    pub fn tick(&self, me: usize, ran: u64) -> bool {
        let due = self.queued.load(Ordering::Relaxed) > 0 && ran >= self.slice();
        if due {
            self.set_need_resched(me);
        }
        due
    }

    pub fn set_need_resched(&self, c: usize) {
        self.cpus[c].need_resched.store(true, Ordering::Release);
    }

    /// Whether `me` was asked to reschedule (and clears the request).
    pub fn take_need_resched(&self, me: usize) -> bool {
        self.cpus[me].need_resched.load(Ordering::Relaxed)
            && self.cpus[me].need_resched.swap(false, Ordering::AcqRel)
    }

    // ---- idling ----

    /// `me` found nothing to run and is about to halt: announces it, then
    /// says whether halting is right (nothing was queued meanwhile). Every
    /// queueing after this point sees the flag and wakes us (Dekker's
    /// pattern on `idle` and `queued`, both SeqCst).
    pub fn idle_enter(&self, me: usize) -> bool {
        self.cpus[me].idle.store(true, Ordering::SeqCst);
        dekker_turn();
        self.queued.load(Ordering::SeqCst) == 0
    }

    /// `me` stops idling (woken, or it did not halt).
    pub fn idle_exit(&self, me: usize) {
        self.cpus[me].idle.store(false, Ordering::SeqCst);
    }

    /// Tasks queued now (all CPUs).
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed) as usize
    }

    /// Tasks queued on CPU `c`.
    pub fn load_of(&self, c: usize) -> usize {
        self.cpus[c].load.load(Ordering::Relaxed) as usize
    }
}
