//! Running the guest `stress` program (or one stress program) at the shell
//! and reading its table: shared by `make stress` (`stress-runner`) and
//! `tests/tests/stress.rs`.
//!
//! The guest prints one row per program, `stress: NAME SECS VERDICT` then
//! the change of seven kernel counters and `clean` or `LEAK`, and ends with
//! `stress: N passed, M failed`. [`parse_row`] and [`parse_summary`] read
//! them (pure, unit-tested); [`run`] types the command and collects the
//! rows; [`check_after`] checks what must hold once a run is over: the
//! kernel never panicked, the shell answers, and after power off the disk
//! is fsck-clean with exactly the image's inodes and blocks in use.

use std::time::Duration;

use berth_abi::markers::PANIC_PREFIX;

use crate::shell::Shell;
use crate::TestFailure;

/// One row of the guest's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub program: String,
    pub secs: u64,
    pub verdict: String,
    /// procs, ctrs, frames_free, committed, charged, heap_used, inodes.
    pub deltas: Vec<i64>,
    pub clean: bool,
}

impl Row {
    /// Whether the program passed and left nothing behind.
    pub fn ok(&self) -> bool {
        self.verdict == "PASS" && self.clean
    }
}

/// A table row, or `None` for any other line.
pub fn parse_row(line: &str) -> Option<Row> {
    let rest = line.strip_prefix("stress: ")?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    if f.len() != 11 {
        return None;
    }
    let clean = match f[10] {
        "clean" => true,
        "LEAK" => false,
        _ => return None,
    };
    let deltas: Option<Vec<i64>> = f[3..10].iter().map(|d| d.parse().ok()).collect();
    Some(Row {
        program: f[0].to_string(),
        secs: f[1].parse().ok()?,
        verdict: f[2].to_string(),
        deltas: deltas?,
        clean,
    })
}

/// `stress: N passed, M failed` -> `(N, M)`.
pub fn parse_summary(line: &str) -> Option<(usize, usize)> {
    let rest = line.strip_prefix("stress: ")?.strip_suffix(" failed")?;
    let (p, f) = rest.split_once(" passed, ")?;
    Some((p.parse().ok()?, f.parse().ok()?))
}

/// What a run printed.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every `stress...` / `syzfuzz` / verdict line, in order.
    pub lines: Vec<String>,
    pub rows: Vec<Row>,
    pub passed: usize,
    pub failed: usize,
}

/// Types `command` (a `stress ...` line) and collects its lines until the
/// summary; `each` sees every console line as it comes. `timeout` bounds
/// the wait for each next line.
pub fn run(
    sh: &mut Shell,
    command: &str,
    timeout: Duration,
    mut each: impl FnMut(&str),
) -> Result<Report, TestFailure> {
    sh.qemu.send_line(command)?;
    let mut report = Report::default();
    loop {
        let line = sh
            .qemu
            .wait_for_line_matching("the next console line", |_| true, timeout)?;
        each(&line);
        if let Some(row) = parse_row(&line) {
            report.rows.push(row);
        }
        if line.starts_with("stress") || line.contains(": PASS") || line.contains(": FAIL") {
            report.lines.push(line.clone());
        }
        if let Some((p, f)) = parse_summary(&line) {
            report.passed = p;
            report.failed = f;
            break;
        }
    }
    sh.qemu.wait_for(crate::shell::PROMPT, timeout)?;
    Ok(report)
}

/// After a run: no kernel panic on the console, the shell answers, and
/// after power off the disk is clean and uses exactly the image's inodes
/// and data blocks (everything a program made was removed).
pub fn check_after(mut sh: Shell, what: &str) -> Result<(), TestFailure> {
    let console = sh.qemu.output();
    if let Some(p) = console.lines().find(|l| l.starts_with(PANIC_PREFIX)) {
        return Err(sh.qemu.failure(format!("the kernel panicked: {p}")));
    }
    let out = sh.run("echo still here", Duration::from_secs(60))?;
    sh.qemu.ensure(out.lines().any(|l| l == "still here"), || {
        format!("the shell did not answer after {what}: {out:?}")
    })?;
    let bytes = sh.power_off_clean(what)?;
    crate::image::expect_same_usage(&bytes, what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_summaries_parse() {
        let r = parse_row(
            "stress: stress-fork       12 PASS             +0          +0          +0          +0          +0        +128          +0  clean",
        )
        .unwrap();
        assert_eq!(r.program, "stress-fork");
        assert_eq!(r.secs, 12);
        assert_eq!(r.deltas, [0, 0, 0, 0, 0, 128, 0]);
        assert!(r.ok());
        let l = parse_row("stress: leak-check 0 PASS +1 +0 -12 +0 +12 +5000 +0  LEAK").unwrap();
        assert!(!l.ok());
        assert_eq!(l.deltas[2], -12);
        assert_eq!(parse_row("stress: running stress-fork -t 3"), None);
        assert_eq!(
            parse_row("stress: program secs verdict procs ctrs frames_free committed charged heap_used inodes  leaks"),
            None
        );
        assert_eq!(parse_summary("stress: 5 passed, 1 failed"), Some((5, 1)));
        assert_eq!(parse_summary("stress-fs: PASS"), None);
    }
}
