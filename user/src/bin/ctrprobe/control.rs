//! Control: what a container's processes may not do, leaving, the
//! freezer, and destroying containers whatever their processes are doing.

use ulib::abi::container::{container_state, ContainerSpec, SPEC_ALLOW_LEAVE, UPDATE_CPU_WEIGHT};
use ulib::abi::syscall::proc_state;
use ulib::container::{self, Spec};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Fork, Pid};
use ulib::sys;
use ulib::test::{errno, expect_errno, TestResult};
use ulib::{ensure, ensure_eq};

use crate::common::{block_until_eof, inside, members_of, ps, report, Ctr, Member};

/// Every management call from inside a container is EPERM; containers()
/// shows only the caller's own container.
pub fn management_inside_is_eperm() -> TestResult {
    let a = Ctr::new(Spec::new())?;
    let b = Ctr::new(Spec::new())?;
    let (me, other) = (a.id, b.id);
    inside(me, move || {
        let spec = ContainerSpec {
            flags: UPDATE_CPU_WEIGHT,
            cpu_weight: 5,
            ..ContainerSpec::default()
        };
        let create = ContainerSpec::default();
        // SAFETY: the calls only read `spec`/`create` (or nothing).
        let calls: [(&str, i64); 14] = unsafe {
            [
                (
                    "create_container(NULL)",
                    sys::create_container(core::ptr::null()),
                ),
                ("create_container(spec)", sys::create_container(&create)),
                ("destroy_container(own)", sys::destroy_container(me)),
                ("destroy_container(other)", sys::destroy_container(other)),
                ("join_container(other)", sys::join_container(other)),
                ("join_container(own)", sys::join_container(me)),
                ("update_container(own)", sys::update_container(me, &spec)),
                ("pause_container(other)", sys::pause_container(other)),
                ("resume_container(own)", sys::resume_container(me)),
                ("pause_container(own)", sys::pause_container(me)),
                ("scheduler_log_on", sys::scheduler_log_on()),
                ("scheduler_log_off", sys::scheduler_log_off()),
                ("memory_log_on", sys::memory_log_on()),
                ("memory_log_off", sys::memory_log_off()),
            ]
        };
        for (what, r) in calls {
            expect_errno(what, r, Errno::EPERM)?;
        }
        let seen: Vec<i32> = container::containers()
            .map_err(errno("containers"))?
            .iter()
            .map(|c| c.id)
            .collect();
        ensure_eq!(seen, [me], "containers() from inside");
        ensure_eq!(container::getcid(), me, "getcid() after the refused calls");
        Ok(())
    })?;
    ensure_eq!(
        b.info()?.state,
        container_state::RUNNING,
        "the other container's state"
    );
    ensure_eq!(
        a.info()?.cpu_weight,
        100,
        "the weight after a refused update"
    );
    Ok(())
}

/// leave is EINVAL on the host, EPERM without SPEC_ALLOW_LEAVE; with it
/// the process is back on the host under its host pid.
pub fn leave_needs_allow_leave() -> TestResult {
    ensure_eq!(
        container::leave(),
        Err(Errno::EINVAL),
        "leave_container() on the host"
    );
    let closed = Ctr::new(Spec::new())?;
    let cid = closed.id;
    inside(cid, move || {
        ensure_eq!(
            container::leave(),
            Err(Errno::EPERM),
            "leave without allow-leave"
        );
        ensure_eq!(container::getcid(), cid, "getcid() after a refused leave");
        Ok(())
    })?;
    let open = Ctr::new(Spec::new().flags(SPEC_ALLOW_LEAVE))?;
    let cid = open.id;
    ulib::test::in_child(move || {
        let host_pid = process::getpid();
        container::join(cid).map_err(errno("join_container"))?;
        ensure_eq!(process::getpid(), 1, "getpid() inside");
        container::leave().map_err(errno("leave_container with allow-leave"))?;
        ensure_eq!(container::getcid(), 0, "getcid() after leaving");
        ensure_eq!(process::getpid(), host_pid, "getpid() after leaving");
        Ok(())
    })?;
    ensure_eq!(open.info()?.procs, 0, "processes left in the container");
    Ok(())
}

/// Reads `counter` up to a marker the caller writes itself through
/// `marker`: the bytes the member wrote since the last drain. Never blocks
/// (the marker is always there to read).
fn drain(counter: Fd, marker: Fd) -> Result<usize, String> {
    fd::write_all(marker, &[0xff]).map_err(errno("write the marker"))?;
    let mut n = 0;
    let mut b = [0u8; 1];
    loop {
        match fd::read(counter, &mut b).map_err(errno("read the counter"))? {
            0 => return Err(String::from("the counter pipe closed")),
            _ if b[0] == 0xff => return Ok(n),
            _ => n += 1,
        }
    }
}

/// A paused container makes no progress (a counter in a pipe stands
/// still); after resume it moves again. Pausing twice and resuming twice
/// are no-ops.
pub fn pause_freezes_resume_thaws() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let member = Member::spawn(c.id, move |cmd, _| {
        let _ = fd::close(r);
        let _ = cmd;
        loop {
            if fd::write_all(w, &[1]).is_err() || process::sleep(1).is_err() {
                return 0;
            }
        }
    });
    let member = match member {
        Ok(m) => m,
        Err(e) => {
            let _ = (fd::close(r), fd::close(w));
            return Err(e);
        }
    };
    let result = (|| {
        process::sleep(10).map_err(errno("sleep"))?;
        let running = drain(r, w)?;
        ensure!(running > 0, "the counter did not move before the pause");
        container::pause(c.id).map_err(errno("pause_container"))?;
        container::pause(c.id).map_err(errno("pause_container twice"))?;
        ensure_eq!(
            c.info()?.state,
            container_state::PAUSED,
            "state after pause"
        );
        process::sleep(5).map_err(errno("sleep"))?;
        drain(r, w)?;
        process::sleep(30).map_err(errno("sleep"))?;
        let paused = drain(r, w)?;
        ensure_eq!(paused, 0, "counter steps while paused for 30 ticks");
        container::resume(c.id).map_err(errno("resume_container"))?;
        container::resume(c.id).map_err(errno("resume_container twice"))?;
        ensure_eq!(
            c.info()?.state,
            container_state::RUNNING,
            "state after resume"
        );
        process::sleep(30).map_err(errno("sleep"))?;
        let resumed = drain(r, w)?;
        ensure!(
            resumed > 0,
            "the counter did not move in 30 ticks after resume"
        );
        Ok(())
    })();
    let _ = process::kill(member.pid);
    drop(member);
    let _ = (fd::close(r), fd::close(w));
    result
}

/// Destroys a container whose processes spin, sleep, block reading and
/// writing pipes (and, when `paused`, are frozen): afterwards no process of
/// it is left, the pipes' ends it held are closed, and its id is free.
fn destroy_busy(paused: bool) -> TestResult {
    let c = Ctr::new(Spec::new())?;
    let cid = c.id;
    let (in_r, in_w) = fd::pipe().map_err(errno("pipe"))?;
    let (out_r, out_w) = fd::pipe().map_err(errno("pipe"))?;
    let member = Member::spawn(cid, move |cmd, rep| {
        let _ = (fd::close(in_w), fd::close(out_r));
        let kinds: [fn(Fd, Fd) -> i32; 4] = [
            |_, _| loop {
                core::hint::spin_loop();
            },
            |_, _| {
                let _ = process::sleep(1_000_000);
                0
            },
            |r, _| block_until_eof(r),
            |_, w| {
                while fd::write_all(w, &[0u8; 512]).is_ok() {}
                0
            },
        ];
        for k in kinds {
            match process::fork() {
                Ok(Fork::Child) => process::exit(k(in_r, out_w)),
                Ok(Fork::Parent(_)) => {}
                Err(e) => {
                    report(rep, e.description());
                    return 1;
                }
            }
        }
        report(rep, "forked");
        block_until_eof(cmd)
    });
    let _ = (fd::close(in_r), fd::close(out_w));
    let member = match member {
        Ok(m) => m,
        Err(e) => {
            let _ = (fd::close(in_w), fd::close(out_r));
            return Err(e);
        }
    };
    let result = (|| {
        ensure_eq!(member.line()?, "forked", "the member's report");
        // Until the writer has filled the pipe and blocked.
        for _ in 0..200 {
            let rows = ps()?;
            let sleeping = rows
                .iter()
                .filter(|p| p.container == cid && p.state == proc_state::SLEEPING)
                .count();
            if sleeping >= 4 {
                break;
            }
            process::sleep(1).map_err(errno("sleep"))?;
        }
        let pids = members_of(cid)?;
        ensure_eq!(pids.len(), 5, "processes in the container before destroy");
        if paused {
            container::pause(cid).map_err(errno("pause_container"))?;
        }
        container::destroy(cid).map_err(errno("destroy_container"))?;
        let left: Vec<String> = ps()?
            .iter()
            .filter(|p| p.container == cid || pids.contains(&p.pid))
            .map(|p| {
                format!(
                    "{} (container {}, {}, ppid {})",
                    p.pid,
                    p.container,
                    proc_state::name(p.state),
                    p.ppid
                )
            })
            .collect();
        ensure!(
            left.is_empty(),
            "processes left after destroy: {left:?} (of {pids:?})"
        );
        ensure!(
            container::info(cid).map_err(errno("containers"))?.is_none(),
            "container {cid} still listed"
        );
        // Every write end of `out` was the container's: the pipe reads to its end.
        let mut rest = Vec::new();
        fd::read_to_end(out_r, &mut rest).map_err(errno("read the writer's pipe"))?;
        // And nobody reads `in` any more.
        let mut fill = 0;
        let r = loop {
            match fd::write(in_w, &[0u8; 512]) {
                Ok(n) => fill += n,
                Err(e) => break e,
            }
            if fill > 1 << 20 {
                break Errno::EIO;
            }
        };
        ensure_eq!(
            r,
            Errno::EPIPE,
            "writing to the pipe the container's reader held"
        );
        let again = Ctr::new(Spec::new().id(cid))?;
        ensure_eq!(again.id, cid, "the destroyed id, made again");
        Ok(())
    })();
    // The member was the test's child: reap what is left of it.
    drop(member);
    process::wait_all();
    let _ = (fd::close(in_w), fd::close(out_r));
    result
}

pub fn destroy_running() -> TestResult {
    destroy_busy(false)
}

pub fn destroy_paused() -> TestResult {
    destroy_busy(true)
}

/// Processes joining and leaving a container over and over while hogs
/// keep every CPU's queue busy (so ticks preempt them anywhere in the
/// kernel, the move included) all finish. A move preempted between
/// leaving the old container's reference table and naming the new one
/// was queued where no pick could find it: runnable, never run again.
/// Liveness is judged by CPU time, not a clock: a churner fails when it
/// is runnable and has received no cycles over 500 ticks in which the
/// hogs kept running.
pub fn join_leave_under_preemption() -> TestResult {
    const CHURNERS: usize = 3;
    // More than the most CPUs berth runs on, so every queue stays busy.
    const HOGS: usize = 10;
    const CHURN_TICKS: u64 = 300;
    const STALL_TICKS: u64 = 500;
    let open = Ctr::new(Spec::new().flags(SPEC_ALLOW_LEAVE))?;
    let cid = open.id;
    let mut hogs = Vec::new();
    for _ in 0..HOGS {
        let pid = process::spawn(|| {
            let mut x = 1u64;
            loop {
                x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        })
        .map_err(errno("fork a hog"))?;
        hogs.push(pid);
    }
    let end = process::uptime() + CHURN_TICKS;
    let mut churners = Vec::new();
    for _ in 0..CHURNERS {
        let pid = process::spawn(move || {
            let mut moves = 0u32;
            while process::uptime() < end || moves == 0 {
                if container::join(cid).is_err() || container::getcid() != cid {
                    return 2;
                }
                if container::leave().is_err() || container::getcid() != 0 {
                    return 3;
                }
                moves += 2;
            }
            0
        });
        match pid {
            Ok(p) => churners.push(p),
            Err(e) => {
                for &h in &hogs {
                    let _ = process::kill(h);
                }
                process::wait_all();
                return Err(format!("fork a churner: {}", e.description()));
            }
        }
    }
    // Watch: (pid, cycles last seen, tick they last changed).
    let mut seen: Vec<(Pid, u64, u64)> = churners
        .iter()
        .map(|&p| (p, 0, process::uptime()))
        .collect();
    let mut stalled = None;
    loop {
        let _ = process::sleep(10);
        let rows = ps()?;
        let now = process::uptime();
        let mut alive = 0;
        for (pid, cycles, since) in seen.iter_mut() {
            let Some(row) = rows.iter().find(|r| r.pid == *pid) else {
                continue;
            };
            if row.state == proc_state::ZOMBIE {
                continue;
            }
            alive += 1;
            if row.cycles != *cycles {
                (*cycles, *since) = (row.cycles, now);
            } else if row.state == proc_state::RUNNABLE && now - *since > STALL_TICKS {
                stalled = Some(format!(
                    "churner pid {pid} is runnable and got no CPU time for {} ticks (container {}, last cpu {})",
                    now - *since,
                    row.container,
                    row.cpu
                ));
            }
        }
        if alive == 0 || stalled.is_some() {
            break;
        }
    }
    for &h in &hogs {
        let _ = process::kill(h);
    }
    if let Some(why) = stalled {
        // The stalled churner can neither be reaped nor its container
        // destroyed (destroy waits for it): leave both (the run failed).
        core::mem::forget(open);
        return Err(why);
    }
    let reaped = process::wait_all();
    for &c in &churners {
        match reaped.iter().find(|(p, _)| *p == c) {
            Some((_, 0)) => {}
            Some((_, s)) => {
                return Err(format!(
                    "churner pid {c} exited with {s} (2: a join, 3: a leave failed)"
                ))
            }
            None => return Err(format!("churner pid {c} was not reaped")),
        }
    }
    ensure_eq!(open.info()?.procs, 0, "processes left in the container");
    Ok(())
}
