//! Limits and accounting: the pids limit, the page limit, the deny set,
//! and the usage counters.

use core::fmt::Write;

use ulib::abi::container::{ContainerSpec, UPDATE_DENY, UPDATE_MAX_PAGES};
use ulib::container::{self, parse_deny, Spec};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::sys;
use ulib::test::{errno, TestResult};
use ulib::{ensure, ensure_eq};

use crate::common::{block_until_eof, inside, report, Ctr, Member};

const PIDS_LIMIT: u32 = 8;

/// A fork bomb in a container stops at its pids limit with EAGAIN while
/// the host keeps forking.
pub fn fork_bomb_stops_at_pids_limit() -> TestResult {
    let c = Ctr::new(Spec::new().max_procs(PIDS_LIMIT))?;
    let mut bomb = Member::spawn(c.id, |cmd, rep| {
        let mut forked = 0;
        let err = loop {
            match process::fork() {
                Ok(Fork::Child) => process::exit(block_until_eof(cmd)),
                Ok(Fork::Parent(_)) => forked += 1,
                Err(e) => break e,
            }
            if forked > 2 * PIDS_LIMIT {
                break Errno::EIO;
            }
        };
        report(rep, &format!("{forked} {err:?}"));
        block_until_eof(cmd);
        process::wait_all();
        0
    })?;
    let said = bomb.line()?;
    let info = c.info()?;
    let host_fork = ulib::test::status_of(|| 0);
    let status = bomb.finish()?;
    ensure_eq!(
        said,
        format!("{} EAGAIN", PIDS_LIMIT - 1),
        "forks before the limit and the error"
    );
    ensure_eq!(info.procs, PIDS_LIMIT, "live processes at the limit");
    ensure_eq!(
        host_fork?,
        0,
        "the host's fork while the container is at its limit"
    );
    ensure_eq!(status, 0, "the bomb's status");
    Ok(())
}

/// Pages a hog may grow past what it has when the limit is set.
const HEADROOM: u64 = 64;

/// A memory hog stops at its page limit with ENOMEM (not a fault), and the
/// container is never charged past it.
pub fn memory_hog_stops_at_page_limit() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    let mut hog = Member::spawn(c.id, |cmd, rep| {
        let mut b = [0u8; 1];
        if fd::read(cmd, &mut b) != Ok(1) {
            return 1;
        }
        // Room for the report, taken before the heap's neighbour fills up.
        let mut msg = String::with_capacity(64);
        let mut pages = 0u64;
        let err = loop {
            match process::sbrk(4096) {
                Ok(p) => {
                    // SAFETY: sbrk just mapped these 4096 bytes for this process.
                    unsafe { p.write_bytes(0x5a, 4096) };
                    pages += 1;
                }
                Err(e) => break e,
            }
            if pages > 4 * HEADROOM {
                break Errno::EIO;
            }
        };
        let _ = write!(msg, "{pages} {err:?}");
        report(rep, &msg);
        block_until_eof(cmd);
        0
    })?;
    let before = c.info()?.pages;
    ensure!(before > 0, "a container with a process is charged 0 pages");
    let limit = before + HEADROOM;
    let spec = Spec::new().flags(UPDATE_MAX_PAGES).max_pages(limit).build();
    container::update(c.id, &spec).map_err(errno("update_container(max_pages)"))?;
    hog.go()?;
    let said = hog.line()?;
    let at_limit = c.info()?;
    ensure_eq!(hog.finish()?, 0, "the hog's status");
    let (grown, err) = said.split_once(' ').unwrap_or((said.as_str(), ""));
    ensure_eq!(
        err,
        "ENOMEM",
        "the error past the limit (after {grown} pages)"
    );
    let grown: u64 = grown.parse().unwrap_or(u64::MAX);
    ensure!(
        (HEADROOM / 2..=HEADROOM).contains(&grown),
        "the hog grew {grown} pages under a limit {HEADROOM} above its {before}"
    );
    ensure!(
        at_limit.pages <= limit && at_limit.max_pages == limit,
        "charged {} pages against a limit of {limit} (listed {})",
        at_limit.pages,
        at_limit.max_pages
    );
    Ok(())
}

/// A denied call returns EPERM, is counted in all and per call, and an
/// update lifting the deny set lets it through again.
pub fn denied_call_is_eperm_and_counted() -> TestResult {
    let deny = parse_deny("uptime,mkdir")?;
    let c = Ctr::new(Spec::new().deny(deny))?;
    ensure_eq!(c.info()?.deny, deny, "the listed deny set");
    inside(c.id, || {
        for i in 0..3 {
            // SAFETY: uptime touches no memory.
            let r = unsafe { sys::uptime() };
            ensure_eq!(r, Errno::EPERM.as_return(), "denied uptime, call {i}");
        }
        ensure_eq!(fd::mkdir("/ctrprobe_d"), Err(Errno::EPERM), "denied mkdir");
        ensure!(process::getpid() == 1, "getpid (not denied) works");
        Ok(())
    })?;
    let info = c.info()?;
    ensure_eq!(info.denied, 4, "denied calls in all");
    ensure_eq!(
        info.denied_by_call[ulib::sys::nr::uptime],
        3,
        "denied uptime calls"
    );
    ensure_eq!(
        info.denied_by_call[ulib::sys::nr::mkdir],
        1,
        "denied mkdir calls"
    );
    let lift = ContainerSpec {
        flags: UPDATE_DENY,
        ..ContainerSpec::default()
    };
    container::update(c.id, &lift).map_err(errno("update_container(deny = none)"))?;
    inside(c.id, || {
        // SAFETY: uptime touches no memory.
        let r = unsafe { sys::uptime() };
        ensure!(r >= 0, "uptime after the deny set was lifted: {r}");
        Ok(())
    })?;
    ensure_eq!(c.info()?.denied, 4, "denied calls after lifting");
    Ok(())
}

/// Processes that ran, allocated, forked and exited leave their container
/// charged nothing, with no processes and no open files.
pub fn usage_returns_to_zero() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    inside(c.id, || {
        for _ in 0..3 {
            let status = ulib::test::status_of(|| {
                let v = vec![7u8; 256 * 1024];
                let (r, w) = match fd::pipe() {
                    Ok(p) => p,
                    Err(_) => return 2,
                };
                let _ = (fd::close(r), fd::close(w));
                i32::from(v.iter().any(|&b| b != 7))
            })?;
            ensure_eq!(status, 0, "an allocating child's status");
        }
        Ok(())
    })?;
    let info = c.info()?;
    ensure_eq!(
        (info.procs, info.pages, info.open_files),
        (0, 0, 0),
        "(procs, pages, open files) once all exited"
    );
    ensure!(
        info.switches > 0 && info.cycles > 0,
        "no cycles or switches counted: {} {}",
        info.cycles,
        info.switches
    );
    Ok(())
}

/// Cycles and switches grow while a member runs; the files it opened
/// inside are counted.
pub fn counters_move() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    let mut m = Member::spawn(c.id, |cmd, rep| {
        // Two files opened inside, held until the end.
        let Ok((_r, _w)) = fd::pipe() else {
            report(rep, "pipe failed");
            return 1;
        };
        let mut b = [0u8; 1];
        while fd::read(cmd, &mut b) == Ok(1) {
            let t = process::uptime();
            while process::uptime() < t + 5 {
                core::hint::spin_loop();
            }
            // The command byte may arrive before the member blocks on it,
            // and a lone spinner is never switched out, so nothing above
            // need switch it in inside the container: a sleep does.
            let _ = process::sleep(1);
            report(rep, "spun");
        }
        0
    })?;
    let before = c.info()?;
    m.go()?;
    let said = m.line()?;
    let after = c.info()?;
    ensure_eq!(m.finish()?, 0, "the member's status");
    ensure_eq!(said, "spun", "the member's report");
    ensure!(
        after.cycles > before.cycles,
        "cycles did not grow: {} -> {}",
        before.cycles,
        after.cycles
    );
    ensure!(
        after.switches > before.switches,
        "switches did not grow: {} -> {}",
        before.switches,
        after.switches
    );
    // The member opened a pipe inside (and holds the pipes and console it came with).
    ensure!(
        after.open_files >= 2,
        "open files of a member holding a pipe it opened inside: {}",
        after.open_files
    );
    ensure_eq!(before.procs, 1, "processes");
    Ok(())
}
