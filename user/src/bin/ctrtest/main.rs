//! ctrtest: the assignment's test program (`user_test_assig3` in the
//! original; CONTAINERS.md §1), run from the host.
//!
//! 1. creates containers 1, 2 and 3 (`SPEC_ALLOW_LEAVE`; an id already
//!    taken fails the test, naming it) and the host file `my_file`;
//! 2. forks three children into container 1 and one each into 2 and 3
//!    (each child joins; their pids there must be 1, 2, 3 and 1 and 1);
//! 3. one child per container calls `ps()`: container 1's sees exactly its
//!    3 processes, 2's and 3's only their one; the host sees all five with
//!    their containers and container pids;
//! 4. scheduler log on; every child is told (after the log went on) to
//!    spin a few ticks and answers when it ran; log off once all answered;
//! 5. memory log on; every child mallocs and touches 64 KiB; log off;
//! 6. every child runs `ls`, creates `file_<pid>` holding
//!    `container <cid> pid <pid>`, waits for all (barrier), runs `ls`
//!    again and reads the directory itself: the host's names plus exactly
//!    its own container's `file_*` (3 in container 1, 1 in 2 and 3), each
//!    with its own container's content;
//! 7. one child per container writes `Modified by: <pid>` over `my_file`
//!    and cats it; afterwards every child reads it again and sees its own
//!    container's version (container 1's writer is its pid 3, so its text
//!    differs from 2's and 3's);
//! 8. every child leaves (host pid again, container 0, no `file_*`);
//! 9. the host's `my_file` is unchanged, no `file_*` is visible on the
//!    host, 1, 2 and 3 are destroyed and gone from the listing.
//!
//! Each step is printed (`ctrtest: step N: ...`); the children print what
//! they do. The verdict, from what was observed, is the last line:
//! `ctrtest: PASS` (status 0) or `ctrtest: FAIL: <reason>` (status 1). On
//! failure the children are killed and the containers it made destroyed,
//! so it can run again in the same boot.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

mod child;
mod dir;
mod link;

use ulib::abi::container::SPEC_ALLOW_LEAVE;
use ulib::abi::limits::NPROC;
use ulib::abi::syscall::ProcInfo;
use ulib::container::{self, Spec};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};

use link::Child;

entry!(main);

/// The pre-existing host file the children modify.
pub const MY_FILE: &str = "my_file";
/// What the host's `my_file` holds.
const ORIGINAL: &str = "my_file: the host's original content\n";
/// The containers and how many children join each.
const PLAN: [(i32, usize); 3] = [(1, 3), (2, 1), (3, 1)];

fn main(args: Args) -> i32 {
    if args.len() > 1 {
        eprintln!("usage: ctrtest");
        return 2;
    }
    let mut run = Run::default();
    let verdict = run.scenario();
    run.cleanup(verdict.is_err());
    match verdict {
        Ok(()) => {
            println!("ctrtest: PASS");
            0
        }
        Err(why) => {
            println!("ctrtest: FAIL: {}", why.replace('\n', " "));
            1
        }
    }
}

fn step(n: u32, what: &str) {
    println!("ctrtest: step {n}: {what}");
}

/// What the test made, so that a failure can undo it.
#[derive(Default)]
struct Run {
    created: Vec<i32>,
    children: Vec<Child>,
}

impl Run {
    fn scenario(&mut self) -> Result<(), String> {
        if container::getcid() != 0 {
            return Err(String::from("ctrtest must run on the host (container 0)"));
        }
        fd::chdir("/").map_err(|e| format!("chdir /: {}", e.description()))?;
        step(1, "create_container(1), (2), (3) and the host file my_file");
        for (id, _) in PLAN {
            let spec = Spec::new().id(id).flags(SPEC_ALLOW_LEAVE).build();
            match container::create(&spec) {
                Ok(got) if got == id => self.created.push(id),
                Ok(got) => {
                    self.created.push(got);
                    return Err(format!("create_container({id}) returned id {got}"));
                }
                Err(Errno::EEXIST) => {
                    return Err(format!(
                        "container {id} (or the name c{id}) already exists: remove it first (ctr rm -f {id})"
                    ))
                }
                Err(e) => return Err(format!("create_container({id}): {}", e.description())),
            }
            println!("ctrtest: created container {id}");
        }
        dir::write(MY_FILE, ORIGINAL)?;
        let baseline = dir::names(".")?;
        if let Some(f) = baseline.iter().find(|n| n.starts_with("file_")) {
            return Err(format!("the host already has {f}: remove it first"));
        }

        step(
            2,
            "fork 3 children into container 1, one into 2, one into 3",
        );
        for (cid, n) in PLAN {
            for _ in 0..n {
                self.fork_child(cid, &baseline)?;
            }
        }
        for c in &mut self.children {
            let hello = c.answer("join")?;
            let mut it = hello.split(' ').map(|w| w.parse::<i32>().unwrap_or(-1));
            c.vpid = it.next().unwrap_or(-1);
            println!(
                "ctrtest: host pid {} joined container {} as pid {}",
                c.pid, c.cid, c.vpid
            );
        }
        for (cid, n) in PLAN {
            let mut got = self.vpids(cid);
            got.sort_unstable();
            let want: Vec<i32> = (1..=n as i32).collect();
            if got != want {
                return Err(format!("container {cid}'s pids are {got:?}, want {want:?}"));
            }
        }

        step(3, "one process per container calls ps()");
        for (cid, _) in PLAN {
            let c = self.first(cid)?;
            let seen = c.ask("ps")?;
            let mut rows: Vec<(i32, i32)> = seen
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|r| {
                    let (p, c) = r.split_once(':').unwrap_or(("-1", "-1"));
                    (p.parse().unwrap_or(-1), c.parse().unwrap_or(-1))
                })
                .collect();
            rows.sort_unstable();
            let mut want: Vec<(i32, i32)> = self.vpids(cid).into_iter().map(|p| (p, cid)).collect();
            want.sort_unstable();
            if rows != want {
                return Err(format!(
                    "ps() in container {cid} listed (pid, container) {rows:?}, want exactly {want:?}"
                ));
            }
        }
        self.host_sees_children()?;

        step(4, "scheduler log on until every child has been scheduled");
        container::scheduler_log(true)
            .map_err(|e| format!("scheduler_log_on: {}", e.description()))?;
        let ran = self.all("sched");
        container::scheduler_log(false)
            .map_err(|e| format!("scheduler_log_off: {}", e.description()))?;
        ran?;
        println!(
            "ctrtest: all {} children ran with the log on; log off",
            self.children.len()
        );

        step(5, "memory log on while every child mallocs 64 KiB");
        container::memory_log(true).map_err(|e| format!("memory_log_on: {}", e.description()))?;
        let malloced = self.all("mem");
        container::memory_log(false).map_err(|e| format!("memory_log_off: {}", e.description()))?;
        malloced?;

        step(
            6,
            "every child: ls, create file_<pid>, barrier, ls and check the directory",
        );
        for c in &self.children {
            c.ask("ls")?;
        }
        self.all("create")?;
        println!("ctrtest: barrier passed: every child has created its file");
        for c in &self.children {
            let seen = c.ask("check")?;
            let mut want: Vec<String> = self
                .vpids(c.cid)
                .into_iter()
                .map(|p| {
                    let (n, t) = child::own_file(c.cid, p);
                    format!("{n}={t}")
                })
                .collect();
            want.sort();
            let want = format!("missing=- extra={}", want.join("|"));
            if seen != want {
                return Err(format!("{} sees {seen:?}, want {want:?}", c.who()));
            }
            println!(
                "ctrtest: {} sees the host's files and its container's {}",
                c.who(),
                want
            );
        }

        step(7, "one child per container writes my_file and cats it");
        let mut writers = Vec::new();
        for (cid, _) in PLAN {
            let w = self.last(cid)?;
            let got = w.ask("modify")?;
            let want = format!("Modified by: {}", w.vpid);
            if got != want {
                return Err(format!(
                    "{} reads back my_file as {got:?}, want {want:?}",
                    w.who()
                ));
            }
            writers.push((cid, want));
        }
        for c in &self.children {
            let got = c.ask("reread")?;
            let want = writers
                .iter()
                .find(|(cid, _)| *cid == c.cid)
                .map(|(_, w)| w.as_str());
            if Some(got.as_str()) != want {
                return Err(format!(
                    "after all three wrote, {} reads my_file as {got:?}, want {want:?}",
                    c.who()
                ));
            }
        }
        let host = dir::read(MY_FILE)?;
        if host != ORIGINAL {
            return Err(format!(
                "the host's my_file changed while the containers wrote theirs: {host:?}"
            ));
        }
        println!("ctrtest: each container sees its own my_file; the host's is unchanged");

        step(8, "every child leaves its container");
        for c in &self.children {
            let got = c.ask("leave")?;
            let want = format!("{} 0 0", c.pid);
            if got != want {
                return Err(format!(
                    "{} after leave_container: (pid, container, file_* seen) = {got:?}, want {want:?}",
                    c.who()
                ));
            }
        }
        for c in &self.children {
            link::send(c.cmd, "exit")?;
        }
        // Children exit in any order: one reaped while waiting for another
        // is kept in `others` and found there.
        let mut others = Vec::new();
        for c in core::mem::take(&mut self.children) {
            let _ = (fd::close(c.cmd), fd::close(c.reply));
            let status = match others.iter().position(|&(p, _)| p == c.pid) {
                Some(i) => others.swap_remove(i).1,
                None => process::wait_for(c.pid, &mut others)
                    .map_err(|e| format!("wait for {}: {}", c.who(), e.description()))?,
            };
            if status != 0 {
                return Err(format!("{} exited with status {status}", c.who()));
            }
        }

        step(9, "check the host, destroy 1, 2 and 3");
        let host = dir::read(MY_FILE)?;
        if host != ORIGINAL {
            return Err(format!("the host's my_file is {host:?}, want {ORIGINAL:?}"));
        }
        let now = dir::names(".")?;
        if let Some(f) = now.iter().find(|n| n.starts_with("file_")) {
            return Err(format!("the host sees {f}"));
        }
        if now != baseline {
            return Err(format!(
                "the host's / changed: before {baseline:?}, now {now:?}"
            ));
        }
        for id in core::mem::take(&mut self.created) {
            container::destroy(id)
                .map_err(|e| format!("destroy_container({id}): {}", e.description()))?;
            println!("ctrtest: destroyed container {id}");
        }
        let left: Vec<i32> = container::containers()
            .map_err(|e| format!("containers: {}", e.description()))?
            .iter()
            .map(|c| c.id)
            .filter(|id| PLAN.iter().any(|(p, _)| p == id))
            .collect();
        if !left.is_empty() {
            return Err(format!(
                "containers {left:?} are still listed after destroy"
            ));
        }
        fd::unlink(MY_FILE).map_err(|e| format!("unlink my_file: {}", e.description()))?;
        Ok(())
    }

    /// Forks a child for container `cid`; it keeps only its own pipe ends.
    fn fork_child(&mut self, cid: i32, baseline: &[String]) -> Result<(), String> {
        let (cmd_r, cmd_w) = fd::pipe().map_err(|e| format!("pipe: {}", e.description()))?;
        let (rep_r, rep_w) = match fd::pipe() {
            Ok(p) => p,
            Err(e) => {
                let _ = (fd::close(cmd_r), fd::close(cmd_w));
                return Err(format!("pipe: {}", e.description()));
            }
        };
        match process::fork() {
            Ok(Fork::Child) => {
                for c in &self.children {
                    let _ = (fd::close(c.cmd), fd::close(c.reply));
                }
                let _ = (fd::close(cmd_w), fd::close(rep_r));
                process::exit(child::main(cid, cmd_r, rep_w, baseline.to_vec()));
            }
            Ok(Fork::Parent(pid)) => {
                let _ = (fd::close(cmd_r), fd::close(rep_w));
                self.children.push(Child {
                    pid,
                    cid,
                    vpid: -1,
                    cmd: cmd_w,
                    reply: rep_r,
                });
                Ok(())
            }
            Err(e) => {
                let _ = (
                    fd::close(cmd_r),
                    fd::close(cmd_w),
                    fd::close(rep_r),
                    fd::close(rep_w),
                );
                Err(format!("fork: {}", e.description()))
            }
        }
    }

    /// Sends `cmd` to every child, then collects every answer.
    fn all(&self, cmd: &str) -> Result<(), String> {
        for c in &self.children {
            link::send(c.cmd, cmd).map_err(|e| format!("{}: {e}", c.who()))?;
        }
        let mut first_err = Ok(());
        for c in &self.children {
            if let Err(e) = c.answer(cmd) {
                if first_err.is_ok() {
                    first_err = Err(e);
                }
            }
        }
        first_err
    }

    fn vpids(&self, cid: i32) -> Vec<i32> {
        self.children
            .iter()
            .filter(|c| c.cid == cid)
            .map(|c| c.vpid)
            .collect()
    }

    fn first(&self, cid: i32) -> Result<&Child, String> {
        self.children
            .iter()
            .find(|c| c.cid == cid)
            .ok_or_else(|| format!("no child in container {cid}"))
    }

    /// The child of `cid` with the highest container pid.
    fn last(&self, cid: i32) -> Result<&Child, String> {
        self.children
            .iter()
            .filter(|c| c.cid == cid)
            .max_by_key(|c| c.vpid)
            .ok_or_else(|| format!("no child in container {cid}"))
    }

    /// The host's ps lists every child with its container and container pid.
    fn host_sees_children(&self) -> Result<(), String> {
        let mut rows = vec![ProcInfo::default(); NPROC];
        let n = process::ps(&mut rows).map_err(|e| format!("ps: {}", e.description()))?;
        for c in &self.children {
            let row = rows[..n.min(NPROC)].iter().find(|r| r.pid == c.pid);
            match row {
                Some(r) if r.container == c.cid && r.vpid == c.vpid => {}
                Some(r) => {
                    return Err(format!(
                        "the host's ps shows {} as container {} vpid {}",
                        c.who(),
                        r.container,
                        r.vpid
                    ))
                }
                None => return Err(format!("the host's ps does not list {}", c.who())),
            }
        }
        println!("ctrtest: the host's ps lists all five children with their containers and pids");
        Ok(())
    }

    /// After a failure: kill the children, reap them, destroy what was made.
    fn cleanup(&mut self, failed: bool) {
        for c in core::mem::take(&mut self.children) {
            let _ = (fd::close(c.cmd), fd::close(c.reply));
            let _ = process::kill(c.pid);
        }
        process::wait_all();
        for id in core::mem::take(&mut self.created) {
            let _ = container::destroy(id);
        }
        if failed {
            let _ = fd::unlink(MY_FILE);
        }
    }
}
