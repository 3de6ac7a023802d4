//! Isolation: pids, ps, kill/wait/setpgid, files and hostnames stay inside
//! their container.

use ulib::abi::container::{SPEC_ALLOW_LEAVE, SPEC_PID_HOST};
use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_WRONLY};
use ulib::container::{self, Spec};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::test::{errno, TestResult};
use ulib::{ensure, ensure_eq};

use crate::common::{block_until_eof, inside, members_of, ps, read_line, report, Ctr, Member};

/// Inside a fresh container pids start at 1, fork numbers on from there,
/// a child forked inside stays inside, and ps lists only the container's
/// processes (not another container's sleeper); the host sees them with
/// their container and container pids.
pub fn pids_and_ps() -> TestResult {
    let a = Ctr::new(Spec::new())?;
    let b = Ctr::new(Spec::new())?;
    let mut other = Member::spawn(b.id, |cmd, _| block_until_eof(cmd))?;
    let cid = a.id;
    inside(cid, move || {
        ensure_eq!(
            process::getpid(),
            1,
            "getpid() after joining a fresh container"
        );
        ensure_eq!(container::getcid(), cid, "getcid() after joining");
        let (r, w) = fd::pipe().map_err(errno("pipe"))?;
        let mut kids = Vec::new();
        for _ in 0..2 {
            match process::fork().map_err(errno("fork"))? {
                Fork::Child => {
                    let _ = fd::close(w);
                    let ok = container::getcid() == cid;
                    block_until_eof(r);
                    process::exit(if ok { 0 } else { 3 });
                }
                Fork::Parent(p) => kids.push(p),
            }
        }
        let rows = ps();
        let _ = (fd::close(w), fd::close(r));
        let statuses = process::wait_all();
        ensure_eq!(kids, [2, 3], "pids fork returned inside the container");
        let rows = rows?;
        let mut seen: Vec<(i32, i32, i32)> =
            rows.iter().map(|p| (p.pid, p.container, p.vpid)).collect();
        seen.sort_unstable();
        ensure_eq!(
            seen,
            [(1, cid, 1), (2, cid, 2), (3, cid, 3)],
            "ps inside (pid, container, vpid)"
        );
        ensure!(
            statuses.iter().all(|&(_, s)| s == 0),
            "a child forked inside was not in the container: {statuses:?}"
        );
        Ok(())
    })?;
    // The host's view of the other container's member.
    let row = ps()?.into_iter().find(|p| p.pid == other.pid);
    ensure!(
        row.is_some_and(|r| r.container == b.id && r.vpid == 1),
        "the host's ps shows the member {} as {row:?}, want container {} vpid 1",
        other.pid,
        b.id
    );
    ensure_eq!(other.finish()?, 0, "the member's status");
    Ok(())
}

/// `--pid=host`: a member keeps its host pid.
pub fn pid_host() -> TestResult {
    let a = Ctr::new(Spec::new().flags(SPEC_PID_HOST))?;
    let cid = a.id;
    inside_keeping_pid(cid)
}

fn inside_keeping_pid(cid: i32) -> TestResult {
    ulib::test::in_child(move || {
        let before = process::getpid();
        container::join(cid).map_err(errno("join_container"))?;
        ensure_eq!(
            process::getpid(),
            before,
            "getpid() in a --pid=host container"
        );
        let me = ps()?.into_iter().find(|p| p.pid == before);
        ensure!(
            me.is_some_and(|p| p.vpid == before && p.container == cid),
            "ps in a --pid=host container shows the caller as {me:?}"
        );
        Ok(())
    })
}

/// Neither a process in another container nor one with no children can
/// kill, group or wait for a process of another container.
pub fn kill_wait_setpgid_across() -> TestResult {
    let a = Ctr::new(Spec::new())?;
    let b = Ctr::new(Spec::new().flags(SPEC_ALLOW_LEAVE))?;
    let victim = Member::spawn(a.id, |cmd, _| block_until_eof(cmd))?;
    let vp = victim.pid;
    inside(b.id, move || {
        ensure_eq!(
            process::kill(vp),
            Err(Errno::ESRCH),
            "kill(host pid {vp}) from another container"
        );
        ensure_eq!(
            process::setpgid(vp, 0),
            Err(Errno::ESRCH),
            "setpgid({vp}, 0) from another container"
        );
        ensure_eq!(
            process::wait().map(drop),
            Err(Errno::ECHILD),
            "wait() with no children inside"
        );
        // A child that leaves for the host is no longer this process's to wait for.
        let (r, w) = fd::pipe().map_err(errno("pipe"))?;
        match process::fork().map_err(errno("fork"))? {
            Fork::Child => {
                let _ = fd::close(r);
                let why = match container::leave() {
                    Ok(()) => String::from("left"),
                    Err(e) => format!("leave_container: {}", e.description()),
                };
                report(w, &why);
                process::exit(0);
            }
            Fork::Parent(_) => {}
        }
        let _ = fd::close(w);
        let said = read_line(r)?;
        let _ = fd::close(r);
        ensure_eq!(said.as_deref(), Some("left"), "the child's leave");
        ensure_eq!(
            process::wait().map(drop),
            Err(Errno::ECHILD),
            "wait() for a child that left for the host"
        );
        Ok(())
    })?;
    // The victim lived through all of it; the host may signal it.
    ensure!(members_of(a.id)?.contains(&vp), "the victim {vp} is gone");
    ensure_eq!(process::kill(vp), Ok(()), "kill({vp}) from the host");
    drop(victim);
    Ok(())
}

const PROBE_FILE: &str = "/ctrprobe_f";

/// A file written in a container is invisible to the host and to another
/// container, visible to later processes of the same container, listed by
/// diff, and gone with the container.
pub fn files_isolated() -> TestResult {
    let _ = fd::unlink(PROBE_FILE);
    let a = Ctr::new(Spec::new())?;
    let b = Ctr::new(Spec::new())?;
    inside(a.id, || {
        let f =
            fd::open(PROBE_FILE, O_WRONLY | O_CREATE).map_err(errno("create in the container"))?;
        let w = fd::write_all(f, b"from a");
        let _ = fd::close(f);
        w.map_err(errno("write"))
    })?;
    ensure_eq!(
        fd::open(PROBE_FILE, O_RDONLY).map(drop),
        Err(Errno::ENOENT),
        "the host opening a file made in container {}",
        a.id
    );
    inside(b.id, || {
        ensure_eq!(
            fd::open(PROBE_FILE, O_RDONLY).map(drop),
            Err(Errno::ENOENT),
            "another container opening it"
        );
        Ok(())
    })?;
    inside(a.id, || {
        let f = fd::open(PROBE_FILE, O_RDONLY).map_err(errno("reopen in the same container"))?;
        let mut v = Vec::new();
        let r = fd::read_to_end(f, &mut v);
        let _ = fd::close(f);
        r.map_err(errno("read"))?;
        ensure_eq!(v.as_slice(), b"from a", "its content");
        Ok(())
    })?;
    let diff = container::diff(a.id).map_err(errno("container_diff"))?;
    let diff = String::from_utf8_lossy(&diff).into_owned();
    ensure!(
        diff.lines()
            .any(|l| l.starts_with("A ") && l.ends_with("ctrprobe_f")),
        "diff of container {} does not list A ctrprobe_f: {diff:?}",
        a.id
    );
    let id = a.id;
    drop(a);
    let again = Ctr::new(Spec::new().id(id))?;
    inside(again.id, || {
        ensure_eq!(
            fd::open(PROBE_FILE, O_RDONLY).map(drop),
            Err(Errno::ENOENT),
            "a new container with the destroyed one's id opening its file"
        );
        Ok(())
    })
}

/// Each container has its own hostname; the host's does not change.
pub fn hostname_per_container() -> TestResult {
    let host = container::hostname().map_err(errno("gethostname on the host"))?;
    let a = Ctr::new(Spec::new())?;
    let b = Ctr::new(Spec::new())?;
    for (c, name) in [(&a, "alpha"), (&b, "beta")] {
        inside(c.id, move || {
            container::set_hostname(name).map_err(errno("sethostname"))?;
            ensure_eq!(
                container::hostname().map_err(errno("gethostname"))?,
                name,
                "hostname after setting it"
            );
            Ok(())
        })?;
    }
    inside(a.id, || {
        ensure_eq!(
            container::hostname().map_err(errno("gethostname"))?,
            "alpha",
            "hostname seen by a later process"
        );
        let long = "x".repeat(ulib::abi::container::HOSTNAME_LEN);
        ensure!(
            container::set_hostname(&long).is_err(),
            "a {}-byte hostname was accepted",
            long.len()
        );
        let max = "y".repeat(ulib::abi::container::HOSTNAME_LEN - 1);
        container::set_hostname(&max).map_err(errno("sethostname of the longest name"))?;
        ensure_eq!(
            container::hostname().map_err(errno("gethostname"))?,
            max,
            "the longest hostname"
        );
        container::set_hostname("alpha").map_err(errno("sethostname"))
    })?;
    ensure_eq!(
        container::field_str(&b.info()?.hostname),
        "beta",
        "containers() shows b's hostname"
    );
    ensure_eq!(
        container::hostname().map_err(errno("gethostname"))?,
        host,
        "the host's hostname"
    );
    Ok(())
}
