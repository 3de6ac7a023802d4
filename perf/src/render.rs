//! The whole report: the header lines, one table (the boots at `--cpus`,
//! then each `--sweep` CPU count's rows labelled with it), and the lines
//! under it: clocks, which xv6 table the ratios use, the process size, the
//! boot row's meaning, the tracer's cost, the aggregate view, and what the
//! reader needs to interpret the ratios.

use std::fmt::Write;

use crate::baseline;
use crate::boot;
use crate::parse::Run;
use crate::report::{combine, group, rows, tsc_hz, Context};
use crate::scaling;
use crate::sweep::{self, Set};
use crate::table::table;
use crate::trace_cost::trace_cost;

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
    use crate::fixtures::{self, run, three_boots};

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
