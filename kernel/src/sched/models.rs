//! `loom` models of the scheduler's lock-free parts (run with `make loom`).
//!
//! Each model runs the real structures of this module (their atomics are
//! loom's under `--cfg loom`, see `atomic.rs`) on a tiny configuration,
//! with every CPU and every interrupt handler as a loom thread, and loom
//! explores their interleavings and the values each load may return.
//! The models and what they assert:
//!
//! 1. `run_queue`: enqueues, picks and steals on 2 CPUs, 2 groups, 3
//!    tasks: every queueing is picked exactly once, with its payload, and
//!    the counters come back to zero.
//! 2. `claim_*`, `cursor_*`: two CPUs picking from one group while a
//!    picked task exits and its slot is queued again by a new process (a
//!    new generation), or is re-queued as it is: a stale claim never
//!    succeeds, no queueing is claimed twice, a claim's payload is the one
//!    of the queueing it took; concurrent picks start at different slots.
//! 3. `sleep_*`: a sleeper (`RunState::begin_sleep`), a waker (under the
//!    wait condition's lock) and a killer (`wake::kill`): the task is
//!    queued at most once and never lost, and whoever resumes it first
//!    takes its on-CPU token (the kernel's `sched_lock`, a loom `Mutex`
//!    here) and finds its registers saved.
//! 4. `idle_*`, `mask_*`: a CPU going idle racing enqueues: it never halts
//!    with work queued and no IPI coming, and one waker at most takes its
//!    flag; a mask bit ends set while its counter is above zero.
//! 5. `wakeup_mark_races_picks`: a wakeup that preempts a CPU and marks
//!    its task as that CPU's next pick, racing picks on both CPUs: the
//!    woken task is claimed once, with its payload.

use loom::cell::UnsafeCell;
use loom::model::Builder;
use loom::sync::{Arc, Mutex};
use loom::thread;

use super::atomic::{AtomicBool, AtomicU32, Ordering};
use super::mask::Mask;
use super::members::Members;
use super::task::Task;
use super::wake::{self, RunState, RUNNING};
use super::{Config, Picked, Scheduler};

/// Loom with at most `n` preemptions per execution (the bugs these models
/// look for need one or two; every interleaving is explored within it).
fn model(n: usize, f: impl Fn() + Sync + Send + 'static) {
    let n = std::env::var("MODEL_BOUND")
        .ok()
        .map(|v| v.parse::<usize>().ok())
        .unwrap_or(Some(n));
    let mut b = Builder::new();
    b.preemption_bound = n;
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = runs.clone();
    let t = std::time::Instant::now();
    b.check(move || {
        r.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f()
    });
    eprintln!(
        "ITER {:?} {} in {:?} (bound {n:?})",
        std::thread::current().name(),
        runs.load(std::sync::atomic::Ordering::Relaxed),
        t.elapsed()
    );
}

fn sched(cpus: usize, groups: usize, tasks: usize) -> Scheduler {
    let s = Scheduler::new(Config {
        cpus,
        groups,
        tasks,
        unit_weight: 100,
        tick_cycles: 1000,
    });
    s.set_online(cpus);
    s
}

/// The payload of queueing number `k` of task `t`: unique, never 0.
fn payload(t: usize, k: usize) -> usize {
    1 + t + 16 * k
}

/// Picks on CPU 0 and 1 in turn until both find nothing; after the model's
/// threads are joined nothing is in flight, so that is everything queued.
fn drain(s: &Scheduler, cpus: usize) -> Vec<Picked> {
    let mut out = Vec::new();
    loop {
        let got: Vec<Picked> = (0..cpus).filter_map(|c| s.pick(c, 0)).collect();
        if got.is_empty() {
            return out;
        }
        for p in &got {
            s.put(p.from, p.group, 10);
        }
        out.extend(got);
    }
}

/// Every queueing in `want` (task, payload) was picked exactly once, as
/// its own task, and nothing else was picked; the counters are back at 0.
fn assert_each_once(s: &Scheduler, cpus: usize, picked: &[Picked], want: &[(usize, usize)]) {
    let mut got: Vec<(usize, usize)> = picked.iter().map(|p| (p.task, p.payload)).collect();
    got.sort_unstable();
    let mut want = want.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "picks (task, payload) differ from the queueings");
    assert_eq!(s.queued(), 0, "total counter not back at zero");
    for c in 0..cpus {
        assert_eq!(s.load_of(c), 0, "CPU {c}'s load not back at zero");
    }
}

// ---- 1. run queue ----------------------------------------------------------

/// CPU 0 and CPU 1 each queue a task of group 0 and pick (from their own
/// queue, or stealing from the other's); with `irq`, an interrupt handler
/// on CPU 1 (a wakeup) also queues a task of group 1 meant for CPU 0.
fn run_queue_model(bound: usize, irq: bool) {
    model(bound, move || {
        let s = Arc::new(sched(2, 2, 3));
        for (t, g) in [(0, 0), (1, 0), (2, 1)] {
            s.group(g).members.insert(t as u32).unwrap();
        }
        let cpu = |me: usize, t: usize| {
            let s = s.clone();
            thread::spawn(move || {
                s.enqueue(t, 0, me, me, payload(t, 0), 0);
                let p = s.pick(me, 0);
                if let Some(p) = p {
                    assert_eq!(p.payload, payload(p.task, 0), "payload of another task");
                    s.put(me, p.group, 10);
                }
                p
            })
        };
        let cpu0 = cpu(0, 0);
        let cpu1 = cpu(1, 1);
        let irq = irq.then(|| {
            let s = s.clone();
            thread::spawn(move || {
                s.enqueue(2, 1, 0, 1, payload(2, 0), 0);
            })
        });
        let mut picked: Vec<Picked> = [cpu0.join().unwrap(), cpu1.join().unwrap()]
            .into_iter()
            .flatten()
            .collect();
        let mut want = vec![(0, payload(0, 0)), (1, payload(1, 0))];
        if let Some(irq) = irq {
            irq.join().unwrap();
            want.push((2, payload(2, 0)));
        }
        picked.extend(drain(&s, 2));
        assert_each_once(&s, 2, &picked, &want);
        assert!(s.pick(0, 0).is_none() && s.pick(1, 0).is_none());
    });
}

#[test]
fn run_queue_two_cpus() {
    run_queue_model(3, false);
}

#[test]
fn run_queue_two_cpus_and_an_interrupt() {
    run_queue_model(1, true);
}

// ---- 2. cursor and claim ---------------------------------------------------

/// A task slot's ABA case on the word alone: CPU 1 reads the queued word
/// and claims it late; meanwhile CPU 0 claims it, the process exits, and
/// a new process in the same slot is queued for the same group and CPU.
/// CPU 1's claim must fail unless it is of the queueing it read.
#[test]
fn claim_is_not_fooled_by_a_reused_slot() {
    model(3, || {
        let task = Arc::new(Task::new());
        task.queue(0, 0, payload(0, 0));
        let late = {
            let task = task.clone();
            thread::spawn(move || {
                let seen = task.load();
                (seen.queued().then(|| task.claim(seen)).flatten(), seen)
            })
        };
        // CPU 0: claims it (if CPU 1 has not), it runs and exits, and a
        // new process gets the slot.
        let seen = task.load();
        let first = seen.queued().then(|| task.claim(seen)).flatten();
        if first.is_some() {
            task.retire();
            task.queue(0, 0, payload(0, 1));
        }
        let (second, seen_late) = late.join().unwrap();
        match (first, second) {
            (Some(a), Some(b)) => {
                assert_eq!(a, payload(0, 0));
                assert_eq!(b, payload(0, 1), "claimed the old queueing again");
                // A success on the new queueing means CPU 1 read its word.
                assert_eq!(seen_late.gen(), 1, "a stale claim succeeded (ABA)");
            }
            (None, Some(b)) => assert_eq!(b, payload(0, 0)),
            (Some(a), None) => assert_eq!(a, payload(0, 0)),
            (None, None) => panic!("nobody claimed the queued task"),
        }
    });
}

/// Two CPUs pick at once from a group whose members are all ready: the
/// cursor's `fetch_add` starts them at different slots, so they take
/// different tasks without a failed claim.
#[test]
fn cursor_starts_concurrent_picks_apart() {
    model(3, || {
        let m = Arc::new(Members::new(3));
        for t in [10, 11, 12] {
            m.insert(t).unwrap();
        }
        let other = {
            let m = m.clone();
            thread::spawn(move || m.pick(Some).unwrap())
        };
        let a = m.pick(Some).unwrap();
        let b = other.join().unwrap();
        assert_ne!(a, b, "two concurrent picks chose the same member");
        // And the next pick goes on past both.
        let c = m.pick(Some).unwrap();
        assert!(c != a && c != b, "round robin repeated {c} before {a}, {b}");
    });
}

/// The cursor and claims of `Scheduler::pick` on two CPUs over one group
/// of two queued tasks, while the task CPU 0 picks exits and its slot is
/// queued again by a new process (new generation) — or, when CPU 0 picks
/// the other one, it yields and is re-queued as it is. Every queueing is
/// claimed once, with its own payload; both picks succeed.
#[test]
fn claim_races_exit_and_requeue() {
    model(2, || {
        let s = Arc::new(sched(2, 1, 2));
        let slot0 = s.group(0).members.insert(0).unwrap();
        s.group(0).members.insert(1).unwrap();
        s.enqueue(0, 0, 0, 0, payload(0, 0), 0);
        s.enqueue(1, 0, 0, 0, payload(1, 0), 0);
        let cpu1 = {
            let s = s.clone();
            thread::spawn(move || s.pick(1, 0))
        };
        // CPU 0.
        let mine = s.pick(0, 0);
        let again = match mine {
            Some(p) if p.task == 0 => {
                // It exits: leaves the group, the slot is retired, and a
                // new process in the same slot joins and is queued.
                s.put(0, 0, 10);
                assert!(s.group(0).members.remove(slot0, 0));
                s.task(0).retire();
                s.group(0).members.insert(0).unwrap();
                s.enqueue(0, 0, 0, 0, payload(0, 1), 0);
                Some((0, payload(0, 1)))
            }
            Some(p) => {
                // It yields: queued again, same generation.
                s.put(0, 0, 10);
                s.enqueue(p.task, 0, 0, 0, payload(p.task, 1), 0);
                Some((p.task, payload(p.task, 1)))
            }
            None => None,
        };
        let theirs = cpu1.join().unwrap();
        assert!(mine.is_some(), "CPU 0 found nothing with two tasks queued");
        assert!(
            theirs.is_some(),
            "CPU 1 found nothing with two tasks queued"
        );
        let mut picked: Vec<Picked> = [mine, theirs].into_iter().flatten().collect();
        picked.extend(drain(&s, 2));
        let mut want = vec![(0, payload(0, 0)), (1, payload(1, 0))];
        want.extend(again);
        assert_each_once(&s, 2, &picked, &want);
    });
}

// ---- 3. sleep / wakeup / kill ----------------------------------------------

/// What the sleeper's wait queue holds, under the wait condition's lock.
#[derive(Default)]
struct Cond {
    /// The condition the sleeper waits for.
    ready: bool,
    /// The sleeper is linked on the wait queue.
    linked: bool,
}

/// A sleep racing a wakeup and/or a kill. The sleeper runs on CPU 0 and
/// holds its on-CPU token (the kernel's `sched_lock`) from before the state
/// change until its registers are saved; whoever wins the wakeup queues it
/// and, as the CPU that picks it, takes the token and resumes it.
fn sleep_model(interruptible: bool, with_waker: bool, with_killer: bool) {
    model(3, move || {
        let s = Arc::new(sched(2, 1, 1));
        s.group(0).members.insert(0).unwrap();
        let state = Arc::new(RunState::new());
        state.set(RUNNING);
        let killed = Arc::new(AtomicBool::new(false));
        let cond = Arc::new(Mutex::new(Cond::default()));
        let token = Arc::new(Mutex::new(()));
        // The sleeper's saved registers and the flag `swtch` sets.
        let regs = Arc::new(UnsafeCell::new(0u64));
        let saved = Arc::new(AtomicBool::new(false));

        let held = token.lock().unwrap();
        // The claimer: queue the task, pick it, take its token, resume it.
        let resume = {
            let (s, state, token, regs, saved) = (
                s.clone(),
                state.clone(),
                token.clone(),
                regs.clone(),
                saved.clone(),
            );
            move |me: usize| {
                assert!(s.enqueue(0, 0, 0, me, payload(0, 0), 0).is_none());
                let p = s.pick(me, 0).expect("the woken task is not queued");
                assert_eq!((p.task, p.payload), (0, payload(0, 0)));
                let _t = token.lock().unwrap();
                assert!(
                    saved.load(Ordering::Relaxed),
                    "resumed before its registers were saved"
                );
                // SAFETY: loom checks this access: it happens after the
                // sleeper's write, through the token.
                regs.with(|r| assert_eq!(unsafe { *r }, 0x5a));
                state.set(RUNNING);
                s.put(me, 0, 10);
            }
        };
        let waker = with_waker.then(|| {
            let (cond, state, resume) = (cond.clone(), state.clone(), resume.clone());
            thread::spawn(move || {
                let won = {
                    let mut c = cond.lock().unwrap();
                    c.ready = true;
                    std::mem::take(&mut c.linked) && state.wake()
                };
                if won {
                    resume(1);
                }
                won
            })
        });
        let killer = with_killer.then(|| {
            let (state, killed, resume) = (state.clone(), killed.clone(), resume.clone());
            thread::spawn(move || {
                let won = wake::kill(&state, &killed);
                if won {
                    resume(1);
                }
                won
            })
        });
        drop(resume);

        // The sleeper, on CPU 0: sleep unless the condition holds.
        let slept = {
            let mut c = cond.lock().unwrap();
            if c.ready {
                false
            } else {
                let slept = state.begin_sleep(&killed, interruptible);
                c.linked = slept;
                slept
            }
        };
        if slept {
            // `swtch` saves its registers, then the token is let go.
            // SAFETY: loom checks this access: nobody reads before the token.
            regs.with_mut(|r| unsafe { *r = 0x5a });
            saved.store(true, Ordering::Relaxed);
        }
        drop(held);

        let woken_by_waker = waker.map(|h| h.join().unwrap()).unwrap_or(false);
        let woken_by_killer = killer.map(|h| h.join().unwrap()).unwrap_or(false);
        let wakeups = usize::from(woken_by_waker) + usize::from(woken_by_killer);
        if slept {
            assert_eq!(wakeups, 1, "a sleep was woken {wakeups} times");
        } else {
            assert_eq!(wakeups, 0, "a task that did not sleep was woken");
        }
        if interruptible && killed.load(Ordering::Relaxed) && !with_waker {
            // Only the kill could wake it: it did, or the sleep never began.
            assert!(!slept || woken_by_killer);
        }
        assert_eq!(state.get(), RUNNING);
        assert_eq!(s.queued(), 0);
    });
}

#[test]
fn sleep_interruptible_vs_kill() {
    sleep_model(true, false, true);
}

#[test]
fn sleep_interruptible_vs_wake_and_kill() {
    sleep_model(true, true, true);
}

#[test]
fn sleep_uninterruptible_vs_wake_and_kill() {
    sleep_model(false, true, true);
}

// ---- 4. idle handshake and masks -------------------------------------------

/// CPU 0 found nothing and goes idle while CPU 1 queues a task (last run
/// on `prefer`) and, when `irq`, an interrupt handler on CPU 1 queues
/// another. If CPU 0 halts, one of them took its flag and sends the IPI
/// (and no two did); when it wakes it finds the work.
fn idle_model(prefer: usize, irq: bool) {
    model(2, move || {
        let s = Arc::new(sched(2, 1, 2));
        s.group(0).members.insert(0).unwrap();
        s.group(0).members.insert(1).unwrap();
        let waker = |t: usize| {
            let s = s.clone();
            thread::spawn(move || s.enqueue(t, 0, prefer, 1, payload(t, 0), 0))
        };
        let w0 = waker(0);
        let w1 = irq.then(|| waker(1));
        // CPU 0: halt only if `idle_enter` says so.
        let halted = s.idle_enter(0);
        let mut picked = Vec::new();
        if !halted {
            s.idle_exit(0);
            picked.extend(s.pick(0, 0));
        }
        let pokes: Vec<Option<usize>> = [Some(w0), w1]
            .into_iter()
            .flatten()
            .map(|h| h.join().unwrap())
            .collect();
        let ipis = pokes.iter().filter(|&&p| p == Some(0)).count();
        assert!(pokes.iter().all(|&p| p.is_none() || p == Some(0)));
        assert!(ipis <= 1, "two wakers took CPU 0's idle flag");
        if halted {
            assert!(
                ipis == 1 || s.queued() == 0,
                "CPU 0 halted with work queued and no IPI sent"
            );
            // The IPI: CPU 0 wakes and finds the work.
            s.idle_exit(0);
        }
        picked.extend(drain(&s, 2));
        let n = pokes.len();
        assert_eq!(picked.len(), n);
        assert_eq!(s.queued(), 0);
    });
}

#[test]
fn idle_vs_enqueue_on_its_own_last_cpu() {
    idle_model(1, false);
}

#[test]
fn idle_vs_enqueue_for_the_idle_cpu() {
    idle_model(0, false);
}

#[test]
fn idle_vs_two_enqueues() {
    idle_model(1, true);
}

/// A group's counter going 1 → 0 (a claim) while another CPU moves it
/// 0 → 1 and back and a third adds one, and group 1 (same mask word)
/// gets its first task: each bit ends set, its counter being above zero.
#[test]
fn mask_bit_stays_set_while_counted() {
    model(3, || {
        let mask = Arc::new(Mask::new(2));
        let counts = Arc::new([AtomicU32::new(0), AtomicU32::new(0)]);
        mask.increment(0, &counts[0]);
        let spawn = |f: fn(&Mask, &[AtomicU32; 2])| {
            let (mask, counts) = (mask.clone(), counts.clone());
            thread::spawn(move || f(&mask, &counts))
        };
        let a = spawn(|m, c| m.decrement(0, &c[0]));
        let b = spawn(|m, c| {
            m.increment(0, &c[0]);
            m.decrement(0, &c[0]);
        });
        let d = spawn(|m, c| {
            m.increment(0, &c[0]);
            m.increment(1, &c[1]);
        });
        for h in [a, b, d] {
            h.join().unwrap();
        }
        let mut bits = Vec::new();
        mask.for_each(|g| bits.push(g));
        assert_eq!(counts[0].load(Ordering::Relaxed), 1);
        assert_eq!(counts[1].load(Ordering::Relaxed), 1);
        assert_eq!(bits, [0, 1], "a counter above zero without its bit");
    });
}

/// 5. A wakeup that preempts CPU 0 and marks its task as CPU 0's next,
/// racing CPU 0's own pick (it may come before the mark, or take the task
/// by round robin first) and CPU 1's: the woken task is claimed exactly
/// once, with its payload, whichever CPU gets it.
#[test]
fn wakeup_mark_races_picks() {
    model(2, || {
        let s = Arc::new(sched(2, 1, 3));
        for t in 0..3 {
            s.group(0).members.insert(t).unwrap();
        }
        // Tasks 0 and 1 run on CPUs 0 and 1 since TSC 0.
        s.enqueue(0, 0, 0, 0, payload(0, 0), 0);
        assert_eq!(s.pick(0, 0).map(|p| p.task), Some(0));
        s.enqueue(1, 0, 1, 1, payload(1, 0), 0);
        assert_eq!(s.pick(1, 0).map(|p| p.task), Some(1));
        let waker = {
            let s = s.clone();
            // On CPU 1, a tick later: task 2 last ran on CPU 0.
            thread::spawn(move || s.enqueue(2, 0, 0, 1, payload(2, 0), 1000))
        };
        let cpu0 = {
            let s = s.clone();
            thread::spawn(move || {
                s.put(0, 0, 0);
                s.enqueue(0, 0, 0, 0, payload(0, 1), 0);
                s.pick(0, 0)
            })
        };
        let poke = waker.join().unwrap();
        let mut got: Vec<Picked> = cpu0.join().unwrap().into_iter().collect();
        assert!(poke.is_none() || poke == Some(0));
        s.put(1, 0, 0);
        got.extend(drain(&s, 2));
        let woken: Vec<&Picked> = got.iter().filter(|p| p.task == 2).collect();
        assert_eq!(
            woken.len(),
            1,
            "the woken task claimed {} times",
            woken.len()
        );
        assert_eq!(woken[0].payload, payload(2, 0));
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(s.queued(), 0);
    });
}
