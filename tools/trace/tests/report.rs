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
