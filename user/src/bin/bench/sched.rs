//! Scheduler benchmarks: yield throughput and wakeup-to-run latency.
//!
//! - `yield_1` / `yield_cpus`: N processes (1, then CPUS) each time 100
//!   batches of 10 `yield_cpu` calls after 100 warm-up yields; the row is
//!   cycles per yield (median, min, max over every batch of every
//!   process); `per_s` is the aggregate yields per second (N × 1000 yields
//!   over the slowest process's time).
//! - `wakeup_idle` / `wakeup_loaded`: a child blocked in `read` on a pipe;
//!   the parent writes its TSC, the child reads the TSC as soon as `read`
//!   returns and sends the difference back. The parent spins 200,000
//!   cycles before each write so the child is asleep, not still on its way
//!   into `read`. 20 warm-ups, 500 samples; `loaded` runs CPUS CPU-bound
//!   hogs meanwhile. A `_p99` row carries the 99th percentile in its
//!   median field.

use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Fork};

use crate::benches::{err, reap, tsc};
use crate::stats::{report, samples, Summary};

const YIELD_BATCHES: usize = 100;
const YIELD_BATCH: u64 = 10;

fn read_u64(f: Fd) -> Option<u64> {
    let mut b = [0u8; 8];
    (fd::read(f, &mut b) == Ok(8)).then(|| u64::from_le_bytes(b))
}

fn write_u64(f: Fd, v: u64) -> bool {
    fd::write(f, &v.to_le_bytes()) == Ok(8)
}

/// `n` processes yielding; see the module header.
pub fn yield_tput(name: &str, n: usize, hz: u64) -> Result<(), String> {
    let (r, w) = fd::pipe().map_err(|e| err("pipe", e))?;
    for _ in 0..n {
        match process::fork().map_err(|e| err("fork", e))? {
            Fork::Child => {
                let _ = fd::close(r);
                for _ in 0..100 {
                    process::yield_cpu();
                }
                let mut s = [0u64; YIELD_BATCHES];
                let start = tsc();
                for v in s.iter_mut() {
                    let t0 = tsc();
                    for _ in 0..YIELD_BATCH {
                        process::yield_cpu();
                    }
                    *v = tsc() - t0;
                }
                let total = tsc() - start;
                let ok = s.iter().all(|&v| write_u64(w, v)) && write_u64(w, total);
                process::exit(if ok { 0 } else { 1 })
            }
            Fork::Parent(_) => {}
        }
    }
    let _ = fd::close(w);
    let mut all = samples(n * YIELD_BATCHES);
    let mut slowest = 0;
    let mut short = false;
    for _ in 0..n {
        for _ in 0..YIELD_BATCHES {
            match read_u64(r) {
                Some(v) => all.push(v),
                None => short = true,
            }
        }
        slowest = slowest.max(read_u64(r).unwrap_or(0));
    }
    let _ = fd::close(r);
    for _ in 0..n {
        reap()?;
    }
    if short || slowest == 0 {
        return Err("a yielding child sent too little".to_string());
    }
    let yields = n as u64 * YIELD_BATCHES as u64 * YIELD_BATCH;
    let per_s = yields * hz / slowest;
    report(
        name,
        &Summary::of(&mut all).per(YIELD_BATCH),
        &format!("procs={n} per_s={per_s}"),
    );
    Ok(())
}

/// Wakeup-to-run latency with `hogs` CPU-bound processes running; see the module header.
pub fn wakeup(name: &str, hogs: usize) -> Result<(), String> {
    let mut hog_pids = Vec::new();
    for _ in 0..hogs {
        match process::fork().map_err(|e| err("fork", e))? {
            Fork::Child => loop {
                core::hint::spin_loop();
            },
            Fork::Parent(pid) => hog_pids.push(pid),
        }
    }
    let r = wakeup_samples();
    for &pid in &hog_pids {
        let _ = process::kill(pid);
    }
    for _ in &hog_pids {
        let _ = process::wait();
    }
    let mut s = r?;
    let summary = Summary::of(&mut s);
    let p99 = s[s.len() * 99 / 100];
    report(name, &summary, &format!("hogs={hogs}"));
    report(
        &format!("{name}_p99"),
        &Summary {
            median: p99,
            min: summary.min,
            max: summary.max,
            samples: summary.samples,
        },
        &format!("hogs={hogs}"),
    );
    Ok(())
}

fn wakeup_samples() -> Result<Vec<u64>, String> {
    let (a_r, a_w) = fd::pipe().map_err(|e| err("pipe", e))?;
    let (b_r, b_w) = fd::pipe().map_err(|e| err("pipe", e))?;
    match process::fork().map_err(|e| err("fork", e))? {
        Fork::Child => {
            let _ = fd::close(a_w);
            let _ = fd::close(b_r);
            while let Some(sent) = read_u64(a_r) {
                let now = tsc();
                if !write_u64(b_w, now.wrapping_sub(sent)) {
                    break;
                }
            }
            process::exit(0)
        }
        Fork::Parent(_) => {
            let _ = fd::close(a_r);
            let _ = fd::close(b_w);
        }
    }
    let mut s = samples(500);
    let mut failed = false;
    for i in 0..520 {
        let t = tsc();
        while tsc() - t < 200_000 {
            core::hint::spin_loop();
        }
        if !write_u64(a_w, tsc()) {
            failed = true;
            break;
        }
        match read_u64(b_r) {
            Some(d) if i >= 20 => s.push(d),
            Some(_) => {}
            None => {
                failed = true;
                break;
            }
        }
    }
    let _ = fd::close(a_w);
    let _ = fd::close(b_r);
    reap()?;
    if failed {
        return Err("wakeup round failed".to_string());
    }
    Ok(s)
}
