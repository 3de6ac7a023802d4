//! Host unit tests of the scheduler's structures (the concurrency models
//! are in `models.rs`, run with `--cfg loom`).

use super::members::Members;
use super::task::Task;
use super::timer::TimerHeap;
use super::{Config, Scheduler};

fn cfg(cpus: usize, groups: usize, tasks: usize) -> Config {
    Config {
        cpus,
        groups,
        tasks,
        unit_weight: 100,
        tick_cycles: 1000,
    }
}

#[test]
fn members_insert_remove_reuse_low_first() {
    let m = Members::new(4);
    assert_eq!(m.insert(10), Some(0));
    assert_eq!(m.insert(11), Some(1));
    assert_eq!(m.insert(12), Some(2));
    assert_eq!(m.insert(13), Some(3));
    assert_eq!(m.insert(14), None);
    assert!(m.remove(1, 11));
    assert!(!m.remove(1, 11), "removed twice");
    assert!(!m.remove(2, 99), "wrong task");
    assert!(!m.remove(99, 12), "out of range");
    assert_eq!(m.len(), 3);
    assert_eq!(m.insert(15), Some(1));
    let mut e = m.entries();
    e.sort();
    assert_eq!(e, [10, 12, 13, 15]);
}

#[test]
fn cursor_takes_turns_and_never_repeats_while_others_are_ready() {
    let m = Members::new(8);
    for t in [1, 2, 3] {
        m.insert(t);
    }
    let picks: Vec<u32> = (0..6).map(|_| m.pick(Some).unwrap()).collect();
    assert_eq!(picks, [2, 3, 1, 2, 3, 1]);
    let picks: Vec<u32> = (0..4)
        .map(|_| m.pick(|t| (t != 1).then_some(t)).unwrap())
        .collect();
    assert!(picks.windows(2).all(|w| w[0] != w[1]), "{picks:?}");
    assert!(m.pick(|_| None::<u32>).is_none());
    assert!(Members::new(0).pick(Some).is_none());
}

#[test]
fn claim_fails_after_the_slot_is_reused_aba() {
    let t = Task::new();
    t.queue(3, 1, 0xaaaa);
    let seen = t.load();
    assert!(seen.queued() && seen.group() == 3 && seen.home() == 1);
    // Another CPU claims it, it runs, exits; the slot goes to a new task
    // that is queued for the same group on the same CPU.
    assert_eq!(t.claim(seen), Some(0xaaaa));
    t.retire();
    t.queue(3, 1, 0xbbbb);
    assert_eq!(t.claim(seen), None, "a stale claim must fail");
    let now = t.load();
    assert_eq!(now.gen(), seen.gen() + 1);
    assert_eq!(t.claim(now), Some(0xbbbb));
    assert_eq!(t.claim(now), None, "claimed twice");
}

#[test]
fn claim_fails_when_requeued_elsewhere() {
    let t = Task::new();
    t.queue(2, 0, 1);
    let seen = t.load();
    assert_eq!(t.claim(seen), Some(1));
    t.queue(2, 5, 2);
    assert_eq!(t.claim(seen), None);
}

#[test]
fn timer_heap_pops_in_deadline_order_and_cancels() {
    let mut h = TimerHeap::new(64);
    let mut x: u64 = 12345;
    let mut want = Vec::new();
    for t in 0..64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let d = x >> 40;
        h.insert(t, d);
        want.push((d, t));
    }
    // Cancel every third; move every fifth later.
    for t in (0..64).step_by(3) {
        assert!(h.remove(t));
        assert!(!h.remove(t));
        want.retain(|&(_, w)| w != t);
    }
    for t in (1..64).step_by(5) {
        if h.contains(t) {
            h.insert(t, 1 << 40);
            want.retain(|&(_, w)| w != t);
            want.push((1 << 40, t));
        }
    }
    want.sort();
    assert_eq!(h.len(), want.len());
    let mut got = Vec::new();
    let mut last = 0;
    while let Some(t) = h.pop_expired(u64::MAX) {
        let d = want.iter().find(|&&(_, w)| w == t).unwrap().0;
        assert!(d >= last, "out of order");
        last = d;
        got.push(t);
    }
    assert_eq!(got.len(), want.len());
    assert!(h.is_empty());
}

#[test]
fn timer_heap_pops_only_expired() {
    let mut h = TimerHeap::new(4);
    h.insert(0, 30);
    h.insert(1, 10);
    h.insert(2, 20);
    assert_eq!(h.next_deadline(), Some(10));
    assert_eq!(h.pop_expired(15), Some(1));
    assert_eq!(h.pop_expired(15), None);
    assert_eq!(h.pop_expired(30), Some(2));
    assert_eq!(h.pop_expired(30), Some(0));
    assert_eq!(h.pop_expired(u64::MAX), None);
}

/// Runs a machine of `cpus` CPUs for `rounds` slices of `tick` cycles each,
/// every task always runnable; the cycles each group and each task got.
fn simulate(
    s: &Scheduler,
    cpus: usize,
    tasks: &[(usize, usize)],
    rounds: usize,
) -> (Vec<u64>, Vec<u64>) {
    let tick = s.config().tick_cycles;
    for &(t, g) in tasks {
        s.group(g).members.insert(t as u32).unwrap();
        s.enqueue(t, g, 0, 0, t + 1, 0);
    }
    let mut per_task = vec![0u64; s.config().tasks];
    for _ in 0..rounds {
        let picks: Vec<_> = (0..cpus)
            .filter_map(|c| s.pick(c, 0).map(|p| (c, p)))
            .collect();
        for (c, p) in picks {
            assert_eq!(p.payload, p.task + 1);
            s.put(c, p.group, tick);
            per_task[p.task] += tick;
            s.requeue(p.task, p.group, c, c, p.task + 1);
        }
    }
    let per_group = (0..s.config().groups)
        .map(|g| s.group(g).cycles.load(std::sync::atomic::Ordering::Relaxed))
        .collect();
    (per_group, per_task)
}

fn share(v: &[u64], i: usize) -> f64 {
    v[i] as f64 / v.iter().sum::<u64>() as f64
}

#[test]
fn weights_give_proportional_shares() {
    for cpus in [1, 2, 8] {
        let s = Scheduler::new(cfg(cpus, 3, 64));
        s.set_online(cpus);
        for (g, w) in [(0, 50), (1, 100), (2, 150)] {
            s.reset_group(g, w);
        }
        let tasks: Vec<(usize, usize)> = (0..3 * 2 * cpus).map(|t| (t, t % 3)).collect();
        let (g, _) = simulate(&s, cpus, &tasks, 3000);
        for (i, want) in [(0, 1.0 / 6.0), (1, 2.0 / 6.0), (2, 3.0 / 6.0)] {
            let got = share(&g, i);
            assert!(
                (got / want - 1.0).abs() < 0.02,
                "cpus {cpus} group {i}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn tasks_of_one_group_share_equally() {
    let cpus = 2;
    let s = Scheduler::new(cfg(cpus, 2, 16));
    s.set_online(cpus);
    let tasks: Vec<(usize, usize)> = (0..5).map(|t| (t, 1)).collect();
    let (_, per_task) = simulate(&s, cpus, &tasks, 5000);
    let mean = per_task.iter().sum::<u64>() as f64 / 5.0;
    for (t, &c) in per_task.iter().enumerate().take(5) {
        assert!(
            (c as f64 / mean - 1.0).abs() < 0.05,
            "task {t}: {c} vs {mean}"
        );
    }
}

#[test]
fn one_task_against_six_splits_evenly_on_two_cpus() {
    let s = Scheduler::new(cfg(2, 2, 16));
    s.set_online(2);
    let mut tasks = vec![(0, 0)];
    tasks.extend((1..7).map(|t| (t, 1)));
    let (g, _) = simulate(&s, 2, &tasks, 4000);
    assert!((share(&g, 0) - 0.5).abs() < 0.01, "{g:?}");
}

#[test]
fn a_group_that_slept_does_not_bank_credit() {
    let s = Scheduler::new(cfg(1, 2, 8));
    let tick = s.config().tick_cycles;
    // Group 0 runs alone for 1000 slices while group 1 sleeps.
    s.group(0).members.insert(0).unwrap();
    s.enqueue(0, 0, 0, 0, 1, 0);
    for _ in 0..1000 {
        let p = s.pick(0, 0).unwrap();
        s.put(0, p.group, tick);
        s.enqueue(p.task, p.group, 0, 0, 1, 0);
    }
    // Group 1 wakes: it gets at most about one lag ahead, then they alternate.
    s.group(1).members.insert(1).unwrap();
    s.enqueue(1, 1, 0, 0, 2, 0);
    let mut run = [0u32; 2];
    for _ in 0..100 {
        let p = s.pick(0, 0).unwrap();
        run[p.group] += 1;
        s.put(0, p.group, tick);
        s.enqueue(p.task, p.group, 0, 0, p.task + 1, 0);
    }
    assert!(run[0] >= 48 && run[1] <= 52, "{run:?}");
}

#[test]
fn queueing_goes_to_an_idle_cpu_and_pokes_it() {
    let s = Scheduler::new(cfg(4, 1, 8));
    s.set_online(4);
    s.group(0).members.insert(0).unwrap();
    assert!(s.idle_enter(2));
    // Last ran on CPU 1 (busy); CPU 2 idles: it gets the task and the IPI.
    assert_eq!(s.enqueue(0, 0, 1, 0, 9, 0), Some(2));
    assert_eq!(s.load_of(2), 1);
    // Its flag was taken: a second queueing does not poke it again.
    s.group(0).members.insert(1).unwrap();
    assert_eq!(s.enqueue(1, 0, 1, 0, 10, 0), None);
    // CPU 3 steals from CPU 2's queue.
    let p = s.pick(3, 0).unwrap();
    assert!(p.from == 2 || p.from == 1);
    assert!(!s.idle_enter(3) || s.queued() == 0);
}

#[test]
fn a_group_whose_tasks_cannot_be_claimed_does_not_block_the_others() {
    // Group 1 is furthest behind but its queued task is not (yet) in its
    // table, as in a queueing in flight: a pick passes it over and takes
    // group 0's task instead of giving up.
    let s = Scheduler::new(cfg(1, 2, 4));
    s.group(0).members.insert(0).unwrap();
    s.charge(0, 10_000);
    s.enqueue(0, 0, 0, 0, 7, 0);
    s.enqueue(1, 1, 0, 0, 8, 0);
    assert!(s.vruntime(1) < s.vruntime(0));
    let p = s.pick(0, 0).expect("group 0's task");
    assert_eq!((p.task, p.group, p.payload), (0, 0, 7));
    assert!(s.pick(0, 0).is_none());
    // Once it is in the table it is claimed.
    s.group(1).members.insert(1).unwrap();
    assert_eq!(s.pick(0, 0).map(|p| p.payload), Some(8));
}

#[test]
fn idle_cpu_does_not_halt_when_work_is_queued() {
    let s = Scheduler::new(cfg(2, 1, 4));
    s.set_online(2);
    s.group(0).members.insert(0).unwrap();
    s.enqueue(0, 0, 0, 0, 1, 0);
    assert!(!s.idle_enter(1), "work is queued");
    s.idle_exit(1);
    assert!(s.pick(1, 0).is_some());
    assert!(s.idle_enter(1));
}

#[test]
fn slices_shrink_with_load_and_only_preempt_for_waiters() {
    let s = Scheduler::new(cfg(1, 1, 16));
    let tick = s.config().tick_cycles;
    assert!(!s.tick(0, 100 * tick), "nothing waits: no preemption");
    assert!(!s.take_need_resched(0));
    s.group(0).members.insert(0).unwrap();
    s.enqueue(0, 0, 0, 0, 1, 0);
    assert_eq!(s.slice(), 4 * tick);
    assert!(!s.tick(0, 3 * tick));
    assert!(s.tick(0, 4 * tick));
    assert!(s.take_need_resched(0));
    assert!(!s.take_need_resched(0));
    for t in 1..8 {
        s.group(0).members.insert(t).unwrap();
        s.enqueue(t as usize, 0, 0, 0, 1, 0);
    }
    assert_eq!(s.slice(), tick);
}

#[test]
fn concurrent_pick_and_enqueue_never_double_claim() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    let cpus = 4;
    let s = Arc::new(Scheduler::new(cfg(cpus, 3, 32)));
    s.set_online(cpus);
    for t in 0..24 {
        s.group(t % 3).members.insert(t as u32).unwrap();
        s.enqueue(t, t % 3, 0, 0, t + 1, 0);
    }
    let running: Arc<Vec<AtomicU32>> = Arc::new((0..32).map(|_| AtomicU32::new(0)).collect());
    let hs: Vec<_> = (0..cpus)
        .map(|c| {
            let (s, running) = (s.clone(), running.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while n < 20_000 {
                    if let Some(p) = s.pick(c, 0) {
                        assert_eq!(
                            running[p.task].fetch_add(1, Ordering::SeqCst),
                            0,
                            "on two CPUs"
                        );
                        running[p.task].fetch_sub(1, Ordering::SeqCst);
                        s.put(c, p.group, 10);
                        s.enqueue(p.task, p.group, c, c, p.task + 1, 0);
                        n += 1;
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(s.queued(), 24);
    let mut left = 0;
    while let Some(p) = s.pick(0, 0) {
        s.put(0, p.group, 1);
        left += 1;
    }
    assert_eq!(left, 24);
    assert_eq!(s.queued(), 0);
}

/// Two CPUs busy with tasks 0 (CPU 0) and 1 (CPU 1) of group 0 since TSC
/// 0, task 2 of group 0 queued and waiting; tasks 3 and 4 are members,
/// asleep; task 5 is group 1's, asleep.
fn two_busy_cpus() -> Scheduler {
    let s = Scheduler::new(cfg(2, 2, 8));
    s.set_online(2);
    for t in 0..5 {
        s.group(0).members.insert(t).unwrap();
    }
    s.group(1).members.insert(5).unwrap();
    s.enqueue(0, 0, 0, 0, 10, 0);
    assert_eq!(s.pick(0, 0).map(|p| p.task), Some(0));
    s.enqueue(1, 0, 1, 1, 11, 0);
    assert_eq!(s.pick(1, 0).map(|p| p.task), Some(1));
    s.requeue(2, 0, 0, 0, 12);
    s
}

#[test]
fn a_wakeup_preempts_a_busy_cpu_and_runs_next_there() {
    let s = two_busy_cpus();
    let tick = s.config().tick_cycles;
    // Task 3 last ran on CPU 1, which has run a tick: CPU 1 is asked to
    // reschedule, and takes task 3 ahead of task 2 (first in round robin).
    assert_eq!(s.enqueue(3, 0, 1, 0, 13, tick), Some(1));
    assert!(s.take_need_resched(1));
    s.put(1, 0, tick);
    s.requeue(1, 0, 1, 1, 11);
    assert_eq!(s.pick(1, tick).map(|p| (p.task, p.payload)), Some((3, 13)));
    // The mark is used once: the next pick is round robin again.
    s.put(1, 0, 0);
    let p = s.pick(1, tick).unwrap();
    assert!(p.task == 1 || p.task == 2);
}

#[test]
fn a_wakeup_does_not_preempt_too_soon_its_waker_or_a_group_behind() {
    let tick = cfg(1, 1, 1).tick_cycles;
    // Too soon after CPU 1's switch-in.
    let s = two_busy_cpus();
    assert_eq!(s.enqueue(3, 0, 1, 0, 13, tick / 16), None);
    assert!(!s.take_need_resched(1));
    // The waker's own CPU (it is usually about to block): not preempted,
    // but its next pick is the woken task.
    let s = two_busy_cpus();
    assert_eq!(s.enqueue(3, 0, 0, 0, 13, tick), None);
    assert!(!s.take_need_resched(0));
    s.put(0, 0, 0);
    assert_eq!(s.pick(0, tick).map(|p| p.task), Some(3));
    // A group ahead of the running one does not preempt it...
    let s = two_busy_cpus();
    s.charge(1, 10 * tick);
    assert_eq!(s.enqueue(5, 1, 1, 0, 15, tick), None);
    // ...one behind it does.
    let s = two_busy_cpus();
    s.charge(0, 10 * tick);
    assert_eq!(s.enqueue(5, 1, 1, 0, 15, tick), Some(1));
}

#[test]
fn a_stale_next_mark_falls_back_to_round_robin() {
    let s = two_busy_cpus();
    let tick = s.config().tick_cycles;
    assert_eq!(s.enqueue(3, 0, 1, 0, 13, tick), Some(1));
    // CPU 0 gets there first and takes task 3 (or task 2).
    s.put(0, 0, 0);
    let mut took = vec![s.pick(0, tick).unwrap().task];
    s.put(1, 0, 0);
    took.push(s.pick(1, tick).unwrap().task);
    took.sort();
    assert_eq!(took, [2, 3]);
}

#[test]
fn a_group_that_slept_while_others_ran_unpreempted_does_not_bank_credit() {
    // Group 0 runs on both CPUs with nothing else waiting: it is charged
    // at every tick but never picked again. Group 1 then wakes.
    let s = Scheduler::new(cfg(2, 2, 8));
    s.set_online(2);
    let tick = s.config().tick_cycles;
    for t in 0..2 {
        s.group(0).members.insert(t).unwrap();
        s.enqueue(t as usize, 0, t as usize, t as usize, 1, 0);
        assert!(s.pick(t as usize, 0).is_some());
    }
    for _ in 0..500 {
        s.charge(0, tick);
        s.charge(0, tick);
    }
    s.group(1).members.insert(2).unwrap();
    s.enqueue(2, 1, 0, 0, 3, 0);
    assert!(
        s.vruntime(1) + 2 * tick >= s.vruntime(0),
        "woke {} behind",
        s.vruntime(0) - s.vruntime(1)
    );
}

#[test]
fn a_wakeup_beside_its_waker_stays_on_the_wakers_cpu() {
    let s = Scheduler::new(cfg(4, 1, 8));
    s.set_online(4);
    for t in 0..4 {
        s.group(0).members.insert(t).unwrap();
    }
    // Task 0 runs on CPU 0; CPUs 1-3 idle.
    s.enqueue(0, 0, 0, 0, 10, 0);
    assert_eq!(s.pick(0, 0).map(|p| p.task), Some(0));
    for c in 1..4 {
        assert!(s.idle_enter(c));
    }
    // It wakes task 1 and is about to block: no idle CPU is poked, and
    // CPU 0's next pick is task 1.
    assert_eq!(s.enqueue_beside(1, 0, 0, 11, 0), None);
    assert_eq!(s.load_of(0), 1);
    s.put(0, 0, 0);
    assert_eq!(s.pick(0, 0).map(|p| p.task), Some(1));
    // With something already waiting on CPU 0, a beside wakeup is an
    // ordinary one: it goes to an idle CPU, which is poked.
    s.requeue(0, 0, 0, 0, 10);
    let poke = s.enqueue_beside(3, 0, 0, 13, 0);
    assert!(matches!(poke, Some(1..=3)), "{poke:?}");
}
