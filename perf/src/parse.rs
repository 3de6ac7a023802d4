//! The guest's result lines.
//!
//! `bench` prints, in order: `bench tsc_hz=N source=...`,
//! `bench rdtsc_overhead median=...`, one
//! `bench NAME median=N min=N max=N samples=N unit=cycles [key=value...]`
//! per benchmark (or `bench NAME error=WHY`), and `bench done`.

use std::collections::BTreeMap;
use std::time::Duration;

/// Every result line starts with this.
pub const PREFIX: &str = "bench ";
/// The last line of a run.
pub const DONE: &str = "bench done";

/// One benchmark's summary from one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub median: u64,
    pub min: u64,
    pub max: u64,
    pub samples: u64,
    /// Other `key=value` fields (`unit`, `mbps`, `proc_bytes`, `children`...).
    pub fields: BTreeMap<String, String>,
}

impl Sample {
    /// A field parsed as `T`, if present and well-formed.
    pub fn field<T: std::str::FromStr>(&self, key: &str) -> Option<T> {
        self.fields.get(key)?.parse().ok()
    }
}

/// What a console line says.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// TSC cycles per second, calibrated by the guest.
    TscHz(u64),
    /// A benchmark's result.
    Result(Sample),
    /// A benchmark that could not run, and why.
    Error { name: String, why: String },
    /// The end of the run.
    Done,
}

/// Parses one console line; `None` for anything that is not a result line
/// (including the shell's echo of the `bench --cpus N` command).
pub fn parse_line(line: &str) -> Option<Line> {
    let line = line.trim_end();
    if line == DONE {
        return Some(Line::Done);
    }
    let rest = line.strip_prefix(PREFIX)?;
    let mut words = rest.split_whitespace();
    let first = words.next()?;
    if let Some(hz) = first.strip_prefix("tsc_hz=") {
        return hz.parse().ok().map(Line::TscHz);
    }
    if first.contains('=') || first.starts_with('-') {
        return None;
    }
    let mut fields = BTreeMap::new();
    for w in words {
        let (k, v) = w.split_once('=')?;
        fields.insert(k.to_string(), v.to_string());
    }
    if let Some(why) = fields.remove("error") {
        return Some(Line::Error {
            name: first.to_string(),
            why: why.replace('_', " "),
        });
    }
    let mut num = |k: &str| fields.remove(k)?.parse::<u64>().ok();
    let (median, min, max, samples) = (num("median")?, num("min")?, num("max")?, num("samples")?);
    Some(Line::Result(Sample {
        name: first.to_string(),
        median,
        min,
        max,
        samples,
        fields,
    }))
}

/// Everything one boot's run reported.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    pub tsc_hz: Option<u64>,
    /// Results in the order they came.
    pub results: Vec<Sample>,
    pub errors: Vec<(String, String)>,
    pub done: bool,
    /// Host wall time from spawning QEMU to the shell's first `$ `: set by
    /// the runner, not a guest line (see [`crate::boot`]).
    pub to_prompt: Option<Duration>,
}

impl Run {
    /// Adds one console line; returns true once `bench done` was seen.
    pub fn feed(&mut self, line: &str) -> bool {
        match parse_line(line) {
            Some(Line::TscHz(hz)) => self.tsc_hz = Some(hz),
            Some(Line::Result(s)) => self.results.push(s),
            Some(Line::Error { name, why }) => self.errors.push((name, why)),
            Some(Line::Done) => self.done = true,
            None => {}
        }
        self.done
    }

    /// The result named `name`, if reported.
    pub fn get(&self, name: &str) -> Option<&Sample> {
        self.results.iter().find(|s| s.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_line_with_extra_fields() {
        let l = parse_line(
            "bench pipe_tput_512 median=120 min=100 max=200 samples=5 unit=cycles mbps=8.9 write=512",
        );
        let Some(Line::Result(s)) = l else {
            panic!("not a result: {l:?}")
        };
        assert_eq!(s.name, "pipe_tput_512");
        assert_eq!((s.median, s.min, s.max, s.samples), (120, 100, 200, 5));
        assert_eq!(s.field::<f64>("mbps"), Some(8.9));
        assert_eq!(s.field::<String>("unit").as_deref(), Some("cycles"));
        assert_eq!(s.field::<u64>("missing"), None);
    }

    #[test]
    fn clock_error_done_and_noise() {
        assert_eq!(
            parse_line("bench tsc_hz=2596100000 source=uptime_100_ticks"),
            Some(Line::TscHz(2_596_100_000))
        );
        assert_eq!(
            parse_line("bench fork_exit_wait error=fork:_ENOMEM"),
            Some(Line::Error {
                name: "fork_exit_wait".into(),
                why: "fork: ENOMEM".into()
            })
        );
        assert_eq!(parse_line("bench done\r"), Some(Line::Done));
        // The shell's echo of the command, other output, a line missing fields.
        assert_eq!(parse_line("bench --cpus 2"), None);
        assert_eq!(parse_line("$ bench"), None);
        assert_eq!(parse_line("bench: unknown option -x"), None);
        assert_eq!(parse_line("bench x median=1 min=1"), None);
    }

    #[test]
    fn run_collects_until_done() {
        let mut run = Run::default();
        assert!(!run.feed("bench tsc_hz=1000"));
        assert!(!run.feed("bench null_syscall median=10 min=9 max=30 samples=1000 unit=cycles"));
        assert!(!run.feed("bench file_small error=open:_ENOSPC"));
        assert!(run.feed("bench done"));
        assert_eq!(run.tsc_hz, Some(1000));
        assert_eq!(run.get("null_syscall").map(|s| s.median), Some(10));
        assert_eq!(
            run.errors,
            vec![("file_small".into(), "open: ENOSPC".into())]
        );
    }
}
