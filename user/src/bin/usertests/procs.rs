//! Processes: fork/exit/wait, exec with arguments and its errors, pipes,
//! kill, sleep and uptime, orphans.

use ulib::abi::fcntl::{O_CREATE, O_RDWR};
use ulib::abi::limits::{KILLED_STATUS, MAXARG, MAX_USER_MEMORY};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Fork, Pid};
use ulib::test::{capture, TestResult};
use ulib::{ensure, ensure_eq};

use crate::util::{fork_child, ok, read_file, unlink, wait_ok, want_err, write_file};

/// Children exit with their own statuses; wait reports each once, then ECHILD.
pub fn fork_exit_wait() -> TestResult {
    const N: i32 = 20;
    let mut pids = Vec::new();
    for i in 0..N {
        match process::fork() {
            Ok(Fork::Child) => process::exit(i * 3),
            Ok(Fork::Parent(pid)) => pids.push((pid, i * 3)),
            Err(e) => return Err(format!("fork {i}: {e:?}")),
        }
    }
    for _ in 0..N {
        let (pid, status) = ok("wait", process::wait())?;
        let Some(at) = pids.iter().position(|&(p, _)| p == pid) else {
            return Err(format!("wait returned pid {pid}, not a child (or twice)"));
        };
        ensure_eq!(status, pids[at].1, "status of child {pid}");
        pids.swap_remove(at);
    }
    want_err("wait with no children left", process::wait(), Errno::ECHILD)
}

/// xv6's exitwait: fork, exit, wait, many times in a row.
pub fn exit_wait_loop() -> TestResult {
    for i in 0..100 {
        match process::fork() {
            Ok(Fork::Child) => process::exit(i),
            Ok(Fork::Parent(pid)) => {
                ensure_eq!(ok("wait", process::wait())?, (pid, i), "wait in round {i}");
            }
            Err(e) => return Err(format!("fork in round {i}: {e:?}")),
        }
    }
    Ok(())
}

/// xv6's reparent: a child's children become init's when it exits.
pub fn reparent() -> TestResult {
    for round in 0..20 {
        let pid = fork_child(|| {
            match process::fork() {
                Ok(Fork::Child) => process::exit(0),
                Ok(Fork::Parent(_)) => {}
                Err(e) => return Err(format!("grandchild fork: {e:?}")),
            }
            Ok(())
        })?;
        ensure_eq!(ok("wait", process::wait())?.0, pid, "wait in round {round}");
        want_err("wait for the grandchild", process::wait(), Errno::ECHILD)?;
    }
    Ok(())
}

/// xv6's forkfork: two processes fork and reap children at the same time.
pub fn fork_fork() -> TestResult {
    for _ in 0..2 {
        fork_child(|| {
            for i in 0..100 {
                match process::fork() {
                    Ok(Fork::Child) => process::exit(0),
                    Ok(Fork::Parent(_)) => {}
                    // The process table may be full for a moment: not an error.
                    Err(Errno::EAGAIN) => {}
                    Err(e) => return Err(format!("fork {i}: {e:?}")),
                }
                if i % 4 == 3 {
                    while process::wait().is_ok() {}
                }
            }
            while process::wait().is_ok() {}
            Ok(())
        })?;
    }
    wait_ok(2)
}

/// exec passes its arguments exactly, including empty ones and MAXARG of them.
pub fn exec_args() -> TestResult {
    let (out, status) = capture(|| {
        let e = process::exec(
            "/echoargs",
            &["echoargs", "one", "", "two words", "tab\there"],
        );
        ulib::eprintln!("exec /echoargs: {}", e.description());
        127
    })?;
    ensure_eq!(status, 0, "status of echoargs");
    ensure_eq!(
        String::from_utf8_lossy(&out),
        "argv[0]=echoargs\nargv[1]=one\nargv[2]=\nargv[3]=two words\nargv[4]=tab\there\n",
        "output of echoargs"
    );
    let many: Vec<String> = (0..MAXARG).map(|i| format!("a{i}")).collect();
    let (out, status) = capture(|| {
        let args: Vec<&str> = many.iter().map(String::as_str).collect();
        let e = process::exec("/echoargs", &args);
        ulib::eprintln!("exec /echoargs with {MAXARG} args: {}", e.description());
        127
    })?;
    ensure_eq!(status, 0, "status of echoargs with MAXARG arguments");
    ensure_eq!(
        String::from_utf8_lossy(&out).lines().count(),
        MAXARG,
        "lines of echoargs with MAXARG arguments"
    );
    Ok(())
}

/// A failing exec returns its errno and leaves the caller as it was.
pub fn exec_errors() -> TestResult {
    let keep = vec![0x5au8; 4096];
    want_err(
        "exec of a missing program",
        Err::<(), _>(process::exec("/nosuchprogram", &["x"])),
        Errno::ENOENT,
    )?;
    want_err(
        "exec of a program name relative to this directory",
        Err::<(), _>(process::exec("echoargs", &["echoargs"])),
        Errno::ENOENT,
    )?;
    want_err(
        "exec of a directory",
        Err::<(), _>(process::exec("/", &["x"])),
        Errno::EACCES,
    )?;
    write_file("notelf", b"#!/bin/sh\necho this is no ELF file\n")?;
    want_err(
        "exec of a text file",
        Err::<(), _>(process::exec("notelf", &["notelf"])),
        Errno::ENOEXEC,
    )?;
    unlink("notelf")?;
    // A real program cut short: the headers promise segments the file no
    // longer holds.
    let program = read_file("/echoargs")?;
    let loaded_end = loaded_file_end(&program);
    ensure!(
        loaded_end > 64 + 56 && loaded_end <= program.len(),
        "/echoargs: PT_LOAD bytes end at {loaded_end} of {}",
        program.len()
    );
    for (what, len) in [
        ("its headers", 64 + 56),
        ("half its loaded bytes", loaded_end / 2),
        ("its loaded bytes less one", loaded_end - 1),
    ] {
        write_file("cutelf", &program[..len])?;
        want_err(
            &format!("exec of a program cut to {what}"),
            Err::<(), _>(process::exec("cutelf", &["cutelf"])),
            Errno::ENOEXEC,
        )?;
    }
    unlink("cutelf")?;
    // A segment whose memory (bss) reaches past MAX_USER_MEMORY: ENOMEM,
    // refused before any of it is allocated.
    let mut huge = program.clone();
    let last = *load_headers(&huge)
        .last()
        .ok_or("/echoargs has no PT_LOAD")?;
    let vaddr = le_field(&huge, last + 16, 8) as u64;
    huge[last + 40..last + 48].copy_from_slice(&(MAX_USER_MEMORY + 4096 - vaddr).to_le_bytes());
    write_file("hugebss", &huge)?;
    want_err(
        "exec of a program whose bss ends past MAX_USER_MEMORY",
        Err::<(), _>(process::exec("hugebss", &["hugebss"])),
        Errno::ENOMEM,
    )?;
    unlink("hugebss")?;
    let too_many: Vec<&str> = (0..=MAXARG).map(|_| "x").collect();
    want_err(
        "exec with MAXARG + 1 arguments",
        Err::<(), _>(process::exec("/echoargs", &too_many)),
        Errno::E2BIG,
    )?;
    ensure!(
        keep.iter().all(|&b| b == 0x5a),
        "the caller's memory changed"
    );
    Ok(())
}

/// Little-endian field of `len` bytes at `at` (0 past the end).
fn le_field(elf: &[u8], at: usize, len: usize) -> usize {
    elf.get(at..at + len).map_or(0, |b| {
        b.iter().rev().fold(0usize, |v, &x| v << 8 | usize::from(x))
    })
}

/// Offsets of an ELF64 image's `PT_LOAD` program headers.
fn load_headers(elf: &[u8]) -> Vec<usize> {
    let (phoff, phentsize, phnum) = (
        le_field(elf, 32, 8),
        le_field(elf, 54, 2),
        le_field(elf, 56, 2),
    );
    (0..phnum)
        .map(|i| phoff + i * phentsize)
        .filter(|&ph| le_field(elf, ph, 4) == 1)
        .collect()
}

/// Where the file bytes of an ELF64 image's last `PT_LOAD` segment end.
fn loaded_file_end(elf: &[u8]) -> usize {
    load_headers(elf)
        .into_iter()
        .map(|ph| le_field(elf, ph + 8, 8) + le_field(elf, ph + 32, 8))
        .max()
        .unwrap_or(0)
}

/// xv6's pipe1: a child writes numbered bytes, the parent reads them in
/// growing pieces; end of file after the writer closes.
pub fn pipe_transfer() -> TestResult {
    const N: usize = 5;
    const SZ: usize = 1033;
    let (r, w) = ok("pipe", fd::pipe())?;
    match process::fork() {
        Ok(Fork::Child) => {
            let _ = fd::close(r);
            let mut seq = 0u8;
            for _ in 0..N {
                let buf: Vec<u8> = (0..SZ)
                    .map(|_| {
                        seq = seq.wrapping_add(1);
                        seq
                    })
                    .collect();
                if fd::write_all(w, &buf).is_err() {
                    process::exit(1);
                }
            }
            process::exit(0);
        }
        Ok(Fork::Parent(_)) => {}
        Err(e) => return Err(format!("fork: {e:?}")),
    }
    ok("close the write end", fd::close(w))?;
    let mut seq = 0u8;
    let mut total = 0;
    let mut cc = 1;
    let mut buf = vec![0u8; 8192];
    loop {
        let n = ok("read", fd::read(r, &mut buf[..cc]))?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            seq = seq.wrapping_add(1);
            ensure_eq!(b, seq, "byte {total} from the pipe");
            total += 1;
        }
        cc = (cc * 2).min(buf.len());
    }
    ok("close", fd::close(r))?;
    ensure_eq!(total, N * SZ, "bytes through the pipe");
    wait_ok(1)
}

/// Writing to a pipe nobody can read is EPIPE; reading one nobody can write is end of file.
pub fn pipe_broken() -> TestResult {
    let (r, w) = ok("pipe", fd::pipe())?;
    ok("close the read end", fd::close(r))?;
    want_err("write with no reader", fd::write(w, b"x"), Errno::EPIPE)?;
    ok("close", fd::close(w))?;
    let (r, w) = ok("pipe", fd::pipe())?;
    ok("close the write end", fd::close(w))?;
    let mut buf = [0u8; 4];
    ensure_eq!(fd::read(r, &mut buf), Ok(0), "read with no writer");
    ok("close", fd::close(r))?;
    want_err(
        "read from a closed pipe",
        fd::read(r, &mut buf),
        Errno::EBADF,
    )
}

/// xv6's killstatus: a killed process, running or sleeping, waits as -1.
pub fn kill_status() -> TestResult {
    for round in 0..10 {
        let sleeping = round % 2 == 1;
        let pid = match process::fork() {
            Ok(Fork::Child) => loop {
                if sleeping {
                    let _ = process::sleep(1000);
                } else {
                    process::getpid();
                }
            },
            Ok(Fork::Parent(pid)) => pid,
            Err(e) => return Err(format!("fork: {e:?}")),
        };
        let _ = process::sleep(1);
        ok("kill", process::kill(pid))?;
        let t0 = process::uptime();
        ensure_eq!(
            ok("wait", process::wait())?,
            (pid, KILLED_STATUS),
            "wait for the killed child (round {round})"
        );
        ensure!(
            process::uptime() - t0 < 200,
            "a killed sleeper took {} ticks to die",
            process::uptime() - t0
        );
    }
    want_err(
        "kill of a pid nobody has",
        process::kill(999_999),
        Errno::ESRCH,
    )?;
    ensure!(process::kill(-5).is_err(), "kill(-5) succeeded");
    Ok(())
}

/// A killed process dies even while blocked reading an empty pipe.
/// Forks a child that blocks reading one byte from `r`, then exits 0.
fn fork_pipe_reader(r: Fd) -> Result<Pid, String> {
    match process::fork() {
        Ok(Fork::Child) => {
            let mut b = [0u8; 1];
            let _ = fd::read(r, &mut b);
            process::exit(0)
        }
        Ok(Fork::Parent(pid)) => Ok(pid),
        Err(e) => Err(format!("fork: {e:?}")),
    }
}

pub fn kill_pipe_reader() -> TestResult {
    let (r, w) = ok("pipe", fd::pipe())?;
    let pid = fork_pipe_reader(r)?;
    let _ = process::sleep(2);
    ok("kill", process::kill(pid))?;
    let got = process::wait();
    let _ = (fd::close(r), fd::close(w));
    ensure_eq!(
        ok("wait", got)?,
        (pid, KILLED_STATUS),
        "wait for the killed reader"
    );
    Ok(())
}

/// A kill that lands while its target is between checking `killed` and
/// going to sleep on a pipe still ends it: 100 readers, each killed at
/// once (at whatever point it has reached), must all be reaped as killed
/// (or, killed before it ran at all, still as killed). A lost kill leaves
/// a reader asleep for good and this test hanging.
pub fn kill_races_sleep() -> TestResult {
    let (r, w) = ok("pipe", fd::pipe())?;
    let mut wrong = Vec::new();
    for _ in 0..100 {
        let pid = match fork_pipe_reader(r) {
            Ok(pid) => pid,
            Err(why) => {
                let _ = (fd::close(r), fd::close(w));
                return Err(why);
            }
        };
        let killed = process::kill(pid);
        match process::wait() {
            Ok((p, KILLED_STATUS)) if p == pid && killed.is_ok() => {}
            other => wrong.push(format!("kill {killed:?}, wait {other:?}")),
        }
    }
    let _ = (fd::close(r), fd::close(w));
    ensure!(wrong.is_empty(), "{}", wrong.join("; "));
    Ok(())
}

/// sleep waits at least the ticks asked, not much longer; uptime moves.
pub fn sleep_uptime() -> TestResult {
    let t0 = process::uptime();
    ok("sleep(10)", process::sleep(10))?;
    let t1 = process::uptime();
    ensure!(t1 >= t0 + 10, "slept {} ticks, asked for 10", t1 - t0);
    ensure!(t1 < t0 + 300, "slept {} ticks, asked for 10", t1 - t0);
    ok("sleep(0)", process::sleep(0))?;
    want_err("sleep(-1)", process::sleep(-1), Errno::EINVAL)?;
    Ok(())
}

/// Processes that exit with files open (unlinked) release them: more such
/// inodes than the kernel's in-memory inode table holds (512), so a leak
/// shows as a failing create. Eight children at a time, so their
/// transactions share log commits; each keeps its files open (fewer than
/// NOFILE) until it exits.
pub fn exit_closes_files() -> TestResult {
    const BATCH: usize = 8;
    const CHILDREN: usize = 16;
    const FILES: usize = 33;
    for c in 0..CHILDREN {
        fork_child(|| {
            for i in 0..FILES {
                let name = format!("ec{c}.{i}");
                ok("create", fd::open(&name, O_CREATE | O_RDWR))?;
                unlink(&name)?;
            }
            // Exit without closing anything.
            Ok(())
        })?;
        if c % BATCH == BATCH - 1 {
            wait_ok(BATCH)?;
        }
    }
    for i in 0..20 {
        write_file(&format!("after{i}"), b"x")?;
    }
    for i in 0..20 {
        unlink(&format!("after{i}"))?;
    }
    Ok(())
}

/// xv6's iref: directories made, entered, left and removed, more times
/// than the in-memory inode table (512) has slots, so a leaked reference
/// fills it. Four processes at a time, so their transactions share log
/// commits.
pub fn inode_refs() -> TestResult {
    const PROCS: usize = 4;
    const ROUNDS: usize = 130;
    for p in 0..PROCS {
        fork_child(move || {
            let dir = format!("ir{p}");
            for i in 0..ROUNDS {
                ok(&format!("mkdir {dir} ({i})"), fd::mkdir(&dir))?;
                ok(&format!("chdir {dir} ({i})"), fd::chdir(&dir))?;
                ok(&format!("chdir .. ({i})"), fd::chdir(".."))?;
                ok(&format!("unlink {dir} ({i})"), fd::unlink(&dir))?;
            }
            Ok(())
        })?;
    }
    wait_ok(PROCS)
}
