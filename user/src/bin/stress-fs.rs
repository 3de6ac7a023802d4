//! stress-fs: concurrent file-system writers on the host and in
//! containers. Run from the host.
//!
//! `stress-fs [-t SECS] [-n WRITERS] [-s SEED]` (defaults 10 s, 4 writers,
//! seed 1). Even writers run on the host, odd ones each in a container of
//! their own. Each works in its directory `/sf<w>` (and host writers also
//! in the shared `/sf-shared`), doing random creates, appends, truncates,
//! unlinks, mkdirs and links while keeping a model of what every name
//! should hold; it reads files back against the model as it goes and all
//! of them at the end, then removes everything it made and checks it is
//! gone. The last line is `stress-fs: PASS` or `stress-fs: FAIL: <why>`
//! (exit 0 only on PASS).
#![cfg(not(test))]
#![no_std]
#![no_main]

use alloc::collections::BTreeMap;

use ulib::abi::fcntl::{O_APPEND, O_CREATE, O_RDONLY, O_TRUNC, O_WRONLY};
use ulib::container::{self, Spec};
use ulib::fd;
use ulib::prelude::*;
use ulib::process;
use ulib::stresskit::{self, OptSpec, Opts, Rng, Scenario, Workers};

extern crate alloc;

entry!(main);

const SPEC: OptSpec = OptSpec {
    name: "stress-fs",
    size_flag: "-n",
    size_what: "WRITERS",
    size_default: 4,
    size_min: 1,
    size_max: 16,
    secs_default: 10,
};

const SHARED: &str = "/sf-shared";
/// Most names a writer keeps at once.
const MAX_NAMES: usize = 24;

fn main(args: Args) -> i32 {
    stresskit::run_main(
        &SPEC,
        args,
        &[Scenario {
            name: "writers",
            run: writers,
        }],
    )
}

fn e(what: &str) -> impl Fn(Errno) -> String + '_ {
    move |err| format!("{what}: {}", err.description())
}

fn writers(o: &Opts) -> Result<String, String> {
    fd::mkdir(SHARED).map_err(e("mkdir /sf-shared"))?;
    let end = process::uptime() + u64::from(o.secs) * 100;
    let mut workers = Workers::new()?;
    let mut made = Vec::new();
    for w in 0..o.size {
        let ctr = if w % 2 == 1 {
            let spec = Spec::new().name(&format!("sf{w}")).map_err(e("name"))?;
            match container::create(&spec.build()) {
                Ok(c) => {
                    made.push(c);
                    Some(c)
                }
                Err(err) => {
                    let _ = fd::unlink(SHARED);
                    return Err(format!("create_container: {}", err.description()));
                }
            }
        } else {
            None
        };
        let seed = o.seed.wrapping_mul(977).wrapping_add(w as u64);
        let name = match ctr {
            Some(c) => format!("w{w}(ctr {c})"),
            None => format!("w{w}(host)"),
        };
        workers.spawn(&name, move |_| {
            if let Some(c) = ctr {
                container::join(c).map_err(e("join_container"))?;
            }
            Writer::new(w, seed, ctr.is_none()).run(end)
        });
    }
    let (oks, mut fails) = workers.finish();
    for c in made {
        if let Err(err) = container::destroy(c) {
            fails.push(format!("destroy_container({c}): {}", err.description()));
        }
    }
    if let Err(err) = fd::unlink(SHARED) {
        fails.push(format!(
            "unlink /sf-shared (it should be empty): {}",
            err.description()
        ));
    }
    for w in 0..o.size {
        if fd::open(&format!("/sf{w}"), O_RDONLY).is_ok() {
            fails.push(format!("/sf{w} is still there (or shows on the host)"));
        }
    }
    if fails.is_empty() {
        Ok(oks.join(", "))
    } else {
        Err(stresskit::summarize(&fails, 4))
    }
}

struct Writer {
    w: usize,
    rng: Rng,
    shared: bool,
    dir: String,
    dirs: Vec<String>,
    /// Name -> file id; several names may share one (links).
    names: BTreeMap<String, usize>,
    contents: Vec<Vec<u8>>,
    next: usize,
    ops: [u32; 7],
}

impl Writer {
    fn new(w: usize, seed: u64, shared: bool) -> Writer {
        Writer {
            w,
            rng: Rng::new(seed),
            shared,
            dir: format!("/sf{w}"),
            dirs: Vec::new(),
            names: BTreeMap::new(),
            contents: Vec::new(),
            next: 0,
            ops: [0; 7],
        }
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let base = self.rng.next_u64();
        (0..n)
            .map(|i| (base.wrapping_add(i as u64 * 31) >> (i % 7)) as u8)
            .collect()
    }

    /// A fresh name: in the writer's directory, a subdirectory, or the shared one.
    fn fresh_name(&mut self) -> String {
        self.next += 1;
        let n = self.next;
        match self.rng.below(4) {
            0 if self.shared => format!("{SHARED}/w{}-{n}", self.w),
            1 if !self.dirs.is_empty() => {
                let d = self.dirs[self.rng.below(self.dirs.len() as u64) as usize].clone();
                format!("{d}/f{n}")
            }
            _ => format!("{}/f{n}", self.dir),
        }
    }

    fn pick(&mut self) -> Option<String> {
        if self.names.is_empty() {
            return None;
        }
        let i = self.rng.below(self.names.len() as u64) as usize;
        self.names.keys().nth(i).cloned()
    }

    fn write_to(path: &str, flags: u32, bytes: &[u8]) -> Result<(), String> {
        let f =
            fd::open(path, flags).map_err(|err| format!("open {path}: {}", err.description()))?;
        let r =
            fd::write_all(f, bytes).map_err(|err| format!("write {path}: {}", err.description()));
        let _ = fd::close(f);
        r
    }

    fn verify(&self, path: &str) -> Result<(), String> {
        let want = &self.contents[self.names[path]];
        let f = fd::open(path, O_RDONLY)
            .map_err(|err| format!("open {path}: {}", err.description()))?;
        let mut got = Vec::new();
        let r = fd::read_to_end(f, &mut got);
        let _ = fd::close(f);
        r.map_err(|err| format!("read {path}: {}", err.description()))?;
        if &got != want {
            let at = got.iter().zip(want.iter()).position(|(a, b)| a != b);
            return Err(format!(
                "{path} holds {} bytes, {} were written (first difference at {at:?})",
                got.len(),
                want.len()
            ));
        }
        Ok(())
    }

    fn step(&mut self) -> Result<(), String> {
        match self.rng.below(10) {
            0 | 1 if self.names.len() < MAX_NAMES => {
                let path = self.fresh_name();
                let n = self.rng.below(6000) as usize;
                let b = self.bytes(n);
                Self::write_to(&path, O_CREATE | O_WRONLY | O_TRUNC, &b)?;
                self.contents.push(b);
                self.names.insert(path, self.contents.len() - 1);
                self.ops[0] += 1;
            }
            2 | 3 => {
                if let Some(p) = self.pick() {
                    let n = self.rng.range(1, 1500) as usize;
                    let b = self.bytes(n);
                    Self::write_to(&p, O_WRONLY | O_APPEND, &b)?;
                    let id = self.names[&p];
                    self.contents[id].extend_from_slice(&b);
                    self.ops[1] += 1;
                }
            }
            4 => {
                if let Some(p) = self.pick() {
                    let n = self.rng.below(500) as usize;
                    let b = self.bytes(n);
                    Self::write_to(&p, O_WRONLY | O_TRUNC, &b)?;
                    let id = self.names[&p];
                    self.contents[id] = b;
                    self.ops[2] += 1;
                }
            }
            5 => {
                if let Some(p) = self.pick() {
                    fd::unlink(&p).map_err(|err| format!("unlink {p}: {}", err.description()))?;
                    self.names.remove(&p);
                    if fd::open(&p, O_RDONLY).is_ok() {
                        return Err(format!("{p} opens after its unlink"));
                    }
                    self.ops[3] += 1;
                }
            }
            6 if self.dirs.len() < 4 => {
                self.next += 1;
                let d = format!("{}/d{}", self.dir, self.next);
                fd::mkdir(&d).map_err(|err| format!("mkdir {d}: {}", err.description()))?;
                self.dirs.push(d);
                self.ops[4] += 1;
            }
            7 if self.names.len() < MAX_NAMES => {
                if let Some(p) = self.pick() {
                    let new = self.fresh_name();
                    fd::link(&p, &new)
                        .map_err(|err| format!("link {p} {new}: {}", err.description()))?;
                    let id = self.names[&p];
                    self.names.insert(new.clone(), id);
                    self.verify(&new)?;
                    self.ops[5] += 1;
                }
            }
            _ => {
                if let Some(p) = self.pick() {
                    self.verify(&p)?;
                    self.ops[6] += 1;
                }
            }
        }
        Ok(())
    }

    fn run(mut self, end: u64) -> Result<String, String> {
        fd::mkdir(&self.dir).map_err(|err| format!("mkdir {}: {}", self.dir, err.description()))?;
        let mut r = Ok(());
        while process::uptime() < end {
            r = self.step();
            if r.is_err() {
                break;
            }
        }
        // Everything must read back as written, then go.
        let names: Vec<String> = self.names.keys().cloned().collect();
        let mut why = Vec::new();
        if let Err(w) = r {
            why.push(w);
        }
        for p in &names {
            if let Err(w) = self.verify(p) {
                why.push(w);
            }
        }
        for p in &names {
            if let Err(err) = fd::unlink(p) {
                why.push(format!("unlink {p}: {}", err.description()));
            }
        }
        for d in self.dirs.iter().rev() {
            if let Err(err) = fd::unlink(d) {
                why.push(format!("remove {d}: {}", err.description()));
            }
        }
        if let Err(err) = fd::unlink(&self.dir) {
            why.push(format!("remove {}: {}", self.dir, err.description()));
        }
        if why.is_empty() {
            let o = self.ops;
            Ok(format!(
                "{} creates, {} appends, {} truncates, {} unlinks, {} mkdirs, {} links, {} reads",
                o[0], o[1], o[2], o[3], o[4], o[5], o[6]
            ))
        } else {
            Err(stresskit::summarize(&why, 3))
        }
    }
}
