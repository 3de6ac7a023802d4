//! The checker's side: reads every record until the report pipe ends, and
//! afterwards looks for anything the run left behind.

use ulib::abi::limits::NPROC;
use ulib::abi::syscall::{proc_state, ProcInfo};
use ulib::container::{self, Cid};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Pid};
use ulib::stress::{Ledger, Stream};

/// Reads records from `from` into `ledger` until every write end is closed.
pub fn collect(from: Fd, ledger: &mut Ledger) -> Result<(), String> {
    let mut stream = Stream::default();
    let mut buf = vec![0u8; 4096];
    let mut records = Vec::new();
    loop {
        let n = fd::read(from, &mut buf)
            .map_err(|e| format!("read the reports: {}", e.description()))?;
        if n == 0 {
            break;
        }
        let fed = stream.feed(&buf[..n], &mut records);
        for r in records.drain(..) {
            ledger.record(&r);
        }
        fed.map_err(|e| format!("the report pipe carried {e}"))?;
    }
    if stream.leftover() != 0 {
        return Err(format!(
            "the reports ended mid-record ({} bytes)",
            stream.leftover()
        ));
    }
    Ok(())
}

/// What was there before the run: the processes and containers.
pub struct Before {
    procs: usize,
    rows: Option<Vec<ProcInfo>>,
    containers: Vec<Cid>,
}

impl Before {
    pub fn take() -> Result<Before, String> {
        let (procs, rows) = ps()?;
        Ok(Before {
            procs,
            rows,
            containers: containers()?,
        })
    }

    /// `Ok` if the processes and containers are what they were (the
    /// caller's reaped children aside).
    pub fn unchanged(&self) -> Result<(), String> {
        let mut why = Vec::new();
        let now = containers()?;
        let extra: Vec<String> = now
            .iter()
            .filter(|id| !self.containers.contains(id))
            .map(|id| format!("{id}"))
            .collect();
        if !extra.is_empty() {
            why.push(format!("containers left: {}", extra.join(", ")));
        }
        let (procs, rows) = ps()?;
        match (&self.rows, rows) {
            (Some(before), Some(after)) => {
                let known: Vec<Pid> = before.iter().map(|r| r.pid).collect();
                let left: Vec<String> = after
                    .iter()
                    .filter(|r| !known.contains(&r.pid))
                    .map(|r| {
                        format!(
                            "pid {} ({}, container {}, {})",
                            r.pid,
                            process::proc_name(r),
                            r.container,
                            proc_state::name(r.state)
                        )
                    })
                    .collect();
                if !left.is_empty() {
                    why.push(format!("processes left: {}", left.join(", ")));
                }
            }
            _ => {
                println!(
                    "stress-sched: note: ps's rows are unreadable (they do not match the {}-byte \
                     ProcInfo: the kernel writes another layout); comparing process counts only",
                    core::mem::size_of::<ProcInfo>()
                );
            }
        }
        if procs > self.procs {
            why.push(format!(
                "{} processes are listed, {} were before the run",
                procs, self.procs
            ));
        }
        if why.is_empty() {
            Ok(())
        } else {
            Err(why.join("; "))
        }
    }
}

fn containers() -> Result<Vec<Cid>, String> {
    Ok(container::containers()
        .map_err(|e| format!("containers: {}", e.description()))?
        .iter()
        .map(|c| c.id)
        .collect())
}

/// The number of processes listed, and the rows if they are readable: they
/// must hold the caller itself, under its pid and name.
fn ps() -> Result<(usize, Option<Vec<ProcInfo>>), String> {
    let mut rows = vec![ProcInfo::default(); NPROC];
    let n = process::ps(&mut rows).map_err(|e| format!("ps: {}", e.description()))?;
    rows.truncate(n.min(NPROC));
    let me = process::getpid();
    let readable = rows
        .iter()
        .any(|r| r.pid == me && process::proc_name(r) == "stress-sched");
    Ok((n, readable.then_some(rows)))
}
