//! The tracer's cost from the paired traced/untraced rows the guest prints
//! (`untraced_NAME`, `traced_NAME`, timed in alternating blocks of one boot;
//! see the bench's `trace_cost.rs`): one line per operation under the table.

use std::fmt::Write;

use crate::parse::Run;

/// The paired traced/untraced rows (see the bench's `trace_cost.rs`) as a
/// cost: per boot, traced over untraced from the same boot's alternating
/// blocks, then the median (and range) over boots; a record's cost is the
/// difference over the records an operation produced.
pub fn trace_cost(runs: &[Run]) -> String {
    let mut out = String::new();
    for (name, what) in [
        ("pipe_rtt", "pipe round trip"),
        ("null_syscall", "null syscall"),
    ] {
        let mut pct = Vec::new();
        let mut per_record = Vec::new();
        let mut records = Vec::new();
        for r in runs {
            let (Some(off), Some(on)) = (
                r.get(&format!("untraced_{name}")),
                r.get(&format!("traced_{name}")),
            ) else {
                continue;
            };
            if off.median == 0 {
                continue;
            }
            let extra = on.median as f64 - off.median as f64;
            pct.push(100.0 * extra / off.median as f64);
            if let Some(n) = on.field::<f64>("events").filter(|&n| n > 0.0) {
                records.push(n);
                per_record.push(extra / n);
            }
        }
        let Some(p) = median_f(&pct) else { continue };
        if out.is_empty() {
            out += "tracing cost (every event on vs off, alternating blocks in each boot; median over boots, range):\n";
        }
        let lo = pct.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = pct.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let _ = write!(out, "     {what}: {p:+.1} % ({lo:+.1}..{hi:+.1})");
        if let (Some(n), Some(c)) = (median_f(&records), median_f(&per_record)) {
            let _ = write!(out, "; {n:.2} records each, {c:.0} cycles a record");
        }
        out += "\n";
    }
    out
}

/// Element n/2 of the sorted values.
fn median_f(v: &[f64]) -> Option<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{run, three_boots};

    #[test]
    fn trace_cost_pairs_rows_within_each_boot() {
        // Boot 1 is slow, boot 2 fast: each compares with itself.
        let runs: Vec<Run> = [(150_000, 153_000), (100_000, 103_000), (100_000, 104_000)]
            .iter()
            .map(|&(off, on)| {
                run(&[
                    &format!("bench untraced_pipe_rtt median={off} min=1 max=9 samples=1000 unit=cycles paired_with=traced_pipe_rtt"),
                    &format!("bench traced_pipe_rtt median={on} min=1 max=9 samples=1000 unit=cycles paired_with=untraced_pipe_rtt events=15.00"),
                    "bench done",
                ])
            })
            .collect();
        let text = trace_cost(&runs);
        // +2 %, +3 %, +4 %: median +3 %; 3000 / 15 = 200 cycles a record.
        assert!(
            text.contains("pipe round trip: +3.0 % (+2.0..+4.0)"),
            "{text}"
        );
        assert!(
            text.contains("15.00 records each, 200 cycles a record"),
            "{text}"
        );
        assert!(!text.contains("null syscall"), "{text}");
        assert_eq!(trace_cost(&three_boots()), "");
    }
}
