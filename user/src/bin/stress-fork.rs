//! stress-fork: fork/exit/wait churn up to the process limits. Run from the host.
//!
//! `stress-fork [-t SECS] [-n PROCS] [-s SEED]` (defaults 10 s, 400
//! processes at once in the churn, seed 1). Scenarios:
//! - `table`: a process in a container without limits forks holders until
//!   fork fails: it must fail with `EAGAIN` exactly when the table holds
//!   NPROC - 64 processes (containers never take the host's last 64
//!   slots); then the host forks until `EAGAIN` at exactly NPROC. Every
//!   holder is released and its status must come back once, unchanged.
//! - `ctr-limit`: in containers of max_procs 3..16 a member forks until
//!   `EAGAIN` (exactly max_procs - 1 forks), then lets one holder go, must
//!   fork exactly one more, and so on; the host keeps forking meanwhile.
//! - `churn`: for SECS seconds, host and container workers fork batches of
//!   children that exit at once, sleep first, leave an orphan behind (a
//!   grandchild re-parented to init and reaped there), or stay zombies while
//!   the parent sleeps before `wait`. Every fork must succeed (the run stays
//!   under `-n PROCS`), every status must come back exactly once, and
//!   `wait` must say `ECHILD` after the last.
//!
//! Afterwards no process or container of the run may be left (kstats,
//! after a settle wait for init to reap the orphans). The last line is
//! `stress-fork: PASS` or `stress-fork: FAIL: <why>` (exit 0 only on PASS).
#![cfg(not(test))]
#![no_std]
#![no_main]

use alloc::collections::BTreeMap;

use ulib::abi::limits::NPROC;
use ulib::container::{self, Cid, Spec};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Fork, Pid};
use ulib::stresskit::{self, OptSpec, Opts, Rng, Scenario, Workers};

extern crate alloc;

entry!(main);

const SPEC: OptSpec = OptSpec {
    name: "stress-fork",
    size_flag: "-n",
    size_what: "PROCS",
    size_default: 400,
    size_min: 16,
    size_max: 900,
    secs_default: 10,
};

/// The process slots containers leave to the host (`berth_abi::container`).
const HOST_RESERVED: usize = 64;

fn main(args: Args) -> i32 {
    stresskit::run_main(
        &SPEC,
        args,
        &[
            Scenario {
                name: "table",
                run: table,
            },
            Scenario {
                name: "ctr-limit",
                run: ctr_limit,
            },
            Scenario {
                name: "churn",
                run: churn,
            },
        ],
    )
}

fn e(what: &str) -> impl Fn(Errno) -> String + '_ {
    move |err| format!("{what}: {}", err.description())
}

/// The status holder `i` exits with.
fn holder_status(i: usize) -> i32 {
    (i as i32 * 7 + 3) & 0x7fff
}

/// Forks up to `most` holders numbered from `first` that each wait for one
/// byte (or the end) on `hold` and exit with [`holder_status`] (each
/// closes `writer`, the pipe's write end, so closing it ends them all);
/// stops at the first failure. Returns the holders' pids (in order) and
/// the error fork ended with.
fn fork_holders(hold: Fd, writer: Fd, first: usize, most: usize) -> (Vec<Pid>, Option<Errno>) {
    let mut pids = Vec::with_capacity(most);
    while pids.len() < most {
        let i = first + pids.len();
        match process::fork() {
            Ok(Fork::Child) => {
                let _ = fd::close(writer);
                let mut b = [0u8; 1];
                let _ = fd::read(hold, &mut b);
                process::exit(holder_status(i));
            }
            Ok(Fork::Parent(pid)) => pids.push(pid),
            Err(err) => return (pids, Some(err)),
        }
    }
    (pids, None)
}

/// Reaps `pids` (forked in that order by [`fork_holders`]): every one must
/// come back exactly once with its status, and nothing else.
fn reap_holders(pids: &[Pid]) -> Result<(), String> {
    let want: BTreeMap<Pid, i32> = pids
        .iter()
        .enumerate()
        .map(|(i, &p)| (p, holder_status(i)))
        .collect();
    reap_exactly(want)
}

/// Waits for every child in `want` (pid -> status): each exactly once, with
/// that status; then `wait` must say `ECHILD`.
fn reap_exactly(mut want: BTreeMap<Pid, i32>) -> Result<(), String> {
    let mut why = Vec::new();
    let total = want.len();
    let mut seen = BTreeMap::new();
    while !want.is_empty() {
        match process::wait() {
            Ok((pid, status)) => match want.remove(&pid) {
                Some(s) if s == status => {
                    seen.insert(pid, status);
                }
                Some(s) => why.push(format!("pid {pid} exited with {s}, wait said {status}")),
                None if seen.contains_key(&pid) => {
                    why.push(format!("wait returned pid {pid} twice"))
                }
                None => why.push(format!(
                    "wait returned pid {pid}, not a child of this round"
                )),
            },
            Err(err) => {
                why.push(format!(
                    "wait failed ({}) with {} of {total} statuses missing",
                    err.description(),
                    want.len()
                ));
                break;
            }
        }
    }
    match process::wait() {
        Err(Errno::ECHILD) => {}
        Ok((pid, s)) => why.push(format!("an extra child pid {pid} (status {s})")),
        Err(err) => why.push(format!("the last wait: {}", err.description())),
    }
    if why.is_empty() {
        Ok(())
    } else {
        Err(stresskit::summarize(&why, 4))
    }
}

fn table(_: &Opts) -> Result<String, String> {
    let before = stresskit::kstats()?;
    let c = container::create(&Spec::new().name("sf-table").unwrap().build())
        .map_err(e("create_container"))?;
    let (hold_r, hold_w) = fd::pipe().map_err(e("pipe"))?;
    let (rep_r, rep_w) = fd::pipe().map_err(e("pipe"))?;
    // The filler joins the container, forks until it cannot, says how
    // far it got, and reaps its holders once they are let go.
    let filler = process::spawn(|| {
        let _ = fd::close(hold_w);
        let _ = fd::close(rep_r);
        if let Err(err) = container::join(c) {
            let _ = fd::write_all(rep_w, format!("join {}\n", err.description()).as_bytes());
            return 1;
        }
        let (pids, err) = fork_holders(hold_r, hold_w, 0, NPROC);
        let _ = fd::write_all(rep_w, format!("{} {:?}\n", pids.len(), err).as_bytes());
        match reap_holders(&pids) {
            Ok(()) => 0,
            Err(why) => {
                let _ = fd::write_all(rep_w, format!("reap {why}\n").as_bytes());
                1
            }
        }
    })
    .map_err(e("fork the filler"))?;
    let _ = fd::close(rep_w);
    let mut why = Vec::new();
    let mut line = [0u8; 128];
    let n = fd::read(rep_r, &mut line).unwrap_or(0);
    let said = String::from_utf8_lossy(&line[..n]).trim().to_string();
    let at_ctr_limit = stresskit::kstats()?;
    let (in_ctr, ctr_err) = said.split_once(' ').unwrap_or((&said, ""));
    if ctr_err != "Some(EAGAIN)" || at_ctr_limit.procs as usize != NPROC - HOST_RESERVED {
        why.push(format!(
            "the container's fork failed with {ctr_err} after {in_ctr} forks with {} of {NPROC} \
             slots in use (want EAGAIN at {})",
            at_ctr_limit.procs,
            NPROC - HOST_RESERVED
        ));
    }
    // The host takes the rest.
    let (host_pids, host_err) = fork_holders(hold_r, hold_w, 0, NPROC);
    let at_limit = stresskit::kstats()?;
    // Each holder shares the program's writable pages copy-on-write, and
    // the kernel promises the copies each may need (strict accounting):
    // on a small machine the promises can use up the memory before the
    // table fills. Then ENOMEM is the right answer, with the promises
    // covering (nearly) all free frames.
    let memory_first = host_err == Some(Errno::ENOMEM)
        && at_limit.pages_committed * 10 >= at_limit.frames_free * 9;
    let table_full = host_err == Some(Errno::EAGAIN) && at_limit.procs as usize == NPROC;
    if !(table_full || memory_first) {
        why.push(format!(
            "the host's fork failed with {host_err:?} after {} forks with {} of {NPROC} slots in use",
            host_pids.len(),
            at_limit.procs
        ));
    }
    // Let everyone go.
    let _ = fd::close(hold_w);
    let _ = fd::close(hold_r);
    if let Err(w) = reap_holders_and(&host_pids, filler) {
        why.push(format!("host holders: {w}"));
    }
    let n = fd::read(rep_r, &mut line).unwrap_or(0);
    if n > 0 {
        why.push(format!(
            "the filler: {}",
            String::from_utf8_lossy(&line[..n]).trim()
        ));
    }
    let _ = fd::close(rep_r);
    if let Err(err) = container::destroy(c) {
        why.push(format!("destroy_container: {}", err.description()));
    }
    let (_, left) = stresskit::settle(&before, stresskit::Allowance::SELF, 500)?;
    if !left.is_empty() {
        why.push(format!("after the release: {}", left.join(", ")));
    }
    if why.is_empty() {
        Ok(format!(
            "{in_ctr} forks in a container to {} slots, {} on the host to {NPROC}",
            NPROC - HOST_RESERVED,
            host_pids.len()
        ))
    } else {
        Err(why.join("; "))
    }
}

/// [`reap_holders`] for `pids` plus the filler `filler` (status 0).
fn reap_holders_and(pids: &[Pid], filler: Pid) -> Result<(), String> {
    let mut want: BTreeMap<Pid, i32> = pids
        .iter()
        .enumerate()
        .map(|(i, &p)| (p, holder_status(i)))
        .collect();
    want.insert(filler, 0);
    reap_exactly(want)
}

fn ctr_limit(o: &Opts) -> Result<String, String> {
    let mut rng = Rng::new(o.seed ^ 0xc7);
    let mut workers = Workers::new()?;
    let mut made = Vec::new();
    for k in 0..4 {
        let max = rng.range(3, 16) as u32;
        let spec = Spec::new()
            .max_procs(max)
            .name(&format!("sf-lim{k}"))
            .map_err(e("name"))?
            .build();
        let c = match container::create(&spec) {
            Ok(c) => c,
            Err(err) => {
                for c in made {
                    let _ = container::destroy(c);
                }
                return Err(format!("create_container: {}", err.description()));
            }
        };
        made.push(c);
        let rounds = rng.range(2, 6) as usize;
        workers.spawn(&format!("ctr{c}(max {max})"), move |_| {
            container::join(c).map_err(e("join_container"))?;
            limit_rounds(max as usize, rounds)
        });
    }
    // The host forks meanwhile (the containers' limits are theirs), in a
    // worker of its own: its waits must not reap the other workers.
    workers.spawn("host", |_| {
        for i in 0..20 {
            let s = ulib::test::status_of(|| 5)?;
            if s != 5 {
                return Err(format!("host child {i} exited with {s}, not 5"));
            }
        }
        Ok(String::from("20 host forks meanwhile"))
    });
    finish(workers, made)
}

/// Inside a container of `max` processes (the caller is one): fork to the
/// limit, then `rounds` times let one holder go and fork exactly one more.
fn limit_rounds(max: usize, rounds: usize) -> Result<String, String> {
    let (hold_r, hold_w) = fd::pipe().map_err(e("pipe"))?;
    let (mut pids, err) = fork_holders(hold_r, hold_w, 0, 2 * max);
    if err != Some(Errno::EAGAIN) || pids.len() != max - 1 {
        return Err(format!(
            "{} forks then {err:?} (want {} then EAGAIN)",
            pids.len(),
            max - 1
        ));
    }
    let mut want: BTreeMap<Pid, i32> = pids
        .iter()
        .enumerate()
        .map(|(i, &p)| (p, holder_status(i)))
        .collect();
    for r in 0..rounds {
        fd::write_all(hold_w, b"x").map_err(e("write"))?;
        let (pid, status) = process::wait().map_err(e("wait"))?;
        match want.remove(&pid) {
            Some(s) if s == status => {}
            other => {
                return Err(format!(
                    "round {r}: wait gave {pid} {status}, expected {other:?}"
                ))
            }
        }
        // The slot is free again: one fork fits, the next does not.
        let i = pids.len();
        let (more, err) = fork_holders(hold_r, hold_w, i, 2);
        if more.len() != 1 || err != Some(Errno::EAGAIN) {
            return Err(format!(
                "round {r}: after a reap {} forks then {err:?} (want 1 then EAGAIN)",
                more.len()
            ));
        }
        want.insert(more[0], holder_status(i));
        pids.push(more[0]);
    }
    let _ = fd::close(hold_w);
    let _ = fd::close(hold_r);
    reap_exactly(want)?;
    Ok(format!("{} forks, {rounds} refills", pids.len()))
}

/// What a churn child does.
#[derive(Clone, Copy)]
enum Mode {
    Exit,
    Sleep(i32),
    Orphan(i32),
}

/// A churn child's status when its grandchild could not be forked.
const ORPHAN_FORK_FAILED: i32 = 0x10000;

fn churn(o: &Opts) -> Result<String, String> {
    let host_workers = 4usize;
    let ctr_workers = 2usize;
    let all = host_workers + ctr_workers;
    // Each child may leave one orphan: at most 2 per child at once.
    let batch = (o.size / all / 2).max(1);
    let end = process::uptime() + u64::from(o.secs) * 100;
    let mut workers = Workers::new()?;
    let mut made = Vec::new();
    for w in 0..all {
        let seed = o.seed.wrapping_mul(31).wrapping_add(w as u64);
        let ctr = if w >= host_workers {
            // Room for the worker, its batch, their orphans and slack for
            // orphans init has not reaped yet.
            let spec = Spec::new()
                .max_procs((4 * batch + 8) as u32)
                .name(&format!("sf-churn{w}"))
                .map_err(e("name"))?
                .build();
            let c = match container::create(&spec) {
                Ok(c) => c,
                Err(err) => {
                    let _ = workers.finish();
                    for c in made {
                        let _ = container::destroy(c);
                    }
                    return Err(format!("create_container: {}", err.description()));
                }
            };
            made.push(c);
            Some(c)
        } else {
            None
        };
        let name = match ctr {
            Some(c) => format!("churn{w}(ctr {c})"),
            None => format!("churn{w}(host)"),
        };
        workers.spawn(&name, move |_| {
            if let Some(c) = ctr {
                container::join(c).map_err(e("join_container"))?;
            }
            churn_worker(seed, batch, end)
        });
    }
    finish(workers, made)
}

fn churn_worker(seed: u64, batch: usize, end: u64) -> Result<String, String> {
    let mut rng = Rng::new(seed);
    let (mut rounds, mut children, mut orphans, mut held) = (0u64, 0u64, 0u64, 0u64);
    while process::uptime() < end {
        let n = rng.range(1, batch as u64) as usize;
        let hold_zombies = rng.below(3) == 0;
        let mut want = BTreeMap::new();
        for i in 0..n {
            let status = ((rounds as i32) * 131 + i as i32) & 0x7fff;
            let mode = match rng.below(4) {
                0 | 1 => Mode::Exit,
                2 => Mode::Sleep(rng.below(4) as i32),
                _ => Mode::Orphan(rng.range(1, 5) as i32),
            };
            match process::fork() {
                Ok(Fork::Child) => process::exit(child(mode, status)),
                Ok(Fork::Parent(pid)) => {
                    want.insert(pid, status);
                }
                Err(err) => {
                    return Err(format!(
                        "round {rounds}: fork {i} of {n} failed with {} below every limit",
                        err.description()
                    ))
                }
            }
            if let Mode::Orphan(_) = mode {
                orphans += 1;
            }
        }
        if hold_zombies {
            // The children are zombies by now (or soon): hold them a while.
            let _ = process::sleep(rng.range(2, 6) as i32);
            held += n as u64;
        }
        children += n as u64;
        reap_exactly(want).map_err(|w| format!("round {rounds}: {w}"))?;
        rounds += 1;
    }
    Ok(format!(
        "{rounds} rounds, {children} children, {orphans} orphans, {held} held as zombies"
    ))
}

fn child(mode: Mode, status: i32) -> i32 {
    match mode {
        Mode::Exit => status,
        Mode::Sleep(t) => {
            let _ = process::sleep(t);
            status
        }
        Mode::Orphan(t) => match process::fork() {
            Ok(Fork::Child) => {
                let _ = process::sleep(t);
                0
            }
            Ok(Fork::Parent(_)) => status,
            Err(err) => ORPHAN_FORK_FAILED + err as i32,
        },
    }
}

/// Waits for the workers, destroys the containers made for them, and
/// sums up: every worker's summary, or the first failures.
fn finish(workers: Workers, made: Vec<Cid>) -> Result<String, String> {
    let (oks, fails) = workers.finish();
    for c in made {
        let _ = container::destroy(c);
    }
    if fails.is_empty() {
        Ok(oks.join(", "))
    } else {
        Err(stresskit::summarize(&fails, 4))
    }
}
