//! stress-ctr: containers made and destroyed under their processes' feet.
//! Run from the host.
//!
//! `stress-ctr [-t SECS] [-c CONTAINERS] [-s SEED]` (defaults 10 s, 4
//! containers at once, seed 1). The host writes files `/sc-h0..3`; then,
//! until SECS are up, each slot's container is made with four members:
//! a sleeper, a ping-pong pair over pipes, a writer that opens a host file
//! read-write, writes over it (the container's layer copies it up), checks
//! it reads its own bytes back there, makes a new file and keeps both open,
//! and a spinner. Meanwhile the controller pauses and resumes containers
//! and destroys one (running or paused) every few ticks, reaps its members
//! (killed, or exited by themselves) and makes the slot again. Each time,
//! the host files must still hold exactly what the host wrote and the
//! containers' new files must not show on the host. Afterwards no
//! container, process or charge of the run may be left (kstats). The last
//! line is `stress-ctr: PASS` or `stress-ctr: FAIL: <why>` (exit 0 only on
//! PASS).
#![cfg(not(test))]
#![no_std]
#![no_main]

use alloc::collections::BTreeMap;

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR, O_WRONLY};
use ulib::container::{self, Cid, Spec};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Fork, Pid};
use ulib::stresskit::{self, OptSpec, Opts, Reporter, Rng, Scenario};

extern crate alloc;

entry!(main);

const SPEC: OptSpec = OptSpec {
    name: "stress-ctr",
    size_flag: "-c",
    size_what: "CONTAINERS",
    size_default: 4,
    size_min: 1,
    size_max: 16,
    secs_default: 10,
};

const HOST_FILES: usize = 4;

fn main(args: Args) -> i32 {
    stresskit::run_main(
        &SPEC,
        args,
        &[Scenario {
            name: "churn",
            run: churn,
        }],
    )
}

fn e(what: &str) -> impl Fn(Errno) -> String + '_ {
    move |err| format!("{what}: {}", err.description())
}

fn host_path(k: usize) -> String {
    format!("/sc-h{k}")
}

fn host_content(k: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for line in 0..60 {
        v.extend_from_slice(format!("host file {k} line {line}: the host wrote this\n").as_bytes());
    }
    v
}

fn read_file(path: &str) -> Result<Vec<u8>, Errno> {
    let f = fd::open(path, O_RDONLY)?;
    let mut v = Vec::new();
    let r = fd::read_to_end(f, &mut v);
    let _ = fd::close(f);
    r.map(|_| v)
}

fn write_file(path: &str, bytes: &[u8]) -> Result<(), Errno> {
    let f = fd::open(path, O_CREATE | O_WRONLY | ulib::abi::fcntl::O_TRUNC)?;
    let r = fd::write_all(f, bytes);
    let _ = fd::close(f);
    r
}

/// One member's life inside its container (it never returns normally:
/// destroy kills it, or it exits 0 by itself).
fn member(kind: usize, slot: usize, gen: u32, rep: Reporter, rng: &mut Rng) -> i32 {
    let who = format!("slot {slot} gen {gen} member {kind}");
    match kind {
        0 => loop {
            let _ = process::sleep(1);
        },
        1 => ping_pong(&who, rep),
        2 => writer(&who, slot, gen, rep, rng),
        _ => {
            let mut x = 1u64;
            loop {
                for _ in 0..10_000 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                }
                core::hint::black_box(x);
                process::yield_cpu();
            }
        }
    }
}

fn ping_pong(who: &str, rep: Reporter) -> i32 {
    let (Ok((a_r, a_w)), Ok((b_r, b_w))) = (fd::pipe(), fd::pipe()) else {
        rep.fail(who, "pipe failed");
        return 1;
    };
    match process::fork() {
        Ok(Fork::Child) => {
            let mut b = [0u8; 8];
            while fd::read_exact(a_r, &mut b).is_ok() {
                if fd::write_all(b_w, &b).is_err() {
                    break;
                }
            }
            0
        }
        Ok(Fork::Parent(_)) => {
            let mut n = 0u64;
            loop {
                let _ = fd::write_all(a_w, &n.to_le_bytes());
                let mut b = [0u8; 8];
                if fd::read_exact(b_r, &mut b).is_err() || u64::from_le_bytes(b) != n {
                    rep.fail(who, &format!("ping {n} was not echoed"));
                    return 1;
                }
                n += 1;
                if n.is_multiple_of(64) {
                    let _ = process::sleep(1);
                }
            }
        }
        Err(err) => {
            rep.fail(who, &format!("fork: {}", err.description()));
            1
        }
    }
}

fn writer(who: &str, slot: usize, gen: u32, rep: Reporter, rng: &mut Rng) -> i32 {
    let k = slot % HOST_FILES;
    let path = host_path(k);
    let mine = format!("container slot {slot} generation {gen} wrote this over the host's file\n");
    let check = || -> Result<(Fd, Fd), String> {
        let before = read_file(&path).map_err(e("read the host file"))?;
        if before != host_content(k) {
            return Err(String::from(
                "the host file read differently in a new container",
            ));
        }
        let f = fd::open(&path, O_RDWR).map_err(e("open O_RDWR"))?;
        fd::write_all(f, mine.as_bytes()).map_err(e("write over the host file"))?;
        let got = read_file(&path).map_err(e("read it back"))?;
        let mut want = host_content(k);
        want[..mine.len()].copy_from_slice(mine.as_bytes());
        if got != want {
            return Err(format!(
                "read back {} bytes, not the {} written over the host's",
                got.len(),
                want.len()
            ));
        }
        let new = format!("/sc-new{slot}");
        write_file(&new, mine.as_bytes()).map_err(e("create a new file"))?;
        let n = fd::open(&new, O_RDONLY).map_err(e("open the new file"))?;
        Ok((f, n))
    };
    match check() {
        Ok(_fds) => {
            // Keep both open; now and then end by itself.
            if rng.below(4) == 0 {
                let _ = process::sleep(rng.range(1, 20) as i32);
                return 0;
            }
            loop {
                let _ = process::sleep(2);
            }
        }
        Err(why) => {
            rep.fail(who, &why);
            1
        }
    }
}

/// A slot's container and its members.
struct Slot {
    cid: Cid,
    gen: u32,
    paused: bool,
}

fn churn(o: &Opts) -> Result<String, String> {
    for k in 0..HOST_FILES {
        write_file(&host_path(k), &host_content(k)).map_err(e("write a host file"))?;
    }
    let r = churn_run(o);
    let mut why: Vec<String> = Vec::new();
    if let Err(w) = &r {
        why.push(w.clone());
    }
    why.extend(check_host());
    for k in 0..HOST_FILES {
        let _ = fd::unlink(&host_path(k));
    }
    if why.is_empty() {
        r
    } else {
        Err(why.join("; "))
    }
}

/// The host files are the host's, and the containers' new files are not there.
fn check_host() -> Vec<String> {
    let mut why = Vec::new();
    for k in 0..HOST_FILES {
        match read_file(&host_path(k)) {
            Ok(v) if v == host_content(k) => {}
            Ok(v) => why.push(format!(
                "host file {} changed ({} bytes, {:?}...)",
                host_path(k),
                v.len(),
                String::from_utf8_lossy(&v[..v.len().min(40)])
            )),
            Err(err) => why.push(format!("read {}: {}", host_path(k), err.description())),
        }
    }
    for slot in 0..16 {
        if let Ok(f) = fd::open(&format!("/sc-new{slot}"), O_RDONLY) {
            let _ = fd::close(f);
            why.push(format!("a container's /sc-new{slot} shows on the host"));
        }
    }
    why
}

fn churn_run(o: &Opts) -> Result<String, String> {
    let mut rng = Rng::new(o.seed);
    let (rep_r, rep_w) = fd::pipe().map_err(e("pipe"))?;
    let rep = Reporter(rep_w);
    let end = process::uptime() + u64::from(o.secs) * 100;
    let mut slots: Vec<Option<Slot>> = (0..o.size).map(|_| None).collect();
    // Every member: pid -> slot.
    let mut members: BTreeMap<Pid, usize> = BTreeMap::new();
    let mut why: Vec<String> = Vec::new();
    let (mut made, mut destroyed, mut paused_kills, mut pauses) = (0u32, 0u32, 0u32, 0u32);
    let mut killed = 0u32;
    let mut gen = 0u32;
    while process::uptime() < end && why.is_empty() {
        // Fill empty slots.
        for (s, slot) in slots.iter_mut().enumerate() {
            if slot.is_some() {
                continue;
            }
            gen += 1;
            let spec = Spec::new()
                .name(&format!("sc{s}g{gen}"))
                .map_err(e("name"))?
                .build();
            let cid = match container::create(&spec) {
                Ok(c) => c,
                Err(err) => {
                    why.push(format!("create_container: {}", err.description()));
                    break;
                }
            };
            made += 1;
            for kind in 0..4 {
                let seed = rng.next_u64();
                match process::fork() {
                    Ok(Fork::Child) => {
                        let _ = fd::close(rep_r);
                        if let Err(err) = container::join(cid) {
                            rep.fail("member", &format!("join_container: {}", err.description()));
                            process::exit(1);
                        }
                        let mut r = Rng::new(seed);
                        process::exit(member(kind, s, gen, rep, &mut r));
                    }
                    Ok(Fork::Parent(pid)) => {
                        members.insert(pid, s);
                    }
                    Err(err) => why.push(format!("fork a member: {}", err.description())),
                }
            }
            *slot = Some(Slot {
                cid,
                gen,
                paused: false,
            });
        }
        let _ = process::sleep(rng.range(3, 15) as i32);
        // Pause or resume some.
        for slot in slots.iter_mut().flatten() {
            if rng.below(3) == 0 {
                let r = if slot.paused {
                    container::resume(slot.cid)
                } else {
                    pauses += 1;
                    container::pause(slot.cid)
                };
                match r {
                    Ok(()) => slot.paused = !slot.paused,
                    Err(err) => why.push(format!(
                        "pause/resume of container {}: {}",
                        slot.cid,
                        err.description()
                    )),
                }
            }
        }
        // Destroy one.
        let s = rng.below(slots.len() as u64) as usize;
        if let Some(slot) = slots[s].take() {
            if slot.paused {
                paused_kills += 1;
            }
            if let Err(err) = container::destroy(slot.cid) {
                why.push(format!(
                    "destroy_container({}) (generation {}): {}",
                    slot.cid,
                    slot.gen,
                    err.description()
                ));
            }
            destroyed += 1;
            killed += reap_slot(s, &mut members);
            why.extend(check_host());
        }
    }
    for (s, slot) in slots.iter_mut().enumerate() {
        if let Some(slot) = slot.take() {
            if let Err(err) = container::destroy(slot.cid) {
                why.push(format!(
                    "destroy_container({}): {}",
                    slot.cid,
                    err.description()
                ));
            }
            destroyed += 1;
            killed += reap_slot(s, &mut members);
        }
    }
    // Every member is gone; read what they reported.
    let _ = fd::close(rep_w);
    let mut out = Vec::new();
    let _ = fd::read_to_end(rep_r, &mut out);
    let _ = fd::close(rep_r);
    for l in String::from_utf8_lossy(&out).lines() {
        why.push(l.trim_start_matches("FAIL ").to_string());
    }
    // Destroy took every member: nothing is left to wait for.
    match process::wait() {
        Err(Errno::ECHILD) => {}
        Ok((pid, st)) => why.push(format!(
            "after every destroy, wait still returned pid {pid} (status {st})"
        )),
        Err(err) => why.push(format!("the last wait: {}", err.description())),
    }
    if why.is_empty() {
        Ok(format!(
            "{made} containers made, {destroyed} destroyed ({paused_kills} while paused), \
             {pauses} pauses; {killed} members taken by destroy"
        ))
    } else {
        Err(stresskit::summarize(&why, 4))
    }
}

/// Forgets slot `s`'s members: `destroy_container` killed them and took
/// their zombies from their parent (`berth_abi::container`), so they never
/// come back through `wait`.
fn reap_slot(s: usize, members: &mut BTreeMap<Pid, usize>) -> u32 {
    let before = members.len();
    members.retain(|_, m| *m != s);
    (before - members.len()) as u32
}
