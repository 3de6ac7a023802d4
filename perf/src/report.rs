//! The median over boots and the table's rows, next to xv6's figures
//! (the whole report around them: [`crate::render`]).
//!
//! Per benchmark: the median (element n/2) of the per-boot medians, the
//! smallest min and the largest max; the TSC frequency is the median of
//! the guests' calibrations. Cycles become µs with that frequency, and a
//! throughput's MB/s (10^6 bytes) comes from the median cycles. The last
//! row of a CPU count is boot to prompt ([`crate::boot`]). The ratio is
//! always berth's time over xv6's (below 1: berth is faster).

use crate::baseline::{self, Xv6, BENCHES, BOOT_TO_PROMPT};
use crate::boot;
use crate::median;
use crate::parse::Run;

/// Bytes a throughput repetition moves when the line does not say.
const DEFAULT_TPUT_BYTES: u64 = 1 << 20;

/// What the runner knows about the runs besides the guests' lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    pub cpus: usize,
    /// `KVM` or `TCG`.
    pub accel: String,
    /// Boots attempted (some may have failed and are not in the runs).
    pub boots: usize,
    /// The kernel's boot line: MHz, how it found it, its rdtsc cost.
    pub kernel_tsc: Option<(f64, String, u64)>,
    /// The host's cores (`None`: BASELINES.md's machines' 2), for the
    /// aggregate view ([`crate::scaling`]).
    pub host_cores: Option<usize>,
}

/// One benchmark over all boots.
#[derive(Clone, Debug, PartialEq)]
pub struct Combined {
    pub name: String,
    pub median: u64,
    pub min: u64,
    pub max: u64,
    /// Boots that reported it.
    pub boots: usize,
    /// MB/s for throughput results (those with a `write=` or `read=` field).
    pub mbps: Option<f64>,
    /// Process size at fork time (fork results).
    pub proc_bytes: Option<u64>,
}

/// The median TSC frequency over the runs.
pub fn tsc_hz(runs: &[Run]) -> Option<u64> {
    median(&runs.iter().filter_map(|r| r.tsc_hz).collect::<Vec<_>>())
}

/// Combines the runs' results for `name`; `None` if no run reported it.
pub fn combine(runs: &[Run], name: &str, hz: Option<u64>) -> Option<Combined> {
    let got: Vec<_> = runs.iter().filter_map(|r| r.get(name)).collect();
    let med = median(&got.iter().map(|s| s.median).collect::<Vec<_>>())?;
    let tput = got[0].fields.contains_key("write") || got[0].fields.contains_key("read");
    let mbps = match (tput, hz) {
        (true, Some(hz)) if med > 0 => {
            let bytes = got[0].field("bytes").unwrap_or(DEFAULT_TPUT_BYTES);
            Some(bytes as f64 * hz as f64 / med as f64 / 1e6)
        }
        _ => None,
    };
    Some(Combined {
        name: name.to_string(),
        median: med,
        min: got.iter().map(|s| s.min).min()?,
        max: got.iter().map(|s| s.max).max()?,
        boots: got.len(),
        mbps,
        proc_bytes: median(
            &got.iter()
                .filter_map(|s| s.field::<u64>("proc_bytes"))
                .collect::<Vec<_>>(),
        ),
    })
}

/// berth's time over xv6's for one row.
pub fn ratio(c: &Combined, xv6: Xv6) -> Option<f64> {
    match xv6 {
        Xv6::Cycles(x) if x > 0 => Some(c.median as f64 / x as f64),
        Xv6::Mbps(x) => c.mbps.filter(|&m| m > 0.0).map(|m| x / m),
        // Only the boot row is in seconds (see `boot::BootTime::ratio`).
        Xv6::Cycles(_) | Xv6::Seconds(_) => None,
    }
}

/// `1234567` -> `1,234,567`.
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn xv6_text(x: Xv6) -> String {
    match x {
        Xv6::Cycles(c) => group(c),
        Xv6::Mbps(m) => format!("{m} MB/s"),
        Xv6::Seconds(x) => format!("{x} s"),
    }
}

/// The time column: µs (ms from 1,000 µs up), or MB/s for throughput.
fn time_text(c: &Combined, hz: Option<u64>) -> String {
    if let Some(m) = c.mbps {
        return format!("{m:.1} MB/s");
    }
    match hz {
        Some(hz) if hz > 0 => {
            let us = c.median as f64 * 1e6 / hz as f64;
            if us >= 1_000.0 {
                format!("{:.2} ms", us / 1000.0)
            } else {
                format!("{us:.2} µs")
            }
        }
        _ => "-".to_string(),
    }
}

/// The table rows of one CPU count's boots, in [`BENCHES`] order (then
/// results the table does not know, then boot to prompt); `suffix` is
/// appended to every label; `only`: name prefixes of the results to show
/// (`None`: all).
pub fn rows(runs: &[Run], cpus: usize, suffix: &str, only: Option<&[&str]>) -> Vec<[String; 6]> {
    let hz = tsc_hz(runs);
    let mut rows: Vec<[String; 6]> = Vec::new();
    let mut names: Vec<(String, String)> = BENCHES
        .iter()
        .filter(|b| b.name != BOOT_TO_PROMPT)
        .map(|b| (b.name.to_string(), b.label.to_string()))
        .collect();
    // Results the table does not know yet still get a row.
    for r in runs {
        for s in &r.results {
            if !names.iter().any(|(n, _)| *n == s.name) {
                names.push((s.name.clone(), s.name.clone()));
            }
        }
    }
    if let Some(only) = only {
        names.retain(|(n, _)| only.iter().any(|p| n.starts_with(p)));
    }
    for (name, label) in &names {
        let label = format!("{label}{suffix}");
        let xv6 = baseline::xv6(name, cpus);
        let Some(c) = combine(runs, name, hz) else {
            if let Some((_, why)) = runs.iter().flat_map(|r| &r.errors).find(|(n, _)| n == name) {
                rows.push([
                    label,
                    format!("error: {why}"),
                    String::new(),
                    String::new(),
                    xv6.map_or("-".into(), xv6_text),
                    String::new(),
                ]);
            }
            continue;
        };
        rows.push([
            label,
            group(c.median),
            time_text(&c, hz),
            format!("{}..{}", group(c.min), group(c.max)),
            xv6.map_or("-".into(), xv6_text),
            ratio_text(xv6.and_then(|x| ratio(&c, x))),
        ]);
    }
    rows.extend(boot_row(runs, cpus, hz, suffix));
    rows
}

/// The boot-to-prompt row (`None`: no boot was timed).
fn boot_row(runs: &[Run], cpus: usize, hz: Option<u64>, suffix: &str) -> Option<[String; 6]> {
    let b = boot::combine(runs)?;
    let label = BENCHES
        .iter()
        .find(|b| b.name == BOOT_TO_PROMPT)
        .map_or(BOOT_TO_PROMPT, |b| b.label);
    let xv6 = baseline::xv6(BOOT_TO_PROMPT, cpus);
    let range = match (boot::cycles(b.min, hz), boot::cycles(b.max, hz)) {
        (Some(lo), Some(hi)) => format!("{}..{}", group(lo), group(hi)),
        _ => format!(
            "{}..{}",
            boot::secs_text(b.min.as_secs_f64()),
            boot::secs_text(b.max.as_secs_f64())
        ),
    };
    Some([
        format!("{label}{suffix}"),
        boot::cycles(b.median, hz).map_or("-".into(), group),
        boot::secs_text(b.median.as_secs_f64()),
        range,
        xv6.map_or("-".into(), xv6_text),
        ratio_text(xv6.and_then(|x| b.ratio(x))),
    ])
}

fn ratio_text(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::three_boots;

    #[test]
    fn combines_median_of_medians_min_of_mins_max_of_maxes() {
        let runs = three_boots();
        let hz = tsc_hz(&runs);
        assert_eq!(hz, Some(2_000_000_000));
        let c = combine(&runs, "null_syscall", hz).unwrap();
        assert_eq!((c.median, c.min, c.max, c.boots), (1000, 90, 11000, 3));
        assert_eq!(c.mbps, None);
        let t = combine(&runs, "pipe_tput_512", hz).unwrap();
        // 1 MiB in 0.1 s.
        assert!((t.mbps.unwrap() - 10.48576).abs() < 1e-9);
        assert_eq!(
            combine(&runs, "fork_exit_wait", hz).unwrap().proc_bytes,
            Some(65536)
        );
        assert_eq!(combine(&runs, "pipe_rtt", hz), None);
    }

    #[test]
    fn ratios_are_time_over_time() {
        let c = Combined {
            name: "x".into(),
            median: 4_357,
            min: 0,
            max: 0,
            boots: 1,
            mbps: Some(17.8),
            proc_bytes: None,
        };
        assert!((ratio(&c, Xv6::Cycles(8_714)).unwrap() - 0.5).abs() < 1e-3);
        // Twice xv6's throughput is half its time.
        assert!((ratio(&c, Xv6::Mbps(8.9)).unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(2_745_730), "2,745,730");
    }
}
