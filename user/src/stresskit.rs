//! What the stress programs (`stress-fork`, `stress-mem`, `stress-ctr`,
//! `stress-fs` and the `stress` runner) share: options, randomness, the
//! kernel-counter leak check, worker processes that report through one
//! pipe, and the verdict line.
//!
//! - [`Opts`]: `-t SECS`, `-s SEED` and one size knob (`-n`, `-c`, `-m`),
//!   parsed with messages naming the option;
//! - [`Rng`]: splitmix64, so a seed replays a run's choices;
//! - [`leaks`]: which `kstats` counters differ from a baseline (pure),
//!   [`settle`]: polls `kstats` until they come back or a deadline passes;
//! - [`Workers`]: children that each end with one `ok`/`FAIL` line on a
//!   shared pipe, collected and reaped by the parent;
//! - [`run_main`]: runs a program's scenarios and prints the verdict line
//!   `NAME: PASS` or `NAME: FAIL: <why>`.
//!
//! The pure parts (options, [`Rng`], [`leaks`], [`Line`]) are host-tested.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use berth_abi::syscall::KernelStats;

/// Kernel-heap bytes a run may leave in use beyond its start: the
/// kernel's caches are preallocated (buffer cache, inode table, process
/// table), so after a settle the heap is back to the byte or close; this
/// covers allocator fragmentation (a freed block split differently).
pub const HEAP_ALLOWANCE: u64 = 16 * 1024;

/// Pages a program's own growth may account for when it checks itself
/// (its heap and stack grew during the run and stay until it exits): the
/// `stress` runner checks from outside, after the program is gone, with none.
pub const SELF_PAGES: u64 = 256;

/// The options every stress program takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Opts {
    /// Seconds the run lasts (roughly: set-up and the final checks come on top).
    pub secs: u32,
    /// The size knob (processes, containers, MiB: the program says).
    pub size: usize,
    /// Seed of the run's random choices.
    pub seed: u64,
}

/// How a program's options look: its name, its size flag and its range.
pub struct OptSpec {
    pub name: &'static str,
    /// `-n`, `-c` or `-m`.
    pub size_flag: &'static str,
    /// What the size counts, for the usage line (`PROCS`, `CONTAINERS`, `MiB`).
    pub size_what: &'static str,
    pub size_default: usize,
    pub size_min: usize,
    pub size_max: usize,
    pub secs_default: u32,
}

impl OptSpec {
    /// `usage: NAME [-t SECS] [-n PROCS] [-s SEED]`.
    pub fn usage(&self) -> String {
        format!(
            "usage: {} [-t SECS] [{} {}] [-s SEED]",
            self.name, self.size_flag, self.size_what
        )
    }

    /// Parses the arguments after the program's name.
    pub fn parse<'a>(&self, args: impl IntoIterator<Item = &'a str>) -> Result<Opts, String> {
        let mut o = Opts {
            secs: self.secs_default,
            size: self.size_default,
            seed: 1,
        };
        let mut args = args.into_iter();
        while let Some(a) = args.next() {
            if a != "-t" && a != "-s" && a != self.size_flag {
                return Err(format!("unknown argument {a}"));
            }
            let v = args.next().ok_or(format!("{a} needs a value"))?;
            let n: u64 = v.parse().map_err(|_| format!("{a} {v}: not a number"))?;
            let within = |lo: u64, hi: u64| {
                if (lo..=hi).contains(&n) {
                    Ok(n)
                } else {
                    Err(format!("{a} {v}: not in {lo}..{hi}"))
                }
            };
            match a {
                "-t" => o.secs = within(1, 3600)? as u32,
                "-s" => o.seed = n,
                _ => o.size = within(self.size_min as u64, self.size_max as u64)? as usize,
            }
        }
        Ok(o)
    }
}

/// A splitmix64 generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// The generator for `seed` (distinct seeds give unrelated streams).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// One element of `xs` (which must not be empty).
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }

    /// A permutation of `0..n` (Fisher-Yates).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        v
    }
}

/// What a leak check tolerates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allowance {
    /// Kernel-heap bytes.
    pub heap: u64,
    /// Frames and charged pages (the checker's own growth).
    pub pages: u64,
}

impl Allowance {
    /// The `stress` runner's: the program has exited, only the heap may move.
    pub const EXACT: Allowance = Allowance {
        heap: HEAP_ALLOWANCE,
        pages: 0,
    };
    /// A program checking itself.
    pub const SELF: Allowance = Allowance {
        heap: HEAP_ALLOWANCE,
        pages: SELF_PAGES,
    };
}

/// The counters that differ from `before` beyond `allow`, as
/// `procs 5 -> 7` phrases; empty: nothing leaked. Fewer processes,
/// containers, charges or heap than before, or more free frames, is not
/// a leak (something of before's ended); more is.
pub fn leaks(before: &KernelStats, after: &KernelStats, allow: Allowance) -> Vec<String> {
    let mut out = Vec::new();
    let mut more = |name: &str, b: u64, a: u64, slack: u64| {
        if a > b + slack {
            out.push(format!("{name} {b} -> {a}"));
        }
    };
    more("procs", before.procs.into(), after.procs.into(), 0);
    more(
        "containers",
        before.containers.into(),
        after.containers.into(),
        0,
    );
    more(
        "pages_committed",
        before.pages_committed,
        after.pages_committed,
        allow.pages,
    );
    more(
        "pages_charged",
        before.pages_charged,
        after.pages_charged,
        allow.pages,
    );
    more("heap_used", before.heap_used, after.heap_used, allow.heap);
    more(
        "inodes_cached",
        before.inodes_cached.into(),
        after.inodes_cached.into(),
        0,
    );
    if after.frames_free + allow.pages < before.frames_free {
        out.push(format!(
            "frames_free {} -> {}",
            before.frames_free, after.frames_free
        ));
    }
    out
}

/// One row of the leak table: the signed change of each counter.
pub fn deltas(before: &KernelStats, after: &KernelStats) -> [i64; 7] {
    let d = |b: u64, a: u64| a as i64 - b as i64;
    [
        d(before.procs.into(), after.procs.into()),
        d(before.containers.into(), after.containers.into()),
        d(before.frames_free, after.frames_free),
        d(before.pages_committed, after.pages_committed),
        d(before.pages_charged, after.pages_charged),
        d(before.heap_used, after.heap_used),
        d(before.inodes_cached.into(), after.inodes_cached.into()),
    ]
}

/// The names of [`deltas`]' columns.
pub const DELTA_NAMES: [&str; 7] = [
    "procs",
    "ctrs",
    "frames_free",
    "committed",
    "charged",
    "heap_used",
    "inodes",
];

/// A line of text cut from a byte stream (reports on a pipe).
#[derive(Default)]
pub struct Line {
    partial: Vec<u8>,
}

impl Line {
    /// Adds `bytes`; returns every line completed (without its `\n`).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(i) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=i).collect();
            out.push(String::from_utf8_lossy(&line[..i]).into_owned());
        }
        out
    }

    /// What is left after the last `\n`.
    pub fn rest(&self) -> String {
        String::from_utf8_lossy(&self.partial).into_owned()
    }
}

/// `a; b; c` of the first `max` items, and `and N more`.
pub fn summarize(items: &[String], max: usize) -> String {
    let mut s = items[..items.len().min(max)].join("; ");
    if items.len() > max {
        s += &format!("; and {} more", items.len() - max);
    }
    s
}

#[cfg(not(test))]
pub use runtime::*;

#[cfg(not(test))]
mod runtime {
    use super::*;
    use crate::fd::{self, Fd};
    use crate::process::{self, Pid};
    use alloc::string::ToString;
    use berth_abi::errno::Errno;
    use berth_abi::limits::KILLED_STATUS;

    /// `kstats`, or why not.
    pub fn kstats() -> Result<KernelStats, String> {
        process::kstats().map_err(|e| format!("kstats: {}", e.description()))
    }

    /// Polls `kstats` every few ticks until nothing leaked against `before`
    /// or `ticks` have passed; returns the last figures and what still differs.
    pub fn settle(
        before: &KernelStats,
        allow: Allowance,
        ticks: u64,
    ) -> Result<(KernelStats, Vec<String>), String> {
        let end = process::uptime() + ticks;
        loop {
            let now = kstats()?;
            let l = leaks(before, &now, allow);
            if l.is_empty() || process::uptime() >= end {
                return Ok((now, l));
            }
            let _ = process::sleep(5);
        }
    }

    /// Makes the heap and the stack big enough for the run up front, so the
    /// program's own growth does not show in its leak check (and so it does
    /// not need memory when memory has run out).
    pub fn prewarm(heap_bytes: usize) {
        let v: Vec<u8> = alloc::vec![1u8; heap_bytes];
        core::hint::black_box(&v);
        drop(v);
        touch_stack();
    }

    #[inline(never)]
    fn touch_stack() {
        let mut a = [0u8; 48 * 1024];
        for i in (0..a.len()).step_by(512) {
            a[i] = i as u8;
        }
        core::hint::black_box(&mut a);
    }

    /// Sleeps until uptime reaches `tick`.
    pub fn sleep_until(tick: u64) {
        let now = process::uptime();
        if tick > now {
            let _ = process::sleep((tick - now).min(i32::MAX as u64) as i32);
        }
    }

    /// Children that each end with one report line on a shared pipe.
    pub struct Workers {
        r: Fd,
        w: Fd,
        pids: Vec<(Pid, String)>,
        /// Workers that could not be forked.
        errors: Vec<String>,
    }

    /// The write end of the report pipe, as a worker holds it.
    #[derive(Clone, Copy)]
    pub struct Reporter(pub Fd);

    impl Reporter {
        /// Writes one line (one `write`: it stays whole on the pipe).
        pub fn line(&self, text: &str) {
            let mut s = String::with_capacity(text.len() + 1);
            s.push_str(text);
            s.push('\n');
            let _ = fd::write_all(self.0, s.as_bytes());
        }

        /// Reports a failure, `FAIL <who>: <why>`.
        pub fn fail(&self, who: &str, why: &str) {
            self.line(&format!("FAIL {who}: {why}"));
        }
    }

    impl Workers {
        pub fn new() -> Result<Workers, String> {
            let (r, w) = fd::pipe().map_err(|e| format!("pipe: {}", e.description()))?;
            Ok(Workers {
                r,
                w,
                pids: Vec::new(),
                errors: Vec::new(),
            })
        }

        /// The reporter children of the caller can use.
        pub fn reporter(&self) -> Reporter {
            Reporter(self.w)
        }

        /// Forks worker `name` running `f`: `Ok(summary)` reports `ok`,
        /// `Err(why)` reports `FAIL`. A fork that fails is one of
        /// [`Workers::finish`]'s failures (`None` here), so the workers
        /// already running are still collected.
        pub fn spawn(
            &mut self,
            name: &str,
            f: impl FnOnce(Reporter) -> Result<String, String>,
        ) -> Option<Pid> {
            let w = self.w;
            let r = self.r;
            let owned = name.to_string();
            let pid = process::spawn(move || {
                let _ = fd::close(r);
                let rep = Reporter(w);
                match f(rep) {
                    Ok(s) => {
                        rep.line(&format!("ok {owned}: {s}"));
                        0
                    }
                    Err(why) => {
                        rep.fail(&owned, &why);
                        1
                    }
                }
            })
            .map_err(|e| format!("fork worker {name}: {}", e.description()));
            match pid {
                Ok(pid) => {
                    self.pids.push((pid, name.to_string()));
                    Some(pid)
                }
                Err(why) => {
                    self.errors.push(why);
                    None
                }
            }
        }

        /// Closes the parent's write end, reads every line until the last
        /// writer is gone, and reaps every child. Returns the `ok` summaries
        /// and the failures (reported ones, and workers that exited
        /// without a line or with a bad status).
        pub fn finish(self) -> (Vec<String>, Vec<String>) {
            let _ = fd::close(self.w);
            let mut oks = Vec::new();
            let mut fails = self.errors;
            let mut lines = Line::default();
            let mut buf = alloc::vec![0u8; 4096];
            loop {
                match fd::read(self.r, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        for l in lines.feed(&buf[..n]) {
                            if let Some(s) = l.strip_prefix("ok ") {
                                oks.push(s.to_string());
                            } else if let Some(s) = l.strip_prefix("FAIL ") {
                                fails.push(s.to_string());
                            } else {
                                fails.push(format!("a stray report {l:?}"));
                            }
                        }
                    }
                    Err(Errno::EINTR) => continue,
                    Err(e) => {
                        fails.push(format!("read the reports: {}", e.description()));
                        break;
                    }
                }
            }
            let _ = fd::close(self.r);
            if !lines.rest().is_empty() {
                fails.push(format!("a torn report {:?}", lines.rest()));
            }
            for (pid, status) in process::wait_all() {
                let name = self
                    .pids
                    .iter()
                    .find(|(p, _)| *p == pid)
                    .map_or("?", |(_, n)| n.as_str());
                if status == KILLED_STATUS {
                    fails.push(format!("worker {name} (pid {pid}) was killed"));
                } else if status != 0 && status != 1 {
                    fails.push(format!("worker {name} (pid {pid}) exited with {status}"));
                }
            }
            (oks, fails)
        }
    }

    /// A scenario: a summary of what it did, or why it failed.
    pub struct Scenario {
        pub name: &'static str,
        pub run: fn(&Opts) -> Result<String, String>,
    }

    /// The whole `main` of a stress program: parses the options, runs every
    /// scenario (`NAME: SCENARIO: ok: ...` or `FAILED: ...` each), checks
    /// that the kernel's counters came back (processes, containers,
    /// memory, cached inodes), and prints the verdict line. Exit status 0
    /// only on PASS, 2 on a usage error.
    pub fn run_main(spec: &OptSpec, args: crate::Args, scenarios: &[Scenario]) -> i32 {
        let name = spec.name;
        let opts = match spec.parse(args.skip(1)) {
            Ok(o) => o,
            Err(why) => {
                crate::eprintln!("{name}: {why}");
                crate::eprintln!("{}", spec.usage());
                return 2;
            }
        };
        if crate::container::getcid() != 0 {
            crate::println!("{name}: FAIL: run it on the host (it reads kstats, makes containers)");
            return 1;
        }
        prewarm(256 * 1024);
        let before = match kstats() {
            Ok(k) => k,
            Err(why) => {
                crate::println!("{name}: FAIL: {why}");
                return 1;
            }
        };
        let mut failures = Vec::new();
        for s in scenarios {
            let t0 = process::uptime();
            match (s.run)(&opts) {
                Ok(summary) => crate::println!(
                    "{name}: {}: ok ({} ticks): {summary}",
                    s.name,
                    process::uptime() - t0
                ),
                Err(why) => {
                    crate::println!("{name}: {}: FAILED: {why}", s.name);
                    failures.push(format!("{}: {why}", s.name));
                }
            }
        }
        match settle(&before, Allowance::SELF, 500) {
            Ok((_, l)) if l.is_empty() => {}
            Ok((_, l)) => {
                let why = format!("left behind after 5 s: {}", l.join(", "));
                crate::println!("{name}: leak check: FAILED: {why}");
                failures.push(why);
            }
            Err(why) => failures.push(why),
        }
        if failures.is_empty() {
            crate::println!("{name}: PASS");
            0
        } else {
            crate::println!("{name}: FAIL: {}", summarize(&failures, 4));
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: OptSpec = OptSpec {
        name: "stress-x",
        size_flag: "-n",
        size_what: "PROCS",
        size_default: 10,
        size_min: 1,
        size_max: 100,
        secs_default: 20,
    };

    #[test]
    fn options_parse_and_refuse_with_the_option_named() {
        assert_eq!(
            SPEC.parse([]),
            Ok(Opts {
                secs: 20,
                size: 10,
                seed: 1
            })
        );
        assert_eq!(
            SPEC.parse(["-t", "3", "-n", "50", "-s", "9"]),
            Ok(Opts {
                secs: 3,
                size: 50,
                seed: 9
            })
        );
        assert_eq!(
            SPEC.parse(["-n", "101"]),
            Err("-n 101: not in 1..100".into())
        );
        assert_eq!(SPEC.parse(["-c", "1"]), Err("unknown argument -c".into()));
        assert_eq!(SPEC.parse(["-t"]), Err("-t needs a value".into()));
        assert_eq!(SPEC.parse(["-t", "x"]), Err("-t x: not a number".into()));
        assert_eq!(
            SPEC.usage(),
            "usage: stress-x [-t SECS] [-n PROCS] [-s SEED]"
        );
    }

    #[test]
    fn rng_replays_and_permutes() {
        let mut a = Rng::new(5);
        let mut b = Rng::new(5);
        assert_eq!(a.next_u64(), b.next_u64());
        let mut p = a.permutation(100);
        p.sort();
        assert_eq!(p, (0..100).collect::<Vec<_>>());
        for _ in 0..100 {
            assert!((3..=7).contains(&a.range(3, 7)));
        }
    }

    fn stats() -> KernelStats {
        KernelStats {
            frames_total: 1000,
            frames_free: 800,
            pages_committed: 0,
            pages_charged: 100,
            heap_used: 50_000,
            heap_size: 1 << 20,
            procs: 3,
            containers: 0,
            inodes_cached: 4,
            ..KernelStats::default()
        }
    }

    #[test]
    fn leaks_name_what_grew_and_allow_what_may() {
        let b = stats();
        assert!(leaks(&b, &b, Allowance::EXACT).is_empty());
        let mut a = b;
        a.procs = 4;
        a.frames_free = 790;
        a.heap_used += HEAP_ALLOWANCE;
        assert_eq!(
            leaks(&b, &a, Allowance::EXACT),
            ["procs 3 -> 4", "frames_free 800 -> 790"]
        );
        assert_eq!(leaks(&b, &a, Allowance::SELF), ["procs 3 -> 4"]);
        a.heap_used += 1;
        a.containers = 1;
        a.inodes_cached = 5;
        a.pages_committed = 1;
        assert_eq!(
            leaks(&b, &a, Allowance::EXACT),
            [
                "procs 3 -> 4",
                "containers 0 -> 1",
                "pages_committed 0 -> 1",
                "heap_used 50000 -> 66385",
                "inodes_cached 4 -> 5",
                "frames_free 800 -> 790"
            ]
        );
        // Fewer is not a leak.
        let mut c = b;
        c.procs = 2;
        c.frames_free = 900;
        c.pages_charged = 10;
        assert!(leaks(&b, &c, Allowance::EXACT).is_empty());
        assert_eq!(deltas(&b, &c), [-1, 0, 100, 0, -90, 0, 0]);
    }

    #[test]
    fn lines_are_cut_across_reads() {
        let mut l = Line::default();
        assert!(l.feed(b"ok a: 1").is_empty());
        assert_eq!(l.feed(b"\nFAIL b\nok"), ["ok a: 1", "FAIL b"]);
        assert_eq!(l.rest(), "ok");
        assert_eq!(
            summarize(&["a".into(), "b".into(), "c".into()], 2),
            "a; b; and 1 more"
        );
    }
}
