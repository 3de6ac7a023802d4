//! fork, exit and wait: statuses, trees of processes, many at once, orphans.

use ulib::prelude::*;
use ulib::process::{self, Fork, Pid};
use ulib::test::{errno, expect_errno, reap, TestResult};
use ulib::{ensure, ensure_eq, fd, sys};

/// `wait` reports exactly the int given to `exit`, not just its low byte.
pub fn fork_exit_status() -> TestResult {
    for status in [0, 1, 42, 255, 256, -7, 1_234_567, i32::MIN] {
        let pid = process::spawn(|| status).map_err(errno("fork"))?;
        ensure!(pid > 0, "fork returned pid {pid}");
        ensure_eq!(
            reap(pid)?,
            status,
            "status of a child that exited with {status}"
        );
    }
    Ok(())
}

/// The child's pid is what fork told the parent, and differs from it.
pub fn getpid_in_child() -> TestResult {
    let me = process::getpid();
    ensure!(me > 0, "getpid returned {me}");
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let pid = process::spawn(|| {
        let _ = fd::write_all(w, &process::getpid().to_le_bytes());
        0
    })
    .map_err(errno("fork"))?;
    let mut buf = [0u8; 4];
    let read = fd::read_exact(r, &mut buf);
    let _ = (fd::close(r), fd::close(w));
    ensure_eq!(reap(pid)?, 0, "child status");
    read.map_err(errno("read"))?;
    let child = i32::from_le_bytes(buf);
    ensure_eq!(child, pid, "child's getpid versus fork's result");
    ensure!(child != me, "child and parent share pid {me}");
    ensure_eq!(process::getpid(), me, "parent's pid after fork");
    Ok(())
}

/// `wait(null)` reaps without storing the status.
pub fn wait_null_status() -> TestResult {
    let pid = process::spawn(|| 5).map_err(errno("fork"))?;
    // SAFETY: a null status pointer asks the kernel not to store the status.
    let got = unsafe { sys::wait(core::ptr::null_mut()) };
    ensure_eq!(got, i64::from(pid), "wait(null)");
    Ok(())
}

pub fn wait_without_children() -> TestResult {
    let mut status = 77;
    // SAFETY: the kernel may write one int into `status`.
    let got = unsafe { sys::wait(&mut status) };
    expect_errno("wait with no children", got, Errno::ECHILD)?;
    ensure_eq!(status, 77, "status written by a failed wait");
    Ok(())
}

/// Depth of the process tree: 2^(DEPTH+1) - 1 processes.
const DEPTH: u32 = 4;

/// Node `id` of a binary tree (root 1, children 2id and 2id+1): forks its
/// children unless it is a leaf, checks they exit with their ids, and
/// returns its own id, or 1000 + id if a child went wrong.
fn tree_node(id: i32) -> i32 {
    if id >= 1 << DEPTH {
        return id;
    }
    let mut pending: Vec<(Pid, i32)> = Vec::new();
    for child in [2 * id, 2 * id + 1] {
        match process::spawn(|| tree_node(child)) {
            Ok(pid) => pending.push((pid, child)),
            Err(_) => return 1000 + id,
        }
    }
    for _ in 0..2 {
        match process::wait() {
            Ok((pid, status)) => match pending
                .iter()
                .position(|&(p, want)| p == pid && want == status)
            {
                Some(i) => {
                    pending.swap_remove(i);
                }
                None => return 1000 + id,
            },
            Err(_) => return 1000 + id,
        }
    }
    id
}

/// A tree five levels deep; every process checks its children's statuses.
pub fn fork_tree() -> TestResult {
    let pid = process::spawn(|| tree_node(1)).map_err(errno("fork"))?;
    let status = reap(pid)?;
    ensure!(
        status == 1,
        "the tree's root exited with {status} (1000 + n: node n saw a wrong child status)"
    );
    Ok(())
}

/// Processes alive at once in `many_children`.
const MANY: usize = 100;

/// 100 children alive at once (each blocks on a pipe until all exist), each
/// exiting with its index % 256; all reaped with the right statuses.
pub fn many_children() -> TestResult {
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let mut pids: Vec<Pid> = Vec::with_capacity(MANY);
    let mut fork_error = None;
    for i in 0..MANY {
        let spawned = process::spawn(|| {
            let _ = fd::close(w);
            let mut b = [0u8; 1];
            let _ = fd::read(r, &mut b);
            (i % 256) as i32
        });
        match spawned {
            Ok(pid) => pids.push(pid),
            Err(e) => {
                fork_error = Some((i, e));
                break;
            }
        }
    }
    // Closing the last write end wakes every child with end of file.
    let _ = (fd::close(w), fd::close(r));
    let mut seen = vec![false; pids.len()];
    for _ in 0..pids.len() {
        let (pid, status) = process::wait().map_err(errno("wait"))?;
        let Some(i) = pids.iter().position(|&p| p == pid) else {
            return Err(format!("wait returned pid {pid}, not one of the children"));
        };
        ensure!(!seen[i], "pid {pid} reaped twice");
        seen[i] = true;
        ensure_eq!(status, (i % 256) as i32, "status of child {i} (pid {pid})");
    }
    if let Some((i, e)) = fork_error {
        return Err(format!("fork of child {i} failed: -{e:?}"));
    }
    // SAFETY: a null status pointer stores nothing.
    expect_errno(
        "wait after reaping all",
        unsafe { sys::wait(core::ptr::null_mut()) },
        Errno::ECHILD,
    )
}

/// A child that exits before its own child: the grandchild goes on running
/// (the kernel hands it to init), and is not ours to wait for.
pub fn orphan_keeps_running() -> TestResult {
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let pid = process::spawn(|| {
        let orphan = process::fork();
        if orphan == Ok(Fork::Child) {
            let _ = process::sleep(5);
            let _ = fd::write_all(w, b"orphan ok");
            process::exit(0);
        }
        i32::from(orphan.is_err())
    })
    .map_err(errno("fork"))?;
    let _ = fd::close(w);
    let status = reap(pid)?;
    let mut out = Vec::new();
    let read = fd::read_to_end(r, &mut out);
    let _ = fd::close(r);
    ensure_eq!(
        status,
        0,
        "status of the orphan's parent (1: its fork failed)"
    );
    read.map_err(errno("read"))?;
    ensure_eq!(
        String::from_utf8_lossy(&out),
        "orphan ok",
        "what the orphan wrote"
    );
    // SAFETY: a null status pointer stores nothing.
    expect_errno(
        "wait for a grandchild",
        unsafe { sys::wait(core::ptr::null_mut()) },
        Errno::ECHILD,
    )
}
