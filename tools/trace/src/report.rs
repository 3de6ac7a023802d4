//! The text report (`trace report`): [`compute`] works out every figure
//! into a [`Report`] (plain numbers, what tests check), [`render`] lays it
//! out as text. Times are nanoseconds in the struct, shown in ms or µs.

use crate::dump::{cycles_to_ns, name_str, Dump};
use crate::model::{self, Model, IDLE};
use berth_abi::syscall::TABLE;
use berth_abi::trace::{event, tsc_source};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Element `n * p / 100` of sorted samples (clamped to the last); 0 if none.
pub fn percentile(sorted: &[u64], p: u64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = (sorted.len() as u128 * u128::from(p) / 100) as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The log2 bucket of a latency: 0 holds `[0, 1)` µs, bucket `k >= 1`
/// holds `[2^(k-1), 2^k)` µs.
pub fn log2_bucket(ns: u64) -> usize {
    let us = ns / 1000;
    (u64::BITS - us.leading_zeros()) as usize
}

/// The lower bound in µs of a [`log2_bucket`].
pub fn bucket_low_us(k: usize) -> u64 {
    if k == 0 {
        0
    } else {
        1u64 << (k - 1)
    }
}

/// Summary of a set of latencies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Latency {
    pub count: usize,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
    /// Counts per [`log2_bucket`], up to the highest one used.
    pub histogram: Vec<u64>,
}

impl Latency {
    pub fn of(mut ns: Vec<u64>) -> Latency {
        ns.sort_unstable();
        let mut histogram = Vec::new();
        for &v in &ns {
            let k = log2_bucket(v);
            if histogram.len() <= k {
                histogram.resize(k + 1, 0);
            }
            histogram[k] += 1;
        }
        Latency {
            count: ns.len(),
            p50_ns: percentile(&ns, 50),
            p90_ns: percentile(&ns, 90),
            p99_ns: percentile(&ns, 99),
            max_ns: ns.last().copied().unwrap_or(0),
            histogram,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CpuFigures {
    pub cpu: u32,
    pub busy_ns: u64,
    /// Busy time over the recording's duration.
    pub busy_pct: f64,
    pub switches: u64,
    pub produced: u64,
    pub kept: u64,
    pub dropped: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CtrShare {
    pub id: i32,
    pub name: String,
    /// `None` for a container that ran but is not in the name table.
    pub weight: Option<u32>,
    /// Its weight over the sum of the table's weights.
    pub weight_pct: f64,
    pub busy_ns: u64,
    /// Its CPU time over all CPUs' busy time.
    pub busy_pct: f64,
    /// The scheduler's own figures for the recording (a version 2 dump):
    /// CPU time, its share of all containers', and switches in. Exact
    /// however much the rings overwrote.
    pub sched: Option<SchedUsage>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SchedUsage {
    pub ns: u64,
    pub pct: f64,
    pub switches: u64,
}

/// One event's records produced (kept or overwritten), per CPU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFigures {
    pub event: u16,
    pub name: &'static str,
    pub per_cpu: Vec<u64>,
    pub total: u64,
}

/// Long spins on one lock (from the kept spin records).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpinFigures {
    pub lock: String,
    pub count: usize,
    pub total_ns: u64,
    pub max_ns: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyscallFigures {
    pub nr: u32,
    pub name: String,
    pub count: usize,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ProcTime {
    pub pid: i32,
    pub container: i32,
    pub name: String,
    pub ns: u64,
    /// Of one CPU over the recording (as `top` counts: may pass 100).
    pub cpu_pct: f64,
}

/// Every figure of the report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub cpus: u32,
    pub tsc_mhz: f64,
    pub tsc_source: &'static str,
    pub clock_read_cycles: u32,
    pub duration_ns: u64,
    pub per_cpu: Vec<CpuFigures>,
    /// Sorted by id; container 0 is the host.
    pub containers: Vec<CtrShare>,
    pub switches: u64,
    pub wakeup: Latency,
    /// Per container id of the woken process, sorted by id.
    pub wakeup_by_ctr: Vec<(i32, Latency)>,
    /// Sorted by call number.
    pub syscalls: Vec<SyscallFigures>,
    /// At most ten, most CPU time first (pid breaks ties).
    pub top: Vec<ProcTime>,
    pub dropped: u64,
    /// Exact counts per event (empty for a version 1 dump).
    pub events: Vec<EventFigures>,
    /// Most time spun first.
    pub spins: Vec<SpinFigures>,
}

pub fn source_name(s: u32) -> &'static str {
    tsc_source::name(s)
}

/// A system call's name from the ABI table (`#n` if unknown).
pub fn syscall_name(nr: u32) -> String {
    TABLE
        .iter()
        .find(|e| e.0 == nr as usize)
        .map_or_else(|| format!("#{nr}"), |e| e.1.to_string())
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Works out the report of a dump.
pub fn compute(d: &Dump) -> Report {
    compute_with(d, &model::build(d))
}

/// Works out the report from an already built model.
pub fn compute_with(d: &Dump, m: &Model) -> Report {
    let h = &d.header;
    let hz = h.tsc_hz;
    let ns = |c: u64| cycles_to_ns(c, hz);
    let duration_ns = ns(h.stop_tsc.saturating_sub(h.start_tsc));

    let mut per_cpu = Vec::new();
    let mut by_ctr: BTreeMap<i32, u64> = BTreeMap::new();
    let mut by_pid: BTreeMap<i32, (i32, u64)> = BTreeMap::new();
    for (tl, summary) in m.cpus.iter().zip(&d.cpus) {
        let mut busy = 0u64;
        for iv in tl.intervals.iter().filter(|i| !i.is_idle()) {
            let t = ns(iv.cycles());
            // Saturating: a corrupt dump's times may be absurd, never a panic.
            busy = busy.saturating_add(t);
            let c = by_ctr.entry(iv.container).or_default();
            *c = c.saturating_add(t);
            let e = by_pid.entry(iv.pid).or_insert((iv.container, 0));
            e.0 = iv.container;
            e.1 = e.1.saturating_add(t);
        }
        per_cpu.push(CpuFigures {
            cpu: tl.cpu,
            busy_ns: busy,
            busy_pct: pct(busy, duration_ns),
            switches: tl.switches,
            produced: summary.produced,
            kept: summary.kept,
            dropped: summary.dropped,
        });
    }
    let total_busy = per_cpu
        .iter()
        .fold(0u64, |s, c| s.saturating_add(c.busy_ns));

    let weight_sum = d
        .containers
        .iter()
        .fold(0u64, |s, c| s.saturating_add(u64::from(c.weight)));
    let mut ids: Vec<i32> = d.containers.iter().map(|c| c.id).collect();
    ids.extend(by_ctr.keys().copied().filter(|&id| id != IDLE));
    ids.extend(d.usage.iter().map(|u| u.id));
    let sched_total = d
        .usage
        .iter()
        .fold(0u64, |s, u| s.saturating_add(ns(u.cycles)));
    ids.sort_unstable();
    ids.dedup();
    let containers = ids
        .into_iter()
        .map(|id| {
            let entry = d.ctr(id);
            let busy_ns = by_ctr.get(&id).copied().unwrap_or(0);
            CtrShare {
                id,
                name: entry.map_or_else(
                    || if id == 0 { "host".into() } else { "?".into() },
                    |c| name_str(&c.name),
                ),
                weight: entry.map(|c| c.weight),
                weight_pct: pct(entry.map_or(0, |c| u64::from(c.weight)), weight_sum),
                busy_ns,
                busy_pct: pct(busy_ns, total_busy),
                sched: (!d.usage.is_empty()).then(|| {
                    let u = d.usage.iter().find(|u| u.id == id);
                    let t = u.map_or(0, |u| ns(u.cycles));
                    SchedUsage {
                        ns: t,
                        pct: pct(t, sched_total),
                        switches: u.map_or(0, |u| u.switches),
                    }
                }),
            }
        })
        .collect();

    let events = (1..=event::LAST)
        .filter_map(|e| {
            let per_cpu: Vec<u64> = d
                .counts
                .iter()
                .map(|c| c.produced[usize::from(e)])
                .collect();
            let total = per_cpu.iter().fold(0u64, |s, &n| s.saturating_add(n));
            (total > 0).then(|| EventFigures {
                event: e,
                name: event::name(e),
                per_cpu,
                total,
            })
        })
        .collect();

    let mut by_lock: BTreeMap<u32, (usize, u64, u64)> = BTreeMap::new();
    for r in d.records.iter().filter(|r| r.event == event::SPIN) {
        let e = by_lock.entry(r.a).or_default();
        let t = ns(r.b);
        *e = (e.0 + 1, e.1.saturating_add(t), e.2.max(t));
    }
    let mut spins: Vec<SpinFigures> = by_lock
        .into_iter()
        .map(|(index, (count, total_ns, max_ns))| SpinFigures {
            lock: d
                .locks
                .iter()
                .find(|l| l.index == index)
                .map_or_else(|| format!("lock #{index}"), |l| name_str(&l.name)),
            count,
            total_ns,
            max_ns,
        })
        .collect();
    spins.sort_by(|a, b| b.total_ns.cmp(&a.total_ns).then(a.lock.cmp(&b.lock)));

    let wakeup = Latency::of(m.wakeups.iter().map(|w| ns(w.cycles())).collect());
    let mut wk: BTreeMap<i32, Vec<u64>> = BTreeMap::new();
    for w in &m.wakeups {
        wk.entry(w.container).or_default().push(ns(w.cycles()));
    }
    let wakeup_by_ctr = wk.into_iter().map(|(c, v)| (c, Latency::of(v))).collect();

    let mut sc: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    for s in &m.syscalls {
        sc.entry(s.nr).or_default().push(ns(s.cycles()));
    }
    let syscalls = sc
        .into_iter()
        .map(|(nr, v)| {
            let l = Latency::of(v);
            SyscallFigures {
                nr,
                name: syscall_name(nr),
                count: l.count,
                p50_ns: l.p50_ns,
                p99_ns: l.p99_ns,
                max_ns: l.max_ns,
            }
        })
        .collect();

    let mut top: Vec<ProcTime> = by_pid
        .into_iter()
        .map(|(pid, (container, t))| ProcTime {
            pid,
            container,
            name: d.proc_name(pid).unwrap_or_else(|| "?".into()),
            ns: t,
            cpu_pct: pct(t, duration_ns),
        })
        .collect();
    top.sort_by(|a, b| b.ns.cmp(&a.ns).then(a.pid.cmp(&b.pid)));
    top.truncate(10);

    Report {
        cpus: h.cpus,
        tsc_mhz: hz as f64 / 1e6,
        tsc_source: source_name(h.tsc_source),
        clock_read_cycles: h.clock_read_cycles,
        duration_ns,
        switches: per_cpu.iter().fold(0, |s, c| s.saturating_add(c.switches)),
        dropped: per_cpu.iter().fold(0, |s, c| s.saturating_add(c.dropped)),
        per_cpu,
        containers,
        wakeup,
        wakeup_by_ctr,
        syscalls,
        top,
        events,
        spins,
    }
}

fn us(ns: u64) -> String {
    format!("{:.1}", ns as f64 / 1000.0)
}

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

fn latency_line(out: &mut String, label: &str, l: &Latency) {
    let _ = writeln!(
        out,
        "  {label:<10} n={:<6} p50 {:>9}  p90 {:>9}  p99 {:>9}  max {:>9}",
        l.count,
        us(l.p50_ns),
        us(l.p90_ns),
        us(l.p99_ns),
        us(l.max_ns)
    );
}

/// Lays out a histogram as `[low, high) µs  count  bar`.
pub fn render_histogram(out: &mut String, hist: &[u64]) {
    let most = hist.iter().copied().max().unwrap_or(0).max(1);
    for (k, &n) in hist.iter().enumerate() {
        let bar = "#".repeat(((n * 40).div_ceil(most)) as usize);
        let _ = writeln!(
            out,
            "    [{:>7}, {:>7}) µs {:>7}  {bar}",
            bucket_low_us(k),
            bucket_low_us(k + 1).max(1),
            n
        );
    }
}

/// The report as text.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "berth trace: {} CPUs, TSC {:.1} MHz ({}), clock read {} cycles, {} ms recorded",
        r.cpus,
        r.tsc_mhz,
        r.tsc_source,
        r.clock_read_cycles,
        ms(r.duration_ns)
    );

    let _ = writeln!(out, "\nCPUs");
    let _ = writeln!(
        out,
        "  {:>4} {:>8} {:>12} {:>9} {:>10} {:>9}",
        "cpu", "busy %", "busy ms", "switches", "records", "dropped"
    );
    for c in &r.per_cpu {
        let _ = writeln!(
            out,
            "  {:>4} {:>8.1} {:>12} {:>9} {:>10} {:>9}",
            c.cpu,
            c.busy_pct,
            ms(c.busy_ns),
            c.switches,
            c.kept,
            c.dropped
        );
    }
    let _ = writeln!(
        out,
        "  context switches: {}, dropped records: {}",
        r.switches, r.dropped
    );

    if !r.events.is_empty() {
        let _ = writeln!(out, "\nEvents (every record produced, kept or overwritten)");
        let _ = write!(out, "  {:<14}", "event");
        for c in &r.per_cpu {
            let _ = write!(out, " {:>9}", format!("cpu{}", c.cpu));
        }
        let _ = writeln!(out, " {:>10}", "total");
        for e in &r.events {
            let _ = write!(out, "  {:<14}", e.name);
            for n in &e.per_cpu {
                let _ = write!(out, " {n:>9}");
            }
            let _ = writeln!(out, " {:>10}", e.total);
        }
    }

    let _ = writeln!(out, "\nContainers (share of busy CPU time vs weight share)");
    let sched = r.containers.iter().any(|c| c.sched.is_some());
    let _ = write!(
        out,
        "  {:>4} {:<16} {:>7} {:>9} {:>12} {:>8}",
        "id", "name", "weight", "weight %", "cpu ms", "cpu %"
    );
    if sched {
        let _ = write!(
            out,
            " {:>12} {:>8} {:>9}",
            "sched ms", "sched %", "switches"
        );
    }
    let _ = writeln!(out);
    for c in &r.containers {
        let weight = c.weight.map_or_else(|| "-".into(), |w| w.to_string());
        let _ = write!(
            out,
            "  {:>4} {:<16} {:>7} {:>9.1} {:>12} {:>8.1}",
            c.id,
            c.name,
            weight,
            c.weight_pct,
            ms(c.busy_ns),
            c.busy_pct
        );
        if let Some(u) = &c.sched {
            let _ = write!(out, " {:>12} {:>8.1} {:>9}", ms(u.ns), u.pct, u.switches);
        }
        let _ = writeln!(out);
    }
    if sched {
        let _ = writeln!(
            out,
            "  (cpu: from the kept switch records; sched: the scheduler's own accounting)"
        );
    }

    let _ = writeln!(out, "\nWakeup to run latency (µs)");
    latency_line(&mut out, "all", &r.wakeup);
    for (id, l) in &r.wakeup_by_ctr {
        latency_line(&mut out, &format!("ctr {id}"), l);
    }
    if r.wakeup.count > 0 {
        render_histogram(&mut out, &r.wakeup.histogram);
    }

    let _ = writeln!(out, "\nSystem calls (µs)");
    let _ = writeln!(
        out,
        "  {:>3} {:<18} {:>7} {:>9} {:>9} {:>9}",
        "nr", "name", "count", "p50", "p99", "max"
    );
    for s in &r.syscalls {
        let _ = writeln!(
            out,
            "  {:>3} {:<18} {:>7} {:>9} {:>9} {:>9}",
            s.nr,
            s.name,
            s.count,
            us(s.p50_ns),
            us(s.p99_ns),
            us(s.max_ns)
        );
    }

    if !r.spins.is_empty() {
        let _ = writeln!(out, "\nLong spinlock spins (µs)");
        let _ = writeln!(
            out,
            "  {:<20} {:>7} {:>10} {:>9}",
            "lock", "count", "total", "max"
        );
        for s in &r.spins {
            let _ = writeln!(
                out,
                "  {:<20} {:>7} {:>10} {:>9}",
                s.lock,
                s.count,
                us(s.total_ns),
                us(s.max_ns)
            );
        }
    }

    let _ = writeln!(out, "\nTop processes by CPU time");
    let _ = writeln!(
        out,
        "  {:>6} {:<16} {:>4} {:>12} {:>7}",
        "pid", "name", "ctr", "cpu ms", "cpu %"
    );
    for p in &r.top {
        let _ = writeln!(
            out,
            "  {:>6} {:<16} {:>4} {:>12} {:>7.1}",
            p.pid,
            p.name,
            p.container,
            ms(p.ns),
            p.cpu_pct
        );
    }
    out
}
