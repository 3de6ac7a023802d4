//! Time and scheduling: sleep against uptime, yield, the process listing.

use ulib::abi::limits::NPROC;
use ulib::abi::syscall::{proc_state, ProcInfo};
use ulib::prelude::*;
use ulib::process::{self, proc_name};
use ulib::test::{errno, TestResult};
use ulib::{ensure, ensure_eq, fd, sys};

/// Ticks a 10-tick sleep may overrun (a loaded machine, TCG).
const SLACK: u64 = 500;

pub fn sleep_uptime() -> TestResult {
    let t0 = process::uptime();
    process::sleep(0).map_err(errno("sleep(0)"))?;
    process::sleep(10).map_err(errno("sleep(10)"))?;
    let slept = process::uptime() - t0;
    ensure!(
        (10..10 + SLACK).contains(&slept),
        "sleep(10) took {slept} ticks"
    );
    let t1 = process::uptime();
    ensure!(t1 >= t0 + 10, "uptime went from {t0} to {t1}");
    Ok(())
}

/// yield_cpu returns 0, alone and with another process competing.
pub fn yield_cpu() -> TestResult {
    let pid = process::spawn(|| {
        // SAFETY: no memory is involved.
        (0..200)
            .map(|_| unsafe { sys::yield_cpu() })
            .find(|&r| r != 0)
            .unwrap_or(0) as i32
    })
    .map_err(errno("fork"))?;
    for i in 0..1000 {
        // SAFETY: no memory is involved.
        let r = unsafe { sys::yield_cpu() };
        ensure_eq!(r, 0, "yield_cpu call {i}");
    }
    ensure_eq!(
        ulib::test::reap(pid)?,
        0,
        "the competing child's yield_cpu result"
    );
    Ok(())
}

/// ps lists the caller, running, and its two children (blocked on a pipe)
/// with their parent, name and a live state.
pub fn ps_lists_self_and_children() -> TestResult {
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let block = || {
        let _ = fd::close(w);
        let mut b = [0u8; 1];
        let _ = fd::read(r, &mut b);
        0
    };
    let kids = [process::spawn(block), process::spawn(block)];
    let mut rows = vec![ProcInfo::default(); NPROC];
    let listed = process::ps(&mut rows);
    let mut one = [ProcInfo::default(); 1];
    let first = process::ps(&mut one);
    let _ = (fd::close(w), fd::close(r));
    let reaped = process::wait_all();
    let kids = [
        kids[0].map_err(errno("fork"))?,
        kids[1].map_err(errno("fork"))?,
    ];
    let n = listed.map_err(errno("ps"))?;
    ensure!((3..=NPROC).contains(&n), "ps listed {n} processes");
    let rows = &rows[..n];
    ensure!(
        rows.windows(2).all(|p| p[0].pid < p[1].pid),
        "rows are not sorted by pid"
    );
    let me = process::getpid();
    let Some(own) = rows.iter().find(|p| p.pid == me) else {
        return Err(format!("ps does not list the caller (pid {me})"));
    };
    ensure_eq!(proc_name(own), "proctests", "the caller's name");
    ensure_eq!(own.state, proc_state::RUNNING, "the caller's state");
    for kid in kids {
        let Some(row) = rows.iter().find(|p| p.pid == kid) else {
            return Err(format!("ps does not list the child {kid}"));
        };
        ensure_eq!(row.ppid, me, "parent of child {kid}");
        ensure_eq!(
            proc_name(row),
            "proctests",
            "name of child {kid} (fork keeps the name)"
        );
        let live = [
            proc_state::SLEEPING,
            proc_state::RUNNABLE,
            proc_state::RUNNING,
        ];
        ensure!(
            live.contains(&row.state),
            "child {kid} is {}",
            proc_state::name(row.state)
        );
        ensure!(row.pages > 0, "child {kid} has no memory");
    }
    ensure_eq!(
        first.map_err(errno("ps with room for one"))?,
        1,
        "rows written into room for one"
    );
    ensure_eq!(reaped.len(), 2, "children reaped");
    Ok(())
}
