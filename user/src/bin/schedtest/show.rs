//! One line per measured container or process, and the verdict over them.

use ulib::fairshare::{deviation, within};
use ulib::prelude::*;

/// A measured container or process.
pub struct Row {
    /// Its name (`st-w50`, `pid 12`).
    pub label: String,
    /// Its CPU weight, for containers.
    pub weight: Option<u32>,
    /// CPU-bound processes it had (1 for a process).
    pub procs: usize,
    /// Cycles it ran in the window.
    pub cycles: u64,
    /// Its fraction of the cycles measured together.
    pub share: f64,
    /// The fraction it should have had.
    pub expected: f64,
    /// Its cycles over the window's TSC cycles: CPUs it used on average.
    pub cpus: f64,
}

/// `12.34 %`.
pub fn pct(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

/// `+1.23 %` / `-0.50 %`: a relative deviation.
pub fn signed_pct(x: f64) -> String {
    if x.is_infinite() {
        return String::from("inf");
    }
    let sign = if x >= 0.0 { "+" } else { "" };
    format!("{sign}{:.2} %", x * 100.0)
}

/// `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let s = format!("{n}");
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Prints every row under the scenario's name.
pub fn print_rows(scenario: &str, rows: &[Row], tolerance: f64) {
    for r in rows {
        let weight = match r.weight {
            Some(w) => format!("weight {w:>4}  procs {:>2}  ", r.procs),
            None => String::new(),
        };
        let mark = if within(r.share, r.expected, tolerance) {
            "ok"
        } else {
            "OFF"
        };
        println!(
            "  {scenario}: {:<9} {weight}cycles {:>15}  share {:>8}  expected {:>8}  deviation {:>9}  CPUs {:.2}  {mark}",
            r.label,
            group_digits(r.cycles),
            pct(r.share),
            pct(r.expected),
            signed_pct(deviation(r.share, r.expected)),
            r.cpus,
        );
    }
}

/// `Ok` if every row's share is within `tolerance` (relative) of its
/// expected share; else which rows are not.
pub fn judge(rows: &[Row], tolerance: f64) -> Result<(), String> {
    let off: Vec<String> = rows
        .iter()
        .filter(|r| !within(r.share, r.expected, tolerance))
        .map(|r| {
            format!(
                "{} {} (expected {}, {})",
                r.label,
                pct(r.share),
                pct(r.expected),
                signed_pct(deviation(r.share, r.expected))
            )
        })
        .collect();
    if off.is_empty() {
        return Ok(());
    }
    Err(format!(
        "share off by more than {:.0} % (relative) of the expected: {}",
        tolerance * 100.0,
        off.join(", ")
    ))
}
