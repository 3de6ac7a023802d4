//! stress-mem: memory to exhaustion and back. Run from the host.
//!
//! `stress-mem [-t SECS] [-m MiB] [-s SEED]` (defaults 10 s, 16 MiB
//! touched per process and round, seed 1). Scenarios:
//! - `exhaust`: three processes at once `sbrk` until `ENOMEM` (1 MiB
//!   steps, then pages), touch up to MiB of what they got in a pattern
//!   (sequential, strided, random pages), check that each page was zero
//!   before and holds its tag after, and give it all back; round after
//!   round for a third of SECS.
//! - `cow`: a process fills MiB (at most 8) with its pattern and forks
//!   three children; each checks every byte still holds the parent's
//!   pattern, writes its own in its order and checks it, and forks a
//!   grandchild that does the same over the child's; the parent meanwhile
//!   overwrites everything with a third pattern and checks every byte
//!   after the children are gone.
//! - `ctr-pages`: a process in a container whose page limit is 4 MiB above
//!   its size grows until `ENOMEM` (not a fault), twice, and the container
//!   is never charged past its limit; a fork there fails cleanly or works.
//! - `hog`: a child takes all the memory it can and touches every page;
//!   while it holds it, the program forks and execs `/nop` and grows its
//!   own break: each must work or fail with a clean `ENOMEM`/`EAGAIN`,
//!   nobody but the hog may be killed (and the hog is not either); after
//!   the hog exits, fork+exec of `/nop` must work.
//!
//! Afterwards frames_free, pages_committed and pages_charged must be back
//! (kstats, after a settle wait). The last line is `stress-mem: PASS` or
//! `stress-mem: FAIL: <why>` (exit 0 only on PASS).
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::abi::container::UPDATE_MAX_PAGES;
use ulib::abi::limits::KILLED_STATUS;
use ulib::container::{self, Spec};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::stresskit::{self, OptSpec, Opts, Rng, Scenario, Workers};

entry!(main);

const SPEC: OptSpec = OptSpec {
    name: "stress-mem",
    size_flag: "-m",
    size_what: "MiB",
    size_default: 16,
    size_min: 1,
    size_max: 256,
    secs_default: 10,
};

const PAGE: usize = 4096;

fn main(args: Args) -> i32 {
    stresskit::run_main(
        &SPEC,
        args,
        &[
            Scenario {
                name: "exhaust",
                run: exhaust,
            },
            Scenario {
                name: "cow",
                run: cow,
            },
            Scenario {
                name: "ctr-pages",
                run: ctr_pages,
            },
            Scenario {
                name: "hog",
                run: hog,
            },
        ],
    )
}

fn e(what: &str) -> impl Fn(Errno) -> String + '_ {
    move |err| format!("{what}: {}", err.description())
}

/// Grows the break until `ENOMEM` (or `cap` pages): 256 pages at a time,
/// then one. Returns the start and the pages got, and the error that ended it.
fn grab(cap: usize) -> (usize, usize, Errno) {
    let start = match process::sbrk(0) {
        Ok(p) => p as usize,
        Err(err) => return (0, 0, err),
    };
    let mut pages = 0usize;
    let mut step = 256usize;
    loop {
        if pages >= cap {
            return (start, pages, Errno::E2BIG);
        }
        let n = step.min(cap - pages);
        match process::sbrk((n * PAGE) as isize) {
            Ok(_) => pages += n,
            Err(err) if step > 1 => {
                let _ = err;
                step = 1;
            }
            Err(err) => return (start, pages, err),
        }
    }
}

/// Gives `pages` back to the kernel.
fn release(pages: usize) -> Result<(), String> {
    if pages > 0 {
        process::sbrk(-((pages * PAGE) as isize)).map_err(e("sbrk(-)"))?;
    }
    Ok(())
}

/// The tag of page `i` of a region written with `tag`.
fn page_tag(i: usize, tag: u64) -> u64 {
    (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ tag
}

/// Touches `pages` pages at `start` in `order`, checking each was zero and
/// leaving its tag in its first and last word; then checks every tag.
fn touch(start: usize, order: &[usize], tag: u64) -> Result<(), String> {
    for &i in order {
        let p = (start + i * PAGE) as *mut u64;
        // SAFETY: page `i` is below the break this process grew; nothing
        // else in the process uses it.
        unsafe {
            let (first, last) = (p.read_volatile(), p.add(PAGE / 8 - 1).read_volatile());
            if first != 0 || last != 0 {
                return Err(format!("page {i} was not zero at its first touch"));
            }
            p.write_volatile(page_tag(i, tag));
            p.add(PAGE / 8 - 1).write_volatile(!page_tag(i, tag));
        }
    }
    for &i in order {
        let p = (start + i * PAGE) as *const u64;
        // SAFETY: as above.
        let (first, last) = unsafe { (p.read_volatile(), p.add(PAGE / 8 - 1).read_volatile()) };
        if first != page_tag(i, tag) || last != !page_tag(i, tag) {
            return Err(format!("page {i} lost its tag"));
        }
    }
    Ok(())
}

/// Page order number `k`: sequential, strided (coprime stride) or random.
fn order(k: u64, pages: usize, rng: &mut Rng) -> (&'static str, Vec<usize>) {
    match k % 3 {
        0 => ("sequential", (0..pages).collect()),
        1 => {
            let mut stride = 7usize;
            while pages > 1 && gcd(stride, pages) != 1 {
                stride += 2;
            }
            (
                "strided",
                (0..pages).map(|i| (i * stride) % pages).collect(),
            )
        }
        _ => ("random", rng.permutation(pages)),
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

fn exhaust(o: &Opts) -> Result<String, String> {
    let end = process::uptime() + u64::from(o.secs) * 100 / 3;
    let cap = o.size * 256;
    let mut workers = Workers::new()?;
    // The workers start together, once all are forked.
    let (gate_r, gate_w) = fd::pipe().map_err(e("pipe"))?;
    for w in 0..3u64 {
        let seed = o.seed.wrapping_add(w * 1000);
        workers.spawn(&format!("exhaust{w}"), move |_| {
            let _ = fd::close(gate_w);
            let mut b = [0u8; 1];
            let _ = fd::read(gate_r, &mut b);
            let _ = fd::close(gate_r);
            let mut rng = Rng::new(seed);
            // Room for the orders, taken before memory runs out.
            let mut buf: Vec<usize> = Vec::with_capacity(cap);
            let (mut rounds, mut most) = (0u64, 0usize);
            let mut kinds = Vec::new();
            while rounds == 0 || process::uptime() < end {
                let (start, pages, err) = grab(usize::MAX);
                if err != Errno::ENOMEM {
                    let _ = release(pages);
                    return Err(format!("sbrk stopped with {err:?} after {pages} pages"));
                }
                most = most.max(pages);
                let n = pages.min(cap);
                let (kind, ord) = order(rounds + seed, n, &mut rng);
                buf.clear();
                buf.extend_from_slice(&ord);
                drop(ord);
                let t = touch(start, &buf, seed ^ rounds);
                release(pages)?;
                t.map_err(|w| format!("round {rounds} ({kind}, {n} of {pages} pages): {w}"))?;
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
                rounds += 1;
            }
            Ok(format!(
                "{rounds} rounds, up to {most} pages, {}",
                kinds.join("/")
            ))
        });
    }
    let _ = fd::close(gate_r);
    let _ = fd::close(gate_w);
    let (oks, fails) = workers.finish();
    if fails.is_empty() {
        Ok(oks.join(", "))
    } else {
        Err(stresskit::summarize(&fails, 4))
    }
}

/// The word at byte offset `off` of a region written with `tag`.
fn word(off: usize, tag: u64) -> u64 {
    (off as u64 ^ tag.rotate_left(17)).wrapping_mul(0xbf58_476d_1ce4_e5b9) ^ tag
}

/// Writes `tag`'s pattern over `pages` pages at `start`, in `order`.
fn fill(start: usize, order: &[usize], tag: u64) {
    for &i in order {
        for w in 0..PAGE / 8 {
            let off = i * PAGE + w * 8;
            // SAFETY: below the break this process grew (or inherited).
            unsafe { ((start + off) as *mut u64).write_volatile(word(off, tag)) };
        }
    }
}

/// Checks every byte of `pages` pages at `start` holds `tag`'s pattern.
fn check(start: usize, pages: usize, tag: u64) -> Result<(), String> {
    for off in (0..pages * PAGE).step_by(8) {
        // SAFETY: as in `fill`.
        let got = unsafe { ((start + off) as *const u64).read_volatile() };
        if got != word(off, tag) {
            return Err(format!(
                "byte offset {off:#x} holds {got:#018x}, pattern {tag} wants {:#018x}",
                word(off, tag)
            ));
        }
    }
    Ok(())
}

fn cow(o: &Opts) -> Result<String, String> {
    let pages = o.size.min(8) * 256;
    let end = process::uptime() + u64::from(o.secs) * 100 / 4;
    let mut rng = Rng::new(o.seed ^ 0xc0);
    let mut rounds = 0;
    while rounds == 0 || process::uptime() < end {
        let (start, got, err) = grab(pages);
        if got != pages {
            let _ = release(got);
            return Err(format!("sbrk of {pages} pages: {err:?} after {got}"));
        }
        let seq: Vec<usize> = (0..pages).collect();
        fill(start, &seq, 1);
        let mut workers = Workers::new()?;
        for k in 0..3u64 {
            let (_, ord) = order(k, pages, &mut rng);
            workers.spawn(&format!("child{k}"), move |_| {
                check(start, pages, 1).map_err(|w| format!("before writing: {w}"))?;
                fill(start, &ord, 10 + k);
                check(start, pages, 10 + k).map_err(|w| format!("its own: {w}"))?;
                let status = ulib::test::status_of(|| {
                    if check(start, pages, 10 + k).is_err() {
                        return 2;
                    }
                    let rev: Vec<usize> = ord.iter().rev().copied().collect();
                    fill(start, &rev, 20 + k);
                    if check(start, pages, 20 + k).is_err() {
                        return 3;
                    }
                    0
                })?;
                if status != 0 {
                    return Err(format!("the grandchild failed with {status}"));
                }
                check(start, pages, 10 + k).map_err(|w| format!("after the grandchild: {w}"))?;
                Ok(String::from("ok"))
            });
        }
        let (_, ord) = order(rounds, pages, &mut rng);
        fill(start, &ord, 99);
        let (_, fails) = workers.finish();
        let mine = check(start, pages, 99);
        release(pages)?;
        if !fails.is_empty() {
            return Err(format!(
                "round {rounds}: {}",
                stresskit::summarize(&fails, 3)
            ));
        }
        mine.map_err(|w| format!("round {rounds}: the parent's: {w}"))?;
        rounds += 1;
    }
    Ok(format!(
        "{rounds} rounds of {pages} pages in 1 + 3 + 3 processes"
    ))
}

fn ctr_pages(_: &Opts) -> Result<String, String> {
    const HEADROOM: u64 = 1024;
    let c = container::create(&Spec::new().name("sm-pages").map_err(e("name"))?.build())
        .map_err(e("create_container"))?;
    let r = ctr_pages_in(c, HEADROOM);
    let d = container::destroy(c).map_err(e("destroy_container"));
    let s = r?;
    d?;
    Ok(s)
}

fn ctr_pages_in(c: i32, headroom: u64) -> Result<String, String> {
    let (cmd_r, cmd_w) = fd::pipe().map_err(e("pipe"))?;
    let (rep_r, rep_w) = fd::pipe().map_err(e("pipe"))?;
    let member = process::spawn(|| {
        let _ = fd::close(cmd_w);
        let _ = fd::close(rep_r);
        let say = |s: &str| {
            let _ = fd::write_all(rep_w, s.as_bytes());
        };
        if container::join(c).is_err() {
            say("join failed\n");
            return 1;
        }
        say("joined\n");
        let mut b = [0u8; 1];
        let _ = fd::read(cmd_r, &mut b);
        let mut msg = String::with_capacity(256);
        // Room for the page order, taken before the limit is reached.
        let mut ord: Vec<usize> = Vec::with_capacity(4 * 1024);
        for round in 0..2 {
            let (start, pages, err) = grab(usize::MAX);
            ord.clear();
            ord.extend((0..pages).take(ord.capacity()));
            let t = touch(start, &ord, round);
            // A fork at the limit: refused cleanly, or it works.
            let f = match process::fork() {
                Ok(Fork::Child) => process::exit(7),
                Ok(Fork::Parent(pid)) => {
                    let mut others = Vec::new();
                    match process::wait_for(pid, &mut others) {
                        Ok(7) => String::from("forked"),
                        Ok(s) => format!("child-status-{s}"),
                        Err(err) => format!("wait-{err:?}"),
                    }
                }
                Err(err) => format!("{err:?}"),
            };
            msg += &format!("{pages} {err:?} {f} {}\n", t.is_ok());
            say(&msg);
            msg.clear();
            let _ = fd::read(cmd_r, &mut b);
            let _ = release(pages);
        }
        0
    })
    .map_err(e("fork"))?;
    let _ = fd::close(cmd_r);
    let _ = fd::close(rep_w);
    let mut lines = stresskit::Line::default();
    let mut pending: Vec<String> = Vec::new();
    let mut next_line = || -> String {
        let mut buf = [0u8; 256];
        while pending.is_empty() {
            match fd::read(rep_r, &mut buf) {
                Ok(0) | Err(_) => return String::from("(the member's reports ended)"),
                Ok(n) => pending.extend(lines.feed(&buf[..n])),
            }
        }
        pending.remove(0)
    };
    let mut why = Vec::new();
    let hello = next_line();
    if hello != "joined" {
        return Err(format!("the member said {hello:?}"));
    }
    let base = container::info(c)
        .map_err(e("containers"))?
        .map_or(0, |i| i.pages);
    let limit = base + headroom;
    let spec = Spec::new().flags(UPDATE_MAX_PAGES).max_pages(limit).build();
    container::update(c, &spec).map_err(e("update_container"))?;
    let mut got = Vec::new();
    for round in 0..2 {
        let _ = fd::write_all(cmd_w, b"g");
        let said = next_line();
        let charged = container::info(c).ok().flatten().map_or(0, |i| i.pages);
        let f: Vec<&str> = said.split(' ').collect();
        let pages: u64 = f.first().and_then(|p| p.parse().ok()).unwrap_or(0);
        if f.len() != 4
            || f[1] != "ENOMEM"
            || f[3] != "true"
            || !(f[2] == "forked" || f[2] == "ENOMEM" || f[2] == "EAGAIN")
        {
            why.push(format!(
                "round {round}: the member said {said:?} (want PAGES ENOMEM forked|ENOMEM|EAGAIN true)"
            ));
        }
        if pages < headroom / 2 || pages > headroom {
            why.push(format!(
                "round {round}: grew {pages} pages under a limit {headroom} above its {base}"
            ));
        }
        if charged > limit {
            why.push(format!(
                "round {round}: charged {charged} pages, the limit is {limit}"
            ));
        }
        got.push(pages);
    }
    let _ = fd::close(cmd_w);
    let mut others = Vec::new();
    let status = process::wait_for(member, &mut others).map_err(e("wait"))?;
    let _ = fd::close(rep_r);
    if status != 0 {
        why.push(format!("the member exited with {status}"));
    }
    if why.is_empty() {
        Ok(format!(
            "grew {} and {} pages to a limit of {limit} (base {base})",
            got[0], got[1]
        ))
    } else {
        Err(why.join("; "))
    }
}

/// The hog case runs in an observer child, the "shell side" that must
/// survive: were it killed, the program (blocked in `wait`, writing
/// nothing) still reports it.
fn hog(_: &Opts) -> Result<String, String> {
    let mut workers = Workers::new()?;
    workers.spawn("hog observer", |_| hog_observed());
    let (oks, fails) = workers.finish();
    if fails.is_empty() {
        Ok(oks.join(", "))
    } else {
        Err(stresskit::summarize(&fails, 4))
    }
}

fn hog_observed() -> Result<String, String> {
    let (cmd_r, cmd_w) = fd::pipe().map_err(e("pipe"))?;
    let (rep_r, rep_w) = fd::pipe().map_err(e("pipe"))?;
    let hog = process::spawn(|| {
        let _ = fd::close(cmd_w);
        let _ = fd::close(rep_r);
        let (start, pages, err) = grab(usize::MAX);
        let mut tagged = 0usize;
        for i in 0..pages {
            // SAFETY: below the break just grown.
            unsafe { ((start + i * PAGE) as *mut u64).write_volatile(page_tag(i, 77)) };
            tagged += 1;
        }
        let _ = fd::write_all(rep_w, format!("{tagged} {err:?}\n").as_bytes());
        let mut b = [0u8; 1];
        let _ = fd::read(cmd_r, &mut b);
        for i in 0..pages {
            // SAFETY: as above.
            if unsafe { ((start + i * PAGE) as *const u64).read_volatile() } != page_tag(i, 77) {
                return 3;
            }
        }
        let _ = release(pages);
        0
    })
    .map_err(e("fork the hog"))?;
    let _ = fd::close(cmd_r);
    let _ = fd::close(rep_w);
    let mut buf = [0u8; 128];
    let n = fd::read(rep_r, &mut buf).unwrap_or(0);
    let said = String::from_utf8_lossy(&buf[..n]).trim().to_string();
    let mut why = Vec::new();
    let held: usize = said
        .split(' ')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    if !said.ends_with(" ENOMEM") || held == 0 {
        why.push(format!("the hog said {said:?} (want PAGES ENOMEM)"));
    }
    // While the hog holds everything: clean failures or success only.
    let (mut ran, mut refused) = (0, 0);
    for _ in 0..5 {
        match nop() {
            Ok(0) => ran += 1,
            Ok(s) if s == KILLED_STATUS => why.push(String::from(
                "a fork+exec of /nop was killed while the hog held the memory",
            )),
            Ok(126) => refused += 1,
            Ok(s) => why.push(format!("/nop's child exited with {s}")),
            Err(Errno::ENOMEM) | Err(Errno::EAGAIN) => refused += 1,
            Err(err) => why.push(format!("fork: {}", err.description())),
        }
    }
    match process::sbrk(PAGE as isize) {
        Ok(p) => {
            // SAFETY: the page just promised.
            unsafe { (p as *mut u64).write_volatile(1) };
            let _ = process::sbrk(-(PAGE as isize));
        }
        Err(Errno::ENOMEM) => refused += 1,
        Err(err) => why.push(format!("sbrk: {}", err.description())),
    }
    let _ = fd::close(cmd_w);
    let mut others = Vec::new();
    let status = process::wait_for(hog, &mut others).map_err(e("wait"))?;
    let _ = fd::close(rep_r);
    match status {
        0 => {}
        KILLED_STATUS => why.push(String::from("the hog was killed")),
        3 => why.push(String::from("the hog's pages lost their tags")),
        s => why.push(format!("the hog exited with {s}")),
    }
    // And afterwards fork+exec works again.
    let after = nop();
    if after != Ok(0) {
        why.push(format!("after the hog, fork+exec of /nop gave {after:?}"));
    }
    if why.is_empty() {
        Ok(format!(
            "the hog held {held} pages; meanwhile {ran} /nop ran, {refused} refused cleanly"
        ))
    } else {
        Err(why.join("; "))
    }
}

/// fork + exec `/nop`: the child's status (126: exec failed with ENOMEM,
/// 127: another exec error), or fork's error.
fn nop() -> Result<i32, Errno> {
    match process::fork()? {
        Fork::Child => {
            let err = process::exec("/nop", &["nop"]);
            process::exit(if err == Errno::ENOMEM { 126 } else { 127 })
        }
        Fork::Parent(pid) => {
            let mut others = Vec::new();
            process::wait_for(pid, &mut others)
        }
    }
}
