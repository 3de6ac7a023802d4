//! Every report figure on the hand-built dump of `common`, worked out by
//! hand there (1 GHz TSC: cycles are nanoseconds).

mod common;

use berth_trace::model::{self, Interval};
use berth_trace::report::{self, log2_bucket, percentile, Latency};
use common::{hand_dump, MS, S, US};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn intervals() {
    let m = model::build(&hand_dump());
    let iv = |cpu, pid, container, start, end| Interval {
        cpu,
        pid,
        container,
        start_tsc: S + start,
        end_tsc: S + end,
    };
    assert_eq!(
        m.cpus[0].intervals,
        [
            iv(0, -1, -1, 0, MS),
            iv(0, 2, 1, MS, 5 * MS),
            iv(0, -1, -1, 5 * MS, 10 * MS)
        ]
    );
    assert_eq!(
        m.cpus[1].intervals,
        [
            iv(1, 3, 2, 0, 2 * MS),
            iv(1, 4, 2, 2 * MS, 5_050 * US),
            iv(1, 3, 2, 5_050 * US, 10 * MS)
        ]
    );
    // The cross-CPU wakeup of pid 4 counts from its first WAKEUP.
    let w: Vec<_> = m
        .wakeups
        .iter()
        .map(|w| (w.pid, w.wake_cpu, w.run_cpu, w.cycles()))
        .collect();
    assert_eq!(
        w,
        [(2, 0, 0, 100 * US), (4, 0, 1, 500 * US), (3, 1, 1, 50 * US)]
    );
    let s: Vec<_> = m
        .syscalls
        .iter()
        .map(|s| (s.nr, s.pid, s.cycles()))
        .collect();
    assert_eq!(
        s,
        [
            (16, 2, 10 * US),
            (5, 4, 2 * US),
            (16, 2, 30 * US),
            (5, 3, 4 * US)
        ]
    );
}

#[test]
fn header_facts() {
    let r = report::compute(&hand_dump());
    assert_eq!(r.cpus, 2);
    assert!(close(r.tsc_mhz, 1000.0));
    assert_eq!(r.tsc_source, "PIT calibration");
    assert_eq!(r.clock_read_cycles, 30);
    assert_eq!(r.duration_ns, 10 * MS);
}

#[test]
fn cpus_switches_dropped() {
    let r = report::compute(&hand_dump());
    let c0 = &r.per_cpu[0];
    let c1 = &r.per_cpu[1];
    assert_eq!(c0.busy_ns, 4 * MS);
    assert!(close(c0.busy_pct, 40.0));
    assert_eq!(c1.busy_ns, 10 * MS);
    assert!(close(c1.busy_pct, 100.0));
    assert_eq!((c0.switches, c1.switches), (2, 2));
    assert_eq!(r.switches, 4);
    assert_eq!((c0.dropped, c1.dropped), (0, 5));
    assert_eq!((c1.kept, c1.produced), (10, 15));
    assert_eq!(r.dropped, 5);
}

#[test]
fn container_shares() {
    let r = report::compute(&hand_dump());
    let got: Vec<_> = r
        .containers
        .iter()
        .map(|c| (c.id, c.name.as_str(), c.weight, c.busy_ns))
        .collect();
    assert_eq!(
        got,
        [
            (0, "host", Some(100), 0),
            (1, "web", Some(100), 4 * MS),
            (2, "db", Some(200), 10 * MS)
        ]
    );
    // Busy time is 14 ms in all: 4/14 and 10/14; weights 100:100:200.
    assert!(close(r.containers[0].busy_pct, 0.0));
    assert!(close(r.containers[1].busy_pct, 400.0 / 14.0));
    assert!(close(r.containers[2].busy_pct, 1000.0 / 14.0));
    assert!(close(r.containers[0].weight_pct, 25.0));
    assert!(close(r.containers[1].weight_pct, 25.0));
    assert!(close(r.containers[2].weight_pct, 50.0));
}

#[test]
fn wakeup_latency() {
    let r = report::compute(&hand_dump());
    // Samples 50, 100, 500 µs: p50 is element 3*50/100 = 1, p90 and p99
    // element 2.
    let w = &r.wakeup;
    assert_eq!(w.count, 3);
    assert_eq!(
        (w.p50_ns, w.p90_ns, w.p99_ns, w.max_ns),
        (100 * US, 500 * US, 500 * US, 500 * US)
    );
    // 50 µs in [32, 64), 100 in [64, 128), 500 in [256, 512).
    assert_eq!(w.histogram, [0, 0, 0, 0, 0, 0, 1, 1, 0, 1]);
    let by: Vec<_> = r
        .wakeup_by_ctr
        .iter()
        .map(|(c, l)| (*c, l.count, l.p50_ns, l.max_ns))
        .collect();
    assert_eq!(by, [(1, 1, 100 * US, 100 * US), (2, 2, 500 * US, 500 * US)]);
}

#[test]
fn syscall_latency() {
    let r = report::compute(&hand_dump());
    let got: Vec<_> = r
        .syscalls
        .iter()
        .map(|s| (s.nr, s.name.as_str(), s.count, s.p50_ns, s.p99_ns, s.max_ns))
        .collect();
    // getpid's exit had no enter, read's second enter no matching exit.
    assert_eq!(
        got,
        [
            (5, "read", 2, 4 * US, 4 * US, 4 * US),
            (16, "write", 2, 30 * US, 30 * US, 30 * US)
        ]
    );
}

#[test]
fn top_processes() {
    let r = report::compute(&hand_dump());
    let got: Vec<_> = r
        .top
        .iter()
        .map(|p| (p.pid, p.name.as_str(), p.container, p.ns))
        .collect();
    assert_eq!(
        got,
        [
            (3, "db", 2, 6_950 * US),
            (2, "sh", 1, 4 * MS),
            (4, "dbw", 2, 3_050 * US)
        ]
    );
    assert!(close(r.top[0].cpu_pct, 69.5));
}

#[test]
fn top_keeps_ten() {
    let r = report::compute(&berth_trace::synth::dump());
    assert!(r.top.len() <= 10);
    assert!(r.top.windows(2).all(|w| w[0].ns >= w[1].ns));
}

#[test]
fn percentiles_and_buckets() {
    assert_eq!(percentile(&[], 50), 0);
    assert_eq!(percentile(&[7], 99), 7);
    let v: Vec<u64> = (1..=10).collect();
    assert_eq!(percentile(&v, 50), 6); // element 5
    assert_eq!(percentile(&v, 90), 10); // element 9
    assert_eq!(percentile(&v, 99), 10); // element 9 (9.9 rounded down)
    assert_eq!(percentile(&v, 100), 10); // clamped
    assert_eq!(log2_bucket(999), 0);
    assert_eq!(log2_bucket(1_000), 1);
    assert_eq!(log2_bucket(3_999), 2);
    assert_eq!(log2_bucket(4_000), 3);
    assert_eq!(Latency::of(vec![]).histogram, Vec::<u64>::new());
}

#[test]
fn render_shows_the_figures() {
    let text = report::render(&report::compute(&hand_dump()));
    for want in [
        "2 CPUs",
        "TSC 1000.0 MHz (PIT calibration)",
        "clock read 30 cycles",
        "10.000 ms recorded",
        "context switches: 4, dropped records: 5",
        "p50     100.0",
        "write",
        "dbw",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

/// The hand dump plus what a version 2 kernel adds: the scheduler's
/// per-container figures, a lock name and two long spins on it (pid 2 on
/// CPU 0 at 4.2 and 4.4 ms, 20 and 60 µs) and one on an unnamed lock.
fn with_counts() -> berth_trace::dump::Dump {
    use berth_abi::trace::{event, CtrUsage, LockName};
    let mut d = hand_dump();
    let spin = |tsc, lock, cycles| common::rec(0, S + tsc, 2, -1, event::SPIN, lock, cycles);
    let at = d.records.iter().position(|r| r.cpu == 1).unwrap();
    for (i, r) in [
        spin(4_200 * US, 0, 20 * US),
        spin(4_400 * US, 0, 60 * US),
        spin(4_600 * US, 7, 5 * US),
    ]
    .into_iter()
    .enumerate()
    {
        d.records.insert(at + i, r);
    }
    d.usage = vec![
        CtrUsage {
            id: 1,
            cycles: 3 * MS,
            switches: 1,
            ..CtrUsage::default()
        },
        CtrUsage {
            id: 2,
            cycles: 9 * MS,
            switches: 3,
            ..CtrUsage::default()
        },
        // Destroyed before the dump: not in the name table.
        CtrUsage {
            id: 5,
            cycles: 3 * MS,
            switches: 2,
            ..CtrUsage::default()
        },
    ];
    d.locks = vec![LockName {
        index: 0,
        _pad: 0,
        name: berth_trace::dump::name_bytes("run queue"),
    }];
    d.fix_counts();
    d
}

#[test]
fn exact_counts_usage_and_spins() {
    use berth_abi::trace::event;
    let d = with_counts();
    // What the kernel writes is what the report reads.
    let d = berth_trace::dump::parse(&berth_trace::dump::encode(&d)).unwrap();
    let r = report::compute(&d);
    let ev = |e| r.events.iter().find(|f| f.event == e).cloned().unwrap();
    assert_eq!(ev(event::SPIN).per_cpu, [3, 0]);
    assert_eq!(ev(event::SYSCALL_EXIT).per_cpu, [2, 4]);
    assert_eq!(ev(event::SWITCH).total, 4);
    // No event 0 row (the hand dump's dropped records are counted there).
    assert!(r.events.iter().all(|e| e.event != 0));

    let share = |id| r.containers.iter().find(|c| c.id == id).cloned().unwrap();
    let u1 = share(1).sched.unwrap();
    assert_eq!((u1.ns, u1.switches), (3 * MS, 1));
    assert!(close(u1.pct, 20.0), "{}", u1.pct);
    assert!(close(share(2).sched.unwrap().pct, 60.0));
    let gone = share(5);
    assert_eq!(gone.name, "?");
    assert_eq!(gone.sched.unwrap().switches, 2);
    // The host ran nothing by the scheduler's count.
    assert_eq!(share(0).sched.unwrap().ns, 0);

    assert_eq!(r.spins.len(), 2);
    assert_eq!(
        (r.spins[0].lock.as_str(), r.spins[0].count),
        ("run queue", 2)
    );
    assert_eq!((r.spins[0].total_ns, r.spins[0].max_ns), (80 * US, 60 * US));
    assert_eq!(r.spins[1].lock, "lock #7");

    let text = report::render(&r);
    for want in [
        "Events (every record produced, kept or overwritten)",
        "sched ms",
        "Long spinlock spins",
        "run queue",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // A version 1 dump has none of it.
    let text = report::render(&report::compute(&hand_dump_v1()));
    assert!(!text.contains("Events (every") && !text.contains("sched ms"));
}

fn hand_dump_v1() -> berth_trace::dump::Dump {
    let mut d = hand_dump();
    d.header.version = 1;
    d.counts.clear();
    d
}
