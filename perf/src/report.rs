//! The median over boots and the table printed next to xv6's figures.
//!
//! Per benchmark: the median (element n/2) of the per-boot medians, the
//! smallest min and the largest max; the TSC frequency is the median of
//! the guests' calibrations. Cycles become µs with that frequency, and a
//! throughput's MB/s (10^6 bytes) comes from the median cycles. The last
//! row of a CPU count is boot to prompt ([`crate::boot`]). The ratio is
//! always berth's time over xv6's (below 1: berth is faster).

use std::fmt::Write;

use crate::baseline::{self, Xv6, BENCHES, BOOT_TO_PROMPT};
use crate::boot;
use crate::median;
use crate::parse::Run;
use crate::scaling;
use crate::sweep::{self, Set};
pub use crate::table::table;

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
    /// aggregate view ([`scaling`]).
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
    /// MB/s for throughput results (those with a `write=` field).
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
    let mbps = match (got[0].fields.contains_key("write"), hz) {
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

/// The whole report of one CPU count: header, table, notes.
pub fn render(ctx: &Context, runs: &[Run]) -> String {
    render_sweep(ctx, runs, &[])
}

/// The whole report: the boots at `ctx.cpus` (`runs`), then those of each
/// sweep CPU count (`sweep`), their rows appended to the same table with
/// the CPU count in the label and xv6's figure for that count.
pub fn render_sweep(ctx: &Context, runs: &[Run], sweep: &[Set]) -> String {
    let hz = tsc_hz(runs);
    let mut rows = rows(runs, ctx.cpus, "", None);
    for set in sweep {
        let suffix = format!(", CPUS={}", set.cpus);
        rows.extend(self::rows(
            &set.runs,
            set.cpus,
            &suffix,
            Some(&sweep::PREFIXES),
        ));
    }
    let proc_bytes = combine(runs, "fork_exit_wait", hz).and_then(|c| c.proc_bytes);
    let header = [
        "benchmark".to_string(),
        "berth cycles".to_string(),
        "berth time".to_string(),
        "min..max".to_string(),
        if sweep.is_empty() {
            format!("xv6 CPUS={}", ctx.cpus)
        } else {
            "xv6, row's CPUS".to_string()
        },
        "berth/xv6".to_string(),
    ];
    let mut out = String::new();
    let ok = runs.len();
    let _ = writeln!(
        out,
        "berth benchmarks: CPUS={}, {}, {ok} of {} boots (median of per-boot medians; cycles are TSC cycles)",
        ctx.cpus, ctx.accel, ctx.boots
    );
    if !sweep.is_empty() {
        let sets: Vec<String> = sweep
            .iter()
            .map(|s| format!("CPUS={} ({} of {} boots)", s.cpus, s.runs.len(), s.boots))
            .collect();
        let _ = writeln!(
            out,
            "then {}: {} only, rows labelled with their CPU count; \
             rows without one are CPUS={}; xv6's figure is the row's CPU count's",
            sets.join(", "),
            sweep::PREFIXES.join(", "),
            ctx.cpus
        );
    }
    let _ = writeln!(out);
    out += &table(&header, &rows);
    let _ = writeln!(out);
    match hz {
        Some(hz) => {
            let _ = writeln!(
                out,
                "TSC: {:.1} MHz, calibrated by the guest (TSC cycles over 100 uptime ticks after a tick edge; median over boots)",
                hz as f64 / 1e6
            );
        }
        None => {
            let _ = writeln!(out, "TSC: the guest reported no calibration");
        }
    }
    if !sweep.is_empty() {
        let each: Vec<String> = sweep
            .iter()
            .map(|s| {
                tsc_hz(&s.runs).map_or(format!("CPUS={} none", s.cpus), |hz| {
                    format!("CPUS={} {:.1} MHz", s.cpus, hz as f64 / 1e6)
                })
            })
            .collect();
        let _ = writeln!(
            out,
            "     each CPU count's rows use its own boots' calibration: {}",
            each.join(", ")
        );
    }
    if let Some((mhz, source, cost)) = &ctx.kernel_tsc {
        let _ = writeln!(
            out,
            "     kernel boot line: {mhz:.3} MHz (source: {source}; rdtsc costs {cost} cycles)"
        );
    }
    let _ = writeln!(
        out,
        "     xv6's figures: BASELINES.md's table \"{}\" (TSC {} MHz)",
        baseline::XV6_TABLE,
        baseline::XV6_TSC_MHZ,
    );
    if let Some(b) = proc_bytes {
        let _ = writeln!(
            out,
            "process size at fork (break above the text base, stack not counted): {} bytes; xv6: {} bytes",
            group(b),
            group(baseline::XV6_PROC_BYTES)
        );
    }
    let all = std::iter::once(runs).chain(sweep.iter().map(|s| &s.runs[..]));
    if all.clone().any(|r| boot::combine(r).is_some()) {
        out +=
            "boot to `$ `: wall time on the host from spawning QEMU to the shell's first prompt \
                (cycles: that time at the guest's calibrated TSC rate); berth boots with qboot, \
                xv6's figures include SeaBIOS's start-up.\n";
    }
    out += &trace_cost(runs);
    let sets: Vec<(usize, &[Run])> = std::iter::once(ctx.cpus)
        .chain(sweep.iter().map(|s| s.cpus))
        .zip(all)
        .collect();
    out += &scaling::notes(&sets, ctx.host_cores);
    let counts: Vec<usize> = sets.iter().map(|&(c, _)| c).collect();
    out += &notes(ctx, &counts[1..]);
    out
}

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

/// What the reader needs to interpret the ratios; `sweep`: the sweep's
/// CPU counts.
fn notes(ctx: &Context, sweep: &[usize]) -> String {
    let mut out = String::new();
    if ctx.accel == "KVM" {
        out += "KVM here is a software PVM (a system call costs ~0.3 ms): these are berth's \
                absolute figures on this host, not comparable with xv6's TCG numbers; use KVM=0 for ratios.\n";
    } else {
        out += "xv6 was measured under TCG too (QEMU 7.2, 2 host cores): the ratios compare like with like.\n";
    }
    if ctx.cpus > 1 || sweep.iter().any(|&c| c > 1) {
        out += "berth halts idle CPUs; xv6's idle loop spins, so with more vCPUs than host cores \
                xv6's figures include vCPUs fighting for the 2 host cores.\n";
    }
    if ctx.cpus == 8 {
        out += "xv6's CPUS=8 column is a single run; xv6 never reached (f) at CPUS=8.\n";
    } else if sweep.contains(&8) {
        out += "xv6's CPUS=8 figures are a single run.\n";
    }
    if sweep.is_empty() {
        if !baseline::XV6_CPUS.contains(&ctx.cpus) {
            out += "xv6 was measured at CPUS=1, 2 and 8 only: no baseline for this CPU count.\n";
        }
    } else {
        let mut missing: Vec<usize> = std::iter::once(ctx.cpus)
            .chain(sweep.iter().copied())
            .filter(|c| !baseline::XV6_CPUS.contains(c))
            .collect();
        missing.dedup();
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(|c| format!("CPUS={c}")).collect();
            let _ = writeln!(
                out,
                "xv6 was measured at CPUS=1, 2 and 8 only: no baseline for {}.",
                list.join(", ")
            );
        }
    }
    out += "(e) with 4096 B writes is berth's natural size (its pipe buffer is 4 KiB); xv6's row is its 512 B figure.\n";
    out += "(g) yield rows compare berth's yield_cpu with xv6's sleep(0), the only call xv6 had.\n";
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    fn run(lines: &[&str]) -> Run {
        let mut r = Run::default();
        for l in lines {
            r.feed(l);
        }
        r
    }

    fn three_boots() -> Vec<Run> {
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

    #[test]
    fn renders_rows_baselines_errors_and_notes() {
        let ctx = Context {
            cpus: 1,
            accel: "TCG".into(),
            boots: 3,
            kernel_tsc: Some((2596.631, "PIT calibration".into(), 26)),
            host_cores: None,
        };
        let text = render(&ctx, &three_boots());
        assert!(text.contains("CPUS=1, TCG, 3 of 3 boots"), "{text}");
        let row = text
            .lines()
            .find(|l| l.contains("(a) null syscall"))
            .expect("null syscall row");
        assert!(row.contains(" 1,000 |"), "{row}");
        assert!(row.contains("0.50 µs"), "{row}");
        assert!(row.contains("20,498"), "{row}");
        assert!(row.contains("0.05"), "{row}");
        let tput = text.lines().find(|l| l.contains("512 B writes")).unwrap();
        assert!(
            tput.contains("10.5 MB/s") && tput.contains("3.5 MB/s"),
            "{tput}"
        );
        assert!(text.contains("error: open: ENOSPC"));
        assert!(text.contains("TSC: 2000.0 MHz"));
        assert!(text.contains("2596.631 MHz (source: PIT calibration"));
        assert!(text.contains("re-measured 2026-12-02"), "{text}");
        assert!(text.contains("65,536 bytes; xv6: 28,672 bytes"));
        assert!(text.contains("like with like"));
        // Benchmarks not run get no row.
        assert!(!text.contains("round trip"));
    }

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

    #[test]
    fn single_count_rendering_is_pinned() {
        let text = render(&fixtures::ctx2(), &fixtures::two_boots());
        assert_eq!(text, fixtures::BEFORE, "\n{text}");
    }

    /// A table line's cells, trimmed (padding depends on the widest cell);
    /// other lines as they are.
    pub(crate) fn cells(text: &str) -> Vec<String> {
        text.lines()
            .map(|l| match l.strip_prefix('|') {
                Some(rest) => rest
                    .split('|')
                    .map(|c| c.trim().trim_end_matches(':').trim_matches('-'))
                    .collect::<Vec<_>>()
                    .join("|"),
                None => l.to_string(),
            })
            .collect()
    }

    #[test]
    fn single_count_gains_only_the_boot_row_and_its_note() {
        let mut runs = fixtures::two_boots();
        runs[0].to_prompt = Some(std::time::Duration::from_millis(1_200));
        runs[1].to_prompt = Some(std::time::Duration::from_millis(900));
        let text = render(&fixtures::ctx2(), &runs);
        let mut want = cells(fixtures::BEFORE);
        let last_row = want.iter().rposition(|l| l.ends_with('|')).unwrap();
        // Median of two: element 1 of [0.9, 1.2] s; 1.2 s x 2300.1 MHz
        // (the median calibration); xv6 at CPUS=2: 1.36 s.
        want.insert(
            last_row + 1,
            "boot to `$ ` (host wall time; berth: qboot, xv6: SeaBIOS)|2,760,120,000|1.20 s\
             |2,070,090,000..2,760,120,000|1.36 s|0.88|"
                .into(),
        );
        // ...and the note that says what the row is.
        let tracing = want
            .iter()
            .position(|l| l.starts_with("tracing cost"))
            .unwrap();
        want.insert(
            tracing,
            "boot to `$ `: wall time on the host from spawning QEMU to the shell's first prompt \
             (cycles: that time at the guest's calibrated TSC rate); berth boots with qboot, \
             xv6's figures include SeaBIOS's start-up."
                .into(),
        );
        assert_eq!(cells(&text), want, "\n{text}");
    }

    #[test]
    fn boot_row_without_a_calibration_or_a_baseline() {
        let runs = vec![Run {
            to_prompt: Some(std::time::Duration::from_millis(650)),
            ..Run::default()
        }];
        let ctx = Context {
            cpus: 4,
            ..fixtures::ctx2()
        };
        let text = render(&ctx, &runs);
        let row = text.lines().find(|l| l.contains("boot to")).unwrap();
        let cells: Vec<_> = row.split('|').map(str::trim).collect();
        assert_eq!(
            cells[2..7],
            ["-", "650 ms", "650 ms..650 ms", "-", "-"],
            "{row}"
        );
    }

    /// One boot of the scheduling benchmarks at `cpus` (`bench --cpus K
    /// yield scale wakeup`), at 2 GHz; `t1`/`tn`: (g) sleep with 1 and with
    /// CPUS children.
    fn sched_boot(cpus: usize, t1: u64, tn: u64, prompt_ms: u64) -> Run {
        let mut lines = vec![
            "bench tsc_hz=2000000000 source=uptime_100_ticks".to_string(),
            "bench rdtsc_overhead median=30 min=28 max=400 samples=1000 unit=cycles".into(),
            "bench yield_1 median=1000 min=900 max=9000 samples=100 unit=cycles procs=1 per_s=2000000".into(),
        ];
        if cpus > 1 {
            lines.push(format!("bench yield_cpus median=3000 min=900 max=9000 samples={} unit=cycles procs={cpus} per_s=3000000", cpus * 100));
        }
        lines.extend([
            "bench wakeup_idle median=40000 min=30000 max=90000 samples=500 unit=cycles hogs=0".to_string(),
            "bench wakeup_idle_p99 median=80000 min=30000 max=90000 samples=500 unit=cycles hogs=0".into(),
            format!("bench scale_sleep_1 median={t1} min={t1} max={t1} samples=3 unit=cycles children=1 rounds=500 iters=20000"),
        ]);
        if cpus > 1 {
            lines.push(format!("bench scale_sleep_cpus median={tn} min={tn} max={tn} samples=3 unit=cycles children={cpus} rounds=500 iters=20000"));
        }
        lines.push("bench done".into());
        let mut r = run(&lines.iter().map(String::as_str).collect::<Vec<_>>());
        r.to_prompt = Some(std::time::Duration::from_millis(prompt_ms));
        r
    }

    /// The cells of the table row labelled exactly `label`.
    fn row<'a>(text: &'a str, label: &str) -> Vec<&'a str> {
        text.lines()
            .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>())
            .find(|c| c.len() == 8 && c[1] == label)
            .unwrap_or_else(|| panic!("no row {label:?} in\n{text}"))[2..7]
            .to_vec()
    }

    fn swept() -> String {
        let ctx = Context {
            cpus: 1,
            boots: 1,
            ..fixtures::ctx2()
        };
        let sweep: Vec<Set> = [(2, 500), (4, 1_000), (8, 2_000)]
            .iter()
            .map(|&(cpus, ms)| Set {
                cpus,
                boots: 1,
                // 40 M cycles (20 ms) for one child; N children take 2 x
                // the ideal N x 20 ms / 2.
                runs: vec![sched_boot(cpus, 40_000_000, 40_000_000 * cpus as u64, ms)],
            })
            .collect();
        render_sweep(&ctx, &[sched_boot(1, 50_000_000, 0, 400)], &sweep)
    }

    #[test]
    fn sweep_rows_carry_their_cpu_count_and_its_xv6_figure() {
        let text = swept();
        assert!(
            text.contains(
                "then CPUS=2 (1 of 1 boots), CPUS=4 (1 of 1 boots), CPUS=8 (1 of 1 boots): \
                 yield, scale, wakeup only, rows labelled with their CPU count; rows without one are CPUS=1"
            ),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l.contains("| xv6, row's CPUS |")),
            "{text}"
        );
        // The main boots at CPUS=1: no label, xv6's CPUS=1 figures.
        let g1 = "(g) sleep(0) per round, 1 child";
        assert_eq!(
            row(&text, g1),
            [
                "50,000,000",
                "25.00 ms",
                "50,000,000..50,000,000",
                "54,219,342",
                "0.92"
            ]
        );
        assert_eq!(
            row(&text, "yield_cpu, 1 process (cycles per yield)")[0],
            "1,000"
        );
        // Each sweep count: its own xv6 column (none at 4).
        assert_eq!(
            row(&text, &format!("{g1}, CPUS=2"))[3..],
            ["102,816,906", "0.39"]
        );
        assert_eq!(row(&text, &format!("{g1}, CPUS=4"))[3..], ["-", "-"]);
        assert_eq!(
            row(&text, &format!("{g1}, CPUS=8"))[3..],
            ["832,736,872", "0.05"]
        );
        let gn = "(g) sleep(0) per round, CPUS children";
        assert_eq!(
            row(&text, &format!("{gn}, CPUS=2")),
            [
                "80,000,000",
                "40.00 ms",
                "80,000,000..80,000,000",
                "94,797,708",
                "0.84"
            ]
        );
        assert_eq!(
            row(&text, &format!("{gn}, CPUS=8"))[3..],
            ["1,740,297,562", "0.18"]
        );
        assert_eq!(
            row(
                &text,
                "yield_cpu, CPUS processes (cycles per yield), CPUS=4"
            )[0],
            "3,000"
        );
        assert_eq!(
            row(&text, "wakeup-to-run, idle machine, p99, CPUS=8")[0],
            "80,000"
        );
        // Boot to prompt per CPU count, xv6's SeaBIOS seconds where measured.
        let boot = "boot to `$ ` (host wall time; berth: qboot, xv6: SeaBIOS)";
        assert_eq!(
            row(&text, boot),
            [
                "800,000,000",
                "400 ms",
                "800,000,000..800,000,000",
                "0.55 s",
                "0.73"
            ]
        );
        assert_eq!(
            row(&text, &format!("{boot}, CPUS=2"))[1..],
            ["500 ms", "1,000,000,000..1,000,000,000", "1.36 s", "0.37"]
        );
        assert_eq!(row(&text, &format!("{boot}, CPUS=4"))[3..], ["-", "-"]);
        assert_eq!(
            row(&text, &format!("{boot}, CPUS=8"))[2..],
            ["4,000,000,000..4,000,000,000", "9.16 s", "0.22"]
        );
        // No CPUS=1 label, no N-children rows at one CPU, no main-only rows in the sweep.
        assert!(!text.contains("CPUS=1 |"), "{text}");
        assert!(!text.contains(&format!("| {gn} ")), "{text}");
        // Blocks in order: main, then 2, 4, 8, each ending with its boot row.
        let at = |label: &str| text.find(&format!("| {label} ")).unwrap();
        assert!(at(boot) < at(&format!("{g1}, CPUS=2")));
        assert!(
            at(&format!("{boot}, CPUS=2")) < at("yield_cpu, 1 process (cycles per yield), CPUS=4")
        );
        assert!(at(&format!("{gn}, CPUS=8")) < at(&format!("{boot}, CPUS=8")));
    }

    #[test]
    fn sweep_notes_the_ideal_and_the_baselines_used() {
        let text = swept();
        for line in [
            "CPUS=1 yield_cpu: 1 process 2,000,000 yields/s",
            "CPUS=2 yield_cpu: 2 processes 3,000,000 yields/s, 1 process 2,000,000/s; ideal 2 x 2,000,000 = 4,000,000/s; ideal/actual 1.33",
            "CPUS=2 (g) sleep(0) per round, 2 children: 40.00 ms; ideal 2 x 20.00 ms / 2 = 20.00 ms; time/ideal 2.00",
            "CPUS=4 (g) sleep(0) per round, 4 children: 80.00 ms; ideal 4 x 20.00 ms / 2 = 40.00 ms; time/ideal 2.00",
            "CPUS=8 yield_cpu: 8 processes 3,000,000 yields/s, 1 process 2,000,000/s; ideal 2 x 2,000,000 = 4,000,000/s; ideal/actual 1.33",
            "CPUS=8 (g) sleep(0) per round, 8 children: 160.00 ms; ideal 8 x 20.00 ms / 2 = 80.00 ms; time/ideal 2.00",
            "each CPU count's rows use its own boots' calibration: CPUS=2 2000.0 MHz, CPUS=4 2000.0 MHz, CPUS=8 2000.0 MHz",
            "xv6's figures: BASELINES.md's table \"xv6 re-measured 2026-12-02 on a machine of this kind\"",
            "berth halts idle CPUs",
            "xv6's CPUS=8 figures are a single run.",
            "xv6 was measured at CPUS=1, 2 and 8 only: no baseline for CPUS=4.",
        ] {
            assert!(text.contains(line), "{line:?} missing from\n{text}");
        }
        assert!(text.contains("aggregate view, 2 host cores"), "{text}");
        assert!(!text.contains("never reached (f)"), "{text}");
    }
}
