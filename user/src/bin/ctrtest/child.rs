//! A child of ctrtest: joins its container, then answers the parent's
//! commands one line at a time until told to exit. Each command is one step
//! of the assignment's scenario, done from inside the container.

use ulib::abi::limits::NPROC;
use ulib::abi::syscall::{proc_state, ProcInfo};
use ulib::container;
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Fork};

use crate::dir;
use crate::link::{recv, send};
use crate::MY_FILE;

/// Ticks a child keeps the CPU busy in the scheduling step.
const SPIN_TICKS: u64 = 3;
/// Bytes each child allocates and touches in the memory step.
const MALLOC_BYTES: usize = 64 * 1024;

/// What the child knows.
struct Me {
    cid: i32,
    pid: i32,
    /// The host's root directory names before any container existed.
    baseline: Vec<String>,
}

impl Me {
    fn say(&self, what: &str) {
        println!("ctrtest: [container {} pid {}] {what}", self.cid, self.pid);
    }
}

/// The child's life: join `cid`, report, then serve commands from `cmd`,
/// replying on `reply`. Returns the exit status.
pub fn main(cid: i32, cmd: Fd, reply: Fd, baseline: Vec<String>) -> i32 {
    if let Err(e) = container::join(cid) {
        let _ = send(
            reply,
            &format!("fail join_container({cid}): {}", e.description()),
        );
        return 1;
    }
    let me = Me {
        cid,
        pid: process::getpid(),
        baseline,
    };
    let got = container::getcid();
    if got != cid {
        let _ = send(
            reply,
            &format!("fail getcid() is {got} after joining {cid}"),
        );
        return 1;
    }
    if send(reply, &format!("ok {} {}", me.pid, got)).is_err() {
        return 1;
    }
    loop {
        let line = match recv(cmd) {
            Ok(Some(l)) => l,
            // The parent is gone: nothing left to do.
            Ok(None) | Err(_) => return 1,
        };
        let answer = match line.as_str() {
            "ps" => ps(&me),
            "sched" => spin(),
            "mem" => malloc(&me),
            "ls" => run(&me, &["ls"]),
            "create" => create(&me),
            "check" => check(&me),
            "modify" => modify(&me),
            "reread" => dir::read(MY_FILE).map(|s| String::from(s.trim_end())),
            "leave" => leave(&me),
            "exit" => return 0,
            other => Err(format!("unknown command {other:?}")),
        };
        let msg = match answer {
            Ok(payload) => format!("ok {payload}"),
            Err(why) => format!("fail {}", why.replace('\n', " ")),
        };
        if send(reply, &msg).is_err() {
            return 1;
        }
    }
}

/// Lists the processes it can see; payload `pid:container,...`.
fn ps(me: &Me) -> Result<String, String> {
    let mut rows = vec![ProcInfo::default(); NPROC];
    let n = process::ps(&mut rows).map_err(|e| format!("ps: {}", e.description()))?;
    me.say(&format!("ps() lists {n} processes:"));
    let mut seen = Vec::new();
    for p in &rows[..n.min(NPROC)] {
        println!(
            "ctrtest: [container {} pid {}]   pid {} ppid {} ctr {} {} {}",
            me.cid,
            me.pid,
            p.pid,
            p.ppid,
            p.container,
            proc_state::name(p.state),
            process::proc_name(p)
        );
        seen.push(format!("{}:{}", p.pid, p.container));
    }
    Ok(seen.join(","))
}

/// Keeps the CPU for a few ticks, so the timer has to rotate the children.
fn spin() -> Result<String, String> {
    let start = process::uptime();
    let mut x: u64 = 1;
    while process::uptime() < start + SPIN_TICKS {
        for _ in 0..1000 {
            x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
    Ok(format!("{}", x & 1))
}

/// Allocates and touches [`MALLOC_BYTES`]; payload: the bytes checked.
fn malloc(me: &Me) -> Result<String, String> {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(MALLOC_BYTES)
        .map_err(|_| format!("malloc({MALLOC_BYTES}) failed"))?;
    v.resize(MALLOC_BYTES, 0);
    for (i, b) in v.iter_mut().enumerate() {
        *b = (i % 251) as u8;
    }
    let ok = v.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8);
    if !ok {
        return Err(String::from(
            "the malloc'ed memory did not keep what was written",
        ));
    }
    me.say(&format!("malloc'ed and touched {MALLOC_BYTES} bytes"));
    Ok(format!("{MALLOC_BYTES}"))
}

/// Forks, execs `/argv[0]` with `argv`, waits; payload: the exit status,
/// which must be 0.
fn run(me: &Me, argv: &[&str]) -> Result<String, String> {
    me.say(&format!("running {}", argv.join(" ")));
    let path = format!("/{}", argv[0]);
    let pid = match process::fork().map_err(|e| format!("fork: {}", e.description()))? {
        Fork::Child => {
            let e = process::exec(&path, argv);
            eprintln!("ctrtest: exec {path}: {}", e.description());
            process::exit(127);
        }
        Fork::Parent(pid) => pid,
    };
    let mut others = Vec::new();
    let status =
        process::wait_for(pid, &mut others).map_err(|e| format!("wait: {}", e.description()))?;
    if status != 0 {
        return Err(format!("{} exited with status {status}", argv.join(" ")));
    }
    Ok(String::from("0"))
}

/// The name and content of this child's file.
pub fn own_file(cid: i32, pid: i32) -> (String, String) {
    (format!("file_{pid}"), format!("container {cid} pid {pid}"))
}

/// Creates `file_<pid>` holding `container <cid> pid <pid>`.
fn create(me: &Me) -> Result<String, String> {
    let (name, text) = own_file(me.cid, me.pid);
    dir::write(&name, &text)?;
    me.say(&format!("created {name} holding {text:?}"));
    Ok(name)
}

/// Runs ls, then reads the directory itself: payload
/// `missing=<names,...|-> extra=<name=content|...|->` against the host's
/// listing from before the containers.
fn check(me: &Me) -> Result<String, String> {
    run(me, &["ls"])?;
    let now = dir::names(".")?;
    let missing: Vec<&str> = me
        .baseline
        .iter()
        .filter(|n| !now.contains(n))
        .map(String::as_str)
        .collect();
    let mut extra = Vec::new();
    for n in now.iter().filter(|n| !me.baseline.contains(n)) {
        let text = dir::read(n).unwrap_or_else(|e| format!("<{e}>"));
        extra.push(format!("{n}={text}"));
    }
    extra.sort();
    let list = |v: &[String]| {
        if v.is_empty() {
            String::from("-")
        } else {
            v.join("|")
        }
    };
    let missing: Vec<String> = missing.into_iter().map(String::from).collect();
    Ok(format!("missing={} extra={}", list(&missing), list(&extra)))
}

/// Writes `Modified by: <pid>` over `my_file`, cats it, reads it back.
fn modify(me: &Me) -> Result<String, String> {
    let text = format!("Modified by: {}\n", me.pid);
    let f = fd::open(
        MY_FILE,
        ulib::abi::fcntl::O_WRONLY | ulib::abi::fcntl::O_TRUNC,
    )
    .map_err(|e| format!("open {MY_FILE} for writing: {}", e.description()))?;
    let w = fd::write_all(f, text.as_bytes());
    let c = fd::close(f);
    w.and(c)
        .map_err(|e| format!("write {MY_FILE}: {}", e.description()))?;
    me.say(&format!("wrote {:?} to {MY_FILE}", text.trim_end()));
    run(me, &["cat", MY_FILE])?;
    dir::read(MY_FILE).map(|s| String::from(s.trim_end()))
}

/// Leaves the container; payload `<pid> <cid> <file_* names seen>`.
fn leave(me: &Me) -> Result<String, String> {
    container::leave().map_err(|e| format!("leave_container: {}", e.description()))?;
    let (pid, cid) = (process::getpid(), container::getcid());
    let files = dir::names(".")?
        .into_iter()
        .filter(|n| n.starts_with("file_"))
        .count();
    me.say(&format!(
        "left: now pid {pid} in container {cid}, sees {files} file_* names"
    ));
    Ok(format!("{pid} {cid} {files}"))
}
