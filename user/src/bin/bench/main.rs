//! bench: the benchmarks of BASELINES.md (xv6 comparison), timed in user
//! space with `rdtsc` (no serialising instruction, 64-bit deltas).
//!
//! `bench [--cpus N] [NAME...]`: runs every benchmark whose name starts
//! with one of the NAMEs (all when none is given); `--cpus N` sets the
//! child count of the scaling benchmarks' second run (default 1, in which
//! case that run is skipped: it would repeat the first).
//!
//! Output, one machine-readable line each (parsed by `perf/`'s runner):
//! - `bench tsc_hz=N` (TSC cycles over 100 ticks after a tick edge), then
//!   `bench rdtsc_overhead median=...` (two back-to-back reads);
//! - `bench NAME median=N min=N max=N samples=N unit=cycles [key=value...]`
//!   per benchmark (throughput adds `bytes=N` and the call size as
//!   `write=N` or `read=N`, pipes `mbps=X.Y` too; fork adds the process size
//!   `proc_bytes=N`: the break above the text base, from `sbrk(0)`);
//! - `bench NAME error=WHY` when a benchmark could not run;
//! - `bench done` at the end.
//!
//! Names: `null_syscall`, `fork_exit_wait`, `fork_exec_wait`, `pipe_rtt`,
//! `pipe_tput_512`, `pipe_tput_4096`, `file_small`, `file_write_4m`,
//! `file_read_4m`, `file_read_2m_cached` (`files.rs`),
//! `scale_{sleep,yield,compute}_{1,cpus}`; the container ones (see
//! `containers.rs`): `ctr_cycle`, `ls_host_100`, `ls_merged_100`, `copy_up_1m`.
//! `traced_null_syscall` and `traced_pipe_rtt` each print an `untraced_`
//! and a `traced_` row, timed in alternating blocks of one boot (see
//! `trace_cost.rs`).
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

mod benches;
mod containers;
mod files;
mod sched;
mod stats;
mod trace_cost;

use ulib::prelude::*;

entry!(main);

/// What the command line asked for.
pub struct Options {
    /// Children of the scaling benchmarks' second run.
    pub cpus: usize,
    /// Name prefixes selecting benchmarks; empty: all.
    pub names: Vec<String>,
}

impl Options {
    /// True if benchmark `name` was asked for.
    pub fn wants(&self, name: &str) -> bool {
        self.names.is_empty() || self.names.iter().any(|n| name.starts_with(n.as_str()))
    }
}

fn parse(args: Args) -> Result<Options, String> {
    let mut opts = Options {
        cpus: 1,
        names: Vec::new(),
    };
    let mut args = args.skip(1);
    while let Some(a) = args.next() {
        if a == "--cpus" {
            let v = args.next().ok_or("--cpus needs a number")?;
            opts.cpus = match v.parse::<usize>() {
                Ok(n) if (1..=64).contains(&n) => n,
                _ => return Err(format!("--cpus {v}: not a number in 1..=64")),
            };
        } else if a.starts_with('-') {
            return Err(format!("unknown option {a}"));
        } else {
            opts.names.push(a.to_string());
        }
    }
    Ok(opts)
}

fn main(args: Args) -> i32 {
    let opts = match parse(args) {
        Ok(o) => o,
        Err(why) => {
            eprintln!("bench: {why}");
            eprintln!("usage: bench [--cpus N] [NAME...]");
            return 2;
        }
    };
    benches::run_all(&opts);
    println!("bench done");
    0
}
