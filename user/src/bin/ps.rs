//! ps: lists the processes the caller can see, one line each, by pid.
//!
//! `ps` prints a header and one row per process:
//!
//! ```text
//!   PID  PPID CTR STATE  CPU    MEM  VPID NAME
//!     1     0   0 sleep    0     64     - init
//!    12     3   1 run      1     80     1 sh
//! ```
//!
//! PID and PPID are in the caller's numbering; CTR is the container (0:
//! the host), STATE one of embryo, sleep, runble, run, zombie; CPU the CPU
//! it runs or last ran on (`-`: never ran); MEM its user memory in KiB
//! (pages * 4). VPID is a container process's pid in its own container's
//! numbering (`-` for host processes): on the host the two differ; inside
//! a container PID already is that number and the column repeats it (one
//! format everywhere, so scripts read it the same). Arguments are refused.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::abi::limits::NPROC;
use ulib::abi::syscall::{proc_state, ProcInfo};
use ulib::prelude::*;
use ulib::process;

entry!(main);

fn main(args: Args) -> i32 {
    if args.len() > 1 {
        eprintln!("usage: ps");
        return 2;
    }
    let mut rows = vec![ProcInfo::default(); NPROC];
    let n = match process::ps(&mut rows) {
        Ok(n) => n.min(rows.len()),
        Err(e) => {
            eprintln!("ps: {}", e.description());
            return 1;
        }
    };
    println!(
        "{}",
        row(
            "PID",
            "PPID",
            "CTR",
            "STATE",
            "CPU",
            "MEM",
            Some("VPID"),
            "NAME"
        )
    );
    for p in &rows[..n] {
        let cpu = if p.cpu < 0 {
            "-".to_string()
        } else {
            p.cpu.to_string()
        };
        let kib = u64::from(p.pages) * 4;
        let vpid = match p.container {
            0 => Some("-".to_string()),
            _ => Some(p.vpid.to_string()),
        };
        println!(
            "{}",
            row(
                &p.pid.to_string(),
                &p.ppid.to_string(),
                &p.container.to_string(),
                proc_state::name(p.state),
                &cpu,
                &kib.to_string(),
                vpid.as_deref(),
                process::proc_name(p),
            )
        );
    }
    0
}

/// One line of the table, columns aligned (VPID only when given).
#[allow(clippy::too_many_arguments)]
fn row(
    pid: &str,
    ppid: &str,
    ctr: &str,
    state: &str,
    cpu: &str,
    mem: &str,
    vpid: Option<&str>,
    name: &str,
) -> String {
    match vpid {
        Some(v) => {
            format!("{pid:>5} {ppid:>5} {ctr:>3} {state:<6} {cpu:>3} {mem:>6} {v:>5} {name}")
        }
        None => format!("{pid:>5} {ppid:>5} {ctr:>3} {state:<6} {cpu:>3} {mem:>6} {name}"),
    }
}
