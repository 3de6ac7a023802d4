//! The aggregate view of the rows with N = CPUS processes: what N
//! processes achieved against what the host's cores allow.
//!
//! These machines have 2 host cores (TCG runs one host thread per vCPU), so
//! N processes can at best do min(N, cores) times the work of one process
//! in the same time. The one-process figure is the 1-process row of the
//! same CPU count's boots (`yield_1`, `scale_*_1`: measured in the same
//! boots as the N-process row, so the 2x level shifts between boots mostly
//! cancel, and available at every CPU count). Printed per CPU count:
//! - yield_cpu: the aggregate yields/s (`per_s`) of both rows, the ideal
//!   min(N, cores) x `per_s` of one process, and ideal over actual;
//! - (g)/(g') with N children: the time, the ideal N x T(1 child) /
//!   min(N, cores), and time over ideal.
//!
//! Both quotients are time over ideal time: 1 is the best the cores allow,
//! 2 means twice as long as that.

use std::fmt::Write;

use crate::median;
use crate::parse::Run;
use crate::report::{combine, group, tsc_hz};

/// Host cores of BASELINES.md's machines, when the runner does not say.
pub const DEFAULT_HOST_CORES: usize = 2;

/// The (g)/(g') variants: guest name part, as printed.
const SCALE: [(&str, &str); 3] = [
    ("sleep", "(g) sleep(0) per round"),
    ("yield", "(g) yield per round"),
    ("compute", "(g') pure compute"),
];

/// Median over the runs of the integer field `key` of result `name`.
fn field(runs: &[Run], name: &str, key: &str) -> Option<u64> {
    median(
        &runs
            .iter()
            .filter_map(|r| r.get(name)?.field::<u64>(key))
            .collect::<Vec<_>>(),
    )
}

/// Cycles as ms with `hz`, else as cycles.
fn time(cycles: f64, hz: Option<u64>) -> String {
    match hz {
        Some(hz) if hz > 0 => format!("{:.2} ms", cycles * 1e3 / hz as f64),
        _ => format!("{} cycles", group(cycles.round() as u64)),
    }
}

/// One CPU count's lines (none when it has no yield or N-children rows).
fn lines(cpus: usize, runs: &[Run], cores: usize) -> Vec<String> {
    let mut out = Vec::new();
    let hz = tsc_hz(runs);
    let one = field(runs, "yield_1", "per_s");
    let many = field(runs, "yield_cpus", "per_s");
    match (one, many) {
        (Some(one), None) => out.push(format!(
            "CPUS={cpus} yield_cpu: 1 process {} yields/s",
            group(one)
        )),
        (one, Some(many)) => {
            let n = field(runs, "yield_cpus", "procs").unwrap_or(cpus as u64);
            let mut l = format!(
                "CPUS={cpus} yield_cpu: {n} processes {} yields/s",
                group(many)
            );
            if let Some(one) = one.filter(|&o| o > 0 && many > 0) {
                let k = n.min(cores as u64);
                let ideal = k * one;
                let _ = write!(
                    l,
                    ", 1 process {}/s; ideal {k} x {} = {}/s; ideal/actual {:.2}",
                    group(one),
                    group(one),
                    group(ideal),
                    ideal as f64 / many as f64
                );
            }
            out.push(l);
        }
        (None, None) => {}
    }
    for (variant, what) in SCALE {
        let (one, many) = (
            format!("scale_{variant}_1"),
            format!("scale_{variant}_cpus"),
        );
        let (Some(t1), Some(tn)) = (combine(runs, &one, hz), combine(runs, &many, hz)) else {
            continue;
        };
        let n = field(runs, &many, "children").unwrap_or(cpus as u64);
        let k = n.min(cores as u64).max(1);
        let ideal = n as f64 * t1.median as f64 / k as f64;
        if ideal <= 0.0 {
            continue;
        }
        out.push(format!(
            "CPUS={cpus} {what}, {n} children: {}; ideal {n} x {} / {k} = {}; time/ideal {:.2}",
            time(tn.median as f64, hz),
            time(t1.median as f64, hz),
            time(ideal, hz),
            tn.median as f64 / ideal
        ));
    }
    out
}

/// The aggregate-view note for every CPU count's boots (`sets`: CPU count
/// and its runs, in print order), with `cores` host cores; empty when no
/// set has the rows.
pub fn notes(sets: &[(usize, &[Run])], cores: Option<usize>) -> String {
    let cores = cores.unwrap_or(DEFAULT_HOST_CORES).max(1);
    let all: Vec<String> = sets
        .iter()
        .flat_map(|&(cpus, runs)| lines(cpus, runs, cores))
        .collect();
    if all.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "aggregate view, {cores} host cores: N processes can at best do min(N, {cores}) times the \
         work of 1 in the same time; \"1\" is the same CPU count's 1-process row; \
         time/ideal 1.00 is that best, above it short of it:\n"
    );
    for l in all {
        let _ = writeln!(out, "     {l}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(lines: &[String]) -> Run {
        let mut r = Run::default();
        for l in lines {
            r.feed(l);
        }
        r
    }

    fn sched(cpus: usize, one_per_s: u64, many_per_s: u64, t1: u64, tn: u64) -> Run {
        run(&[
            "bench tsc_hz=2000000000".into(),
            format!("bench yield_1 median=900 min=800 max=9000 samples=100 unit=cycles procs=1 per_s={one_per_s}"),
            format!("bench yield_cpus median=1900 min=800 max=9000 samples=400 unit=cycles procs={cpus} per_s={many_per_s}"),
            format!("bench scale_sleep_1 median={t1} min=1 max=2 samples=3 unit=cycles children=1 rounds=500 iters=20000"),
            format!("bench scale_sleep_cpus median={tn} min=1 max=2 samples=3 unit=cycles children={cpus} rounds=500 iters=20000"),
            "bench done".into(),
        ])
    }

    #[test]
    fn yield_and_scale_against_the_cores() {
        // 4 CPUs on 2 cores: 4 processes at best 2 x 1,000,000 yields/s;
        // 4 children at best 4 x 20 ms / 2 = 40 ms, took 60 ms.
        let runs = [sched(4, 1_000_000, 1_600_000, 40_000_000, 120_000_000)];
        let text = notes(&[(4, &runs)], None);
        assert!(text.starts_with("aggregate view, 2 host cores"), "{text}");
        assert!(
            text.contains(
                "CPUS=4 yield_cpu: 4 processes 1,600,000 yields/s, 1 process 1,000,000/s; \
                 ideal 2 x 1,000,000 = 2,000,000/s; ideal/actual 1.25"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "CPUS=4 (g) sleep(0) per round, 4 children: 60.00 ms; \
                 ideal 4 x 20.00 ms / 2 = 40.00 ms; time/ideal 1.50"
            ),
            "{text}"
        );
        // More cores: the ideal needs them all.
        let text = notes(&[(4, &runs)], Some(8));
        assert!(
            text.contains("ideal 4 x 1,000,000 = 4,000,000/s; ideal/actual 2.50"),
            "{text}"
        );
        assert!(
            text.contains("ideal 4 x 20.00 ms / 4 = 20.00 ms; time/ideal 3.00"),
            "{text}"
        );
    }

    #[test]
    fn one_process_rows_and_sets_in_order() {
        let one = [run(&[
            "bench yield_1 median=900 min=800 max=9000 samples=100 unit=cycles procs=1 per_s=2500000".into(),
            "bench scale_sleep_1 median=5 min=1 max=9 samples=3 unit=cycles children=1".into(),
        ])];
        let two = [sched(2, 1_000_000, 2_000_000, 40_000_000, 40_000_000)];
        let text = notes(&[(1, &one), (2, &two)], None);
        let lines: Vec<_> = text.lines().skip(1).map(str::trim).collect();
        assert_eq!(
            lines,
            [
                "CPUS=1 yield_cpu: 1 process 2,500,000 yields/s",
                "CPUS=2 yield_cpu: 2 processes 2,000,000 yields/s, 1 process 1,000,000/s; \
                 ideal 2 x 1,000,000 = 2,000,000/s; ideal/actual 1.00",
                "CPUS=2 (g) sleep(0) per round, 2 children: 20.00 ms; \
                 ideal 2 x 20.00 ms / 2 = 20.00 ms; time/ideal 1.00",
            ]
        );
        // No calibration: cycles.
        let mut r = two[0].clone();
        r.tsc_hz = None;
        assert!(notes(&[(2, &[r])], None)
            .contains("ideal 2 x 40,000,000 cycles / 2 = 40,000,000 cycles"));
    }

    #[test]
    fn nothing_without_the_rows() {
        assert_eq!(notes(&[(2, &crate::fixtures::two_boots())], None), "");
        assert_eq!(notes(&[], None), "");
    }
}
