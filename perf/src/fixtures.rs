//! Test fixtures shared by the modules' unit tests: guest output of a few
//! boots, and what the report looked like for them before it changed.

use crate::parse::Run;
use crate::report::Context;

/// A run fed `lines`.
pub(crate) fn run(lines: &[&str]) -> Run {
    let mut r = Run::default();
    for l in lines {
        r.feed(l);
    }
    r
}

/// Three boots at CPUS=1: null syscall, fork, pipe throughput, an error.
pub(crate) fn three_boots() -> Vec<Run> {
    [(9, 2_000_000_000u64), (11, 2_000_000_000), (10, 2_000_000_001)]
        .iter()
        .map(|&(m, hz)| {
            run(&[
                &format!("bench tsc_hz={hz}"),
                &format!("bench null_syscall median={m}00 min={m}0 max={m}000 samples=1000 unit=cycles"),
                "bench fork_exit_wait median=2000000 min=1 max=9 samples=1000 unit=cycles proc_bytes=65536",
                "bench pipe_tput_512 median=200000000 min=1 max=2 samples=5 unit=cycles mbps=10.5 bytes=1048576 write=512",
                "bench file_small error=open:_ENOSPC",
                "bench done",
            ])
        })
        .collect()
}

/// Two boots at CPUS=2 of most kinds of row but the scheduling ones.
pub(crate) fn two_boots() -> Vec<Run> {
    [(1_000u64, 100_000u64, 2_300_000_000u64), (1_200, 110_000, 2_300_100_000)]
        .iter()
        .map(|&(null, rtt, hz)| {
            let mut r = Run::default();
            for l in [
                format!("bench tsc_hz={hz} source=uptime_100_ticks"),
                "bench rdtsc_overhead median=30 min=28 max=400 samples=1000 unit=cycles".into(),
                format!("bench null_syscall median={null} min=900 max=9000 samples=1000 unit=cycles batch=100"),
                "bench fork_exit_wait median=3000000 min=2000000 max=9000000 samples=1000 unit=cycles proc_bytes=40960".into(),
                format!("bench pipe_rtt median={rtt} min=90000 max=900000 samples=1000 unit=cycles"),
                format!("bench untraced_pipe_rtt median={rtt} min=1 max=9 samples=1000 unit=cycles paired_with=traced_pipe_rtt"),
                format!("bench traced_pipe_rtt median={} min=1 max=9 samples=1000 unit=cycles paired_with=untraced_pipe_rtt events=10.00", rtt + 2_000),
                "bench pipe_tput_4096 median=230000000 min=1 max=2 samples=5 unit=cycles bytes=1048576 write=4096".into(),
                "bench file_small error=open:_ENOSPC".into(),
                "bench scale_compute_1 median=40000000 min=39000000 max=41000000 samples=3 unit=cycles children=1 rounds=500 iters=20000".into(),
                "bench wakeup_idle median=50000 min=40000 max=700000 samples=500 unit=cycles hogs=0".into(),
                "bench mystery median=5 min=5 max=5 samples=1 unit=cycles".into(),
                "bench done".into(),
            ] {
                r.feed(&l);
            }
            r
        })
        .collect()
}

pub(crate) fn ctx2() -> Context {
    Context {
        cpus: 2,
        accel: "TCG".into(),
        boots: 3,
        kernel_tsc: Some((2300.012, "PIT calibration".into(), 26)),
        host_cores: None,
    }
}

/// What `render` printed for [`two_boots`] before the boot-to-prompt
/// row and the sweep existed.
pub(crate) const BEFORE: &str = r#"berth benchmarks: CPUS=2, TCG, 2 of 3 boots (median of per-boot medians; cycles are TSC cycles)

| benchmark                                          |        berth cycles | berth time |               min..max |  xv6 CPUS=2 | berth/xv6 |
|----------------------------------------------------|--------------------:|-----------:|-----------------------:|------------:|----------:|
| rdtsc, two back-to-back reads                      |                  30 |    0.01 µs |                28..400 |          74 |      0.41 |
| (a) null syscall (getpid)                          |               1,200 |    0.52 µs |             900..9,000 |      52,832 |      0.02 |
| (b) fork + exit + wait                             |           3,000,000 |    1.30 ms |   2,000,000..9,000,000 |   8,677,552 |      0.35 |
| (d) pipe 1-byte round trip                         |             110,000 |   47.82 µs |        90,000..900,000 |     583,596 |      0.19 |
| (d) pipe round trip, paired blocks: tracing off    |             110,000 |   47.82 µs |                   1..9 |           - |         - |
| (d) pipe round trip, paired blocks: every event on |             112,000 |   48.69 µs |                   1..9 |           - |         - |
| (e) pipe 1 MiB, 4096 B writes (xv6: 512 B)         |         230,000,000 |  10.5 MB/s |                   1..2 |    4.6 MB/s |      0.44 |
| (f) create+write 4 KB+close+unlink                 | error: open: ENOSPC |            |                        | 107,770,044 |           |
| (g') pure compute, 1 child                         |          40,000,000 |   17.39 ms | 39,000,000..41,000,000 |  50,855,456 |      0.79 |
| wakeup-to-run, idle machine, p50                   |              50,000 |   21.74 µs |        40,000..700,000 |           - |         - |
| mystery                                            |                   5 |    0.00 µs |                   5..5 |           - |         - |

TSC: 2300.1 MHz, calibrated by the guest (TSC cycles over 100 uptime ticks after a tick edge; median over boots)
     kernel boot line: 2300.012 MHz (source: PIT calibration; rdtsc costs 26 cycles)
     xv6's figures: BASELINES.md's table "xv6 re-measured 2026-12-02 on a machine of this kind" (TSC 2300 MHz)
process size at fork (break above the text base, stack not counted): 40,960 bytes; xv6: 28,672 bytes
tracing cost (every event on vs off, alternating blocks in each boot; median over boots, range):
     pipe round trip: +2.0 % (+1.8..+2.0); 10.00 records each, 200 cycles a record
xv6 was measured under TCG too (QEMU 7.2, 2 host cores): the ratios compare like with like.
berth halts idle CPUs; xv6's idle loop spins, so with more vCPUs than host cores xv6's figures include vCPUs fighting for the 2 host cores.
(e) with 4096 B writes is berth's natural size (its pipe buffer is 4 KiB); xv6's row is its 512 B figure.
(g) yield rows compare berth's yield_cpu with xv6's sleep(0), the only call xv6 had.
"#;
