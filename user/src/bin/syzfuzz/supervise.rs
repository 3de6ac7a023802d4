//! The parent's side of one seed: make the fuzz child's container (unless
//! `-H`), start a ticker (a helper that writes a NUL byte into the report
//! pipe four times a second, so the parent's blocking read wakes up even
//! when the child is stuck), fork the child, and read its records. The
//! watchdog: no record for the watchdog time is a hang (the last `C`
//! record names the call in flight); a quiet child that is a zombie or
//! gone died (a fault, a kill, an exec that should have failed). In
//! container mode the parent also pauses and resumes the child's
//! container now and then, the freezer racing the calls. Afterwards it
//! kills and reaps everything, destroys the container (checking that its
//! `/fz` never shows on the host), and in host mode removes `/fz`,
//! destroys leftover containers, stops a trace and restores the hostname.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use ulib::abi::container::ContainerSpec;
use ulib::abi::limits::NPROC;
use ulib::abi::syscall::{proc_state, ProcInfo};
use ulib::container::{self, Cid, Spec};
use ulib::fd::{self, Fd};
use ulib::println;
use ulib::process::{self, Fork, Pid};
use ulib::sys;

use crate::fuzz::Config;
use crate::rng::Rng;

/// Ticks between two ticker bytes.
const TICK: i32 = 25;

/// The options a run was given.
#[derive(Clone, Copy, Debug)]
pub struct Opts {
    pub seed: u64,
    pub seeds: u64,
    /// Total seconds for all seeds (None: only the call limit).
    pub secs: Option<u64>,
    pub calls: Option<u64>,
    pub verbose: bool,
    pub host: bool,
    pub watchdog_secs: u64,
}

/// How one seed went.
pub struct Outcome {
    pub calls: u64,
    /// Known kernel bugs it ran into (they do not fail the seed).
    pub known: Vec<String>,
    /// Why it failed, and how many calls replay it.
    pub failure: Option<(String, u64)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    Finished,
    Hang,
    Died,
}

/// What the record stream said.
#[derive(Default)]
struct Stream {
    line: Vec<u8>,
    last_idx: u64,
    last_call: String,
    started: bool,
    violations: Vec<(u64, String)>,
    nviolations: u64,
    error: Option<String>,
    created: Vec<Cid>,
    tracing: bool,
    ended: Option<u64>,
    progress: bool,
    /// Known kernel bugs seen (names).
    pub known: Vec<String>,
}

impl Stream {
    fn feed(&mut self, bytes: &[u8], seed: u64, verbose: bool) -> bool {
        let mut ticked = false;
        for &b in bytes {
            match b {
                0 => ticked = true,
                b'\n' => {
                    let line = core::mem::take(&mut self.line);
                    self.record(&String::from_utf8_lossy(&line), seed, verbose);
                }
                _ => self.line.push(b),
            }
        }
        ticked
    }

    fn record(&mut self, line: &str, seed: u64, verbose: bool) {
        self.progress = true;
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        let (num, text) = rest.split_once(' ').unwrap_or((rest, ""));
        let n = num.parse::<u64>().unwrap_or(0);
        match tag {
            "C" => {
                self.last_idx = n;
                self.last_call = text.to_string();
                self.started = true;
                if verbose {
                    println!("[{seed}] {n}: {text}");
                }
            }
            "R" => {
                if verbose {
                    println!("[{seed}] {n}: = {text}");
                }
            }
            "V" => {
                self.nviolations += 1;
                if self.violations.len() < 3 {
                    println!("seed {seed}: violation at call {n}: {text}");
                    self.violations.push((n, text.to_string()));
                }
            }
            "X" => self.error = Some(rest.to_string()),
            "B" => {
                if !self.known.iter().any(|k| k == num) {
                    println!("seed {seed}: known kernel bug {num}: {text}");
                    self.known.push(num.to_string());
                }
            }
            "K" => self.created.push(n as Cid),
            "D" => self.created.retain(|&c| c != n as Cid),
            "T" => self.tracing = n == 1,
            "E" => self.ended = Some(n),
            _ => self.error = Some(format!("unreadable record {line:?}")),
        }
    }
}

/// Whether process `pid` is still alive (not a zombie, not gone).
fn alive(pid: Pid, rows: &mut [ProcInfo]) -> bool {
    match process::ps(rows) {
        Ok(n) => rows[..n]
            .iter()
            .any(|r| r.pid == pid && r.state != proc_state::ZOMBIE),
        Err(_) => true,
    }
}

/// Kills the children of `pid`, then `pid` (host mode: grandchildren do not fork).
fn kill_tree(pid: Pid, rows: &mut [ProcInfo]) {
    if let Ok(n) = process::ps(rows) {
        for r in &rows[..n] {
            if r.ppid == pid {
                let _ = process::kill(r.pid);
            }
        }
    }
    let _ = process::kill(pid);
}

/// Runs one seed; prints verbose records and violations as they come.
pub fn run_seed(o: &Opts, seed: u64, budget: Option<u64>) -> Outcome {
    let mut failure: Option<(String, u64)> = None;
    let mut fail = |why: String, calls: u64| {
        if failure.is_none() {
            failure = Some((why, calls));
        }
    };
    let saved_hostname = if o.host {
        if let Err(e) = crate::cleanup::remove_tree("/fz") {
            fail(format!("cannot clean /fz before the run: {e}"), 0);
        }
        container::hostname().ok()
    } else {
        None
    };
    let host_had_fz = fd::open("/fz", 0).map(fd::close).is_ok();
    let cid = if o.host {
        0
    } else {
        let spec: ContainerSpec = Spec::new().max_procs(48).max_pages(32768).build();
        match container::create(&spec) {
            Ok(id) => id,
            Err(e) => {
                return Outcome {
                    calls: 0,
                    known: Vec::new(),
                    failure: Some((format!("create_container: {}", e.description()), 0)),
                }
            }
        }
    };
    let (r, w) = match fd::pipe() {
        Ok(p) => p,
        Err(e) => {
            if cid != 0 {
                let _ = container::destroy(cid);
            }
            return Outcome {
                calls: 0,
                known: Vec::new(),
                failure: Some((format!("pipe: {}", e.description()), 0)),
            };
        }
    };
    let ticker = process::spawn(|| {
        let _ = fd::close(r);
        loop {
            let _ = process::sleep(TICK);
            if fd::write(w, &[0]).is_err() {
                return 0;
            }
        }
    });
    let cfg = Config {
        seed,
        max_calls: o.calls.unwrap_or(u64::MAX),
        deadline: budget.map(|b| process::uptime() + b),
        verbose: o.verbose,
        host: o.host,
        cid,
        report: w,
    };
    let child = match process::fork() {
        Ok(Fork::Child) => {
            let _ = fd::close(r);
            // Out of the shell's foreground group: a container joined by a
            // foreground process would take the console with it.
            let _ = process::setpgid(0, 0);
            if cid != 0 && container::join(cid).is_err() {
                process::exit(4);
            }
            crate::child::main(cfg)
        }
        Ok(Fork::Parent(pid)) => Some(pid),
        Err(e) => {
            fail(format!("fork: {}", e.description()), 0);
            None
        }
    };
    let _ = fd::close(w);
    let mut rows = vec![ProcInfo::default(); NPROC];
    let mut s = Stream::default();
    let mut end = End::Finished;
    if let Some(child) = child {
        end = watch(o, seed, cid, child, r, &mut s, &mut rows);
    }
    if let Ok(t) = ticker {
        let _ = process::kill(t);
    }
    let replay = if s.started { s.last_idx + 1 } else { 0 };
    match end {
        End::Finished => {}
        End::Hang => {
            fail(
                format!(
                    "HANG seed={seed} call={} (no progress for {} s)",
                    s.last_call, o.watchdog_secs
                ),
                replay,
            );
            if let Some(c) = child {
                if cid == 0 {
                    kill_tree(c, &mut rows);
                } else {
                    let _ = process::kill(c);
                }
            }
        }
        End::Died => {}
    }
    // Reap the ticker and the child (destroy may have taken the child).
    let mut child_status = None;
    while let Ok((pid, status)) = process::wait() {
        if Some(pid) == child {
            child_status = Some(status);
        }
    }
    if end == End::Died {
        fail(
            format!(
                "child died (status {}) after call {}: {}",
                child_status.map_or("?".to_string(), |s| s.to_string()),
                s.last_idx,
                s.last_call
            ),
            replay,
        );
    }
    if let Some(e) = &s.error {
        fail(format!("fuzzer error: {e}"), replay);
    }
    if end == End::Finished && s.ended.is_some() && child_status != Some(0) {
        fail(format!("child exited with status {child_status:?}"), replay);
    }
    if cid != 0 {
        if let Err(e) = container::destroy(cid) {
            fail(
                format!("destroy_container({cid}): {}", e.description()),
                replay,
            );
        }
        let host_has_fz = fd::open("/fz", 0).map(fd::close).is_ok();
        if host_has_fz && !host_had_fz {
            fail(
                "the container's /fz is visible on the host".to_string(),
                replay,
            );
        }
    } else {
        for &c in &s.created {
            let _ = container::destroy(c);
        }
        if s.tracing {
            // SAFETY: no memory is involved.
            let _ = unsafe { sys::trace_stop() };
        }
        let _ = container::scheduler_log(false);
        let _ = container::memory_log(false);
        if let Err(e) = crate::cleanup::remove_tree("/fz") {
            fail(format!("cannot remove /fz: {e}"), replay);
        }
        if let Some(h) = &saved_hostname {
            let _ = container::set_hostname(h);
        }
    }
    let _ = fd::close(r);
    if let Some((idx, text)) = s.violations.first() {
        let more = match s.nviolations {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        fail(format!("call {idx}: {text}{more}"), idx + 1);
    }
    Outcome {
        calls: s.ended.unwrap_or(replay),
        known: s.known,
        failure,
    }
}

/// Reads the child's records until it ends, hangs or dies.
fn watch(
    o: &Opts,
    seed: u64,
    cid: Cid,
    child: Pid,
    r: Fd,
    s: &mut Stream,
    rows: &mut [ProcInfo],
) -> End {
    let watchdog = o.watchdog_secs * 100;
    let mut last_progress = process::uptime();
    let mut rng = Rng::new(seed ^ 0x5eed_f00d);
    let mut buf = [0u8; 2048];
    loop {
        let n = match fd::read(r, &mut buf) {
            Ok(0) | Err(_) => return End::Died,
            Ok(n) => n,
        };
        s.progress = false;
        let ticked = s.feed(&buf[..n], seed, o.verbose);
        if s.ended.is_some() {
            return End::Finished;
        }
        let now = process::uptime();
        if s.progress {
            last_progress = now;
        }
        if now - last_progress > watchdog {
            return End::Hang;
        }
        if ticked && now - last_progress >= 100 && !alive(child, rows) {
            // Drain what it wrote before it died (its last records).
            return End::Died;
        }
        if ticked && cid != 0 && rng.chance(1, 8) {
            // The freezer, from outside: pause the child's container for a moment.
            if container::pause(cid).is_ok() {
                let _ = process::sleep(rng.range(1, 5) as i32);
                if let Err(e) = container::resume(cid) {
                    s.error = Some(format!("resume_container({cid}): {}", e.description()));
                }
            }
        }
    }
}
