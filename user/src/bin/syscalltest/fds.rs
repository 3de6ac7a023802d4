//! Descriptors: out of range, closed, used in the wrong direction, exhausted.

use ulib::abi::limits::NOFILE;
use ulib::fd;
use ulib::prelude::*;
use ulib::sys::nr;
use ulib::test::{errno, expect_errno, TestResult};
use ulib::{ensure, ensure_eq};

use crate::common::{all_fail_with, open_fds, raw, wait_for_state, Pipe};

/// Every call that takes a descriptor, with each bad one: `EBADF`.
pub fn bad_fds() -> TestResult {
    let closed = {
        let p = Pipe::new()?;
        p.r
    };
    let bad = [
        -1i32,
        NOFILE as i32,
        NOFILE as i32 + 1,
        1000,
        i32::MIN,
        i32::MAX,
        closed,
    ];
    let mut buf = [0u8; 8];
    let mut results = Vec::new();
    for f in bad {
        let reg = i64::from(f) as u64;
        let ptr = buf.as_mut_ptr() as u64;
        // SAFETY: `buf` is ours to overwrite; every other argument is a number.
        let calls = unsafe {
            [
                ("read", raw(nr::read, &[reg, ptr, 8])),
                ("write", raw(nr::write, &[reg, ptr, 8])),
                ("close", raw(nr::close, &[reg])),
                ("dup", raw(nr::dup, &[reg])),
                ("fstat", raw(nr::fstat, &[reg, ptr])),
            ]
        };
        results.extend(
            calls
                .into_iter()
                .map(|(call, r)| (format!("{call}({f})"), r)),
        );
    }
    all_fail_with("", &results, Errno::EBADF)
}

/// Reading a write end or writing a read end: `EBADF`, and nothing moves.
pub fn wrong_direction() -> TestResult {
    let p = Pipe::new()?;
    fd::write_all(p.w, b"data").map_err(errno("write"))?;
    let mut buf = [0u8; 8];
    expect_errno(
        "read from the write end",
        fd::read(p.w, &mut buf).map_or_else(|e| e.as_return(), |n| n as i64),
        Errno::EBADF,
    )?;
    expect_errno(
        "write to the read end",
        fd::write(p.r, b"x").map_or_else(|e| e.as_return(), |n| n as i64),
        Errno::EBADF,
    )?;
    ensure_eq!(p.drain(16)?, b"data", "the pipe's contents");
    Ok(())
}

pub fn close_twice() -> TestResult {
    let d = fd::dup(1).map_err(errno("dup(1)"))?;
    fd::close(d).map_err(errno("close"))?;
    ensure_eq!(fd::close(d), Err(Errno::EBADF), "second close of {d}");
    ensure_eq!(fd::dup(d), Err(Errno::EBADF), "dup of the closed {d}");
    Ok(())
}

/// Filling the table with dups: `EMFILE` from dup, and from pipe with 0 or
/// 1 free slot, without leaking a slot; everything works again after.
pub fn emfile() -> TestResult {
    let before = open_fds();
    let mut dups = Vec::new();
    let end = loop {
        match fd::dup(1) {
            Ok(d) => dups.push(d),
            Err(e) => break e,
        }
        if dups.len() > NOFILE {
            break Errno::EIO;
        }
    };
    let at_full = before + dups.len();
    let mut fds = [0i32; 2];
    // SAFETY: the kernel writes two ints into `fds`.
    let full = unsafe { ulib::sys::pipe(fds.as_mut_ptr()) };
    let _ = fd::close(dups.pop().unwrap_or(-1));
    // SAFETY: as above.
    let one_free = unsafe { ulib::sys::pipe(fds.as_mut_ptr()) };
    let refill = fd::dup(1);
    if let Ok(d) = refill {
        dups.push(d);
    }
    for _ in 0..2 {
        let _ = fd::close(dups.pop().unwrap_or(-1));
    }
    let two_free = fd::pipe();
    if let Ok((r, w)) = two_free {
        let _ = (fd::close(r), fd::close(w));
    }
    for d in dups {
        let _ = fd::close(d);
    }
    ensure_eq!(end, Errno::EMFILE, "dup into a full table");
    ensure_eq!(at_full, NOFILE, "descriptors open when dup failed");
    expect_errno("pipe with no free slot", full, Errno::EMFILE)?;
    expect_errno("pipe with one free slot", one_free, Errno::EMFILE)?;
    ensure!(
        refill.is_ok(),
        "the free slot was lost to the failed pipe: dup gave {refill:?}"
    );
    ensure!(two_free.is_ok(), "pipe with two free slots: {two_free:?}");
    ensure_eq!(open_fds(), before, "descriptors open afterwards");
    Ok(())
}

/// A write into a pipe whose reader leaves part-way returns the bytes the
/// pipe took, not `EPIPE`: the reader takes 5000 bytes, waits until the
/// writer has filled the pipe again and sleeps, and closes; the writer's
/// one 12 KiB write must report 5000 + the pipe's capacity.
pub fn pipe_write_counts_what_went_in() -> TestResult {
    use ulib::abi::syscall::proc_state;
    const PIPESIZE: usize = 4096;
    const TAKEN: usize = 5000;
    let p = Pipe::new()?;
    let (r, w) = (p.r, p.w);
    let pid = ulib::process::spawn(|| {
        let _ = fd::close(r);
        let data = vec![0x42u8; 3 * PIPESIZE];
        match fd::write(w, &data) {
            Ok(n) => n as i32,
            Err(e) => -(e as i32),
        }
    })
    .map_err(errno("fork"))?;
    fd::close(p.w).map_err(errno("close the write end"))?;
    let mut buf = vec![0u8; TAKEN];
    let mut got = 0;
    while got < TAKEN {
        match fd::read(r, &mut buf[got..]) {
            Ok(0) => return Err(format!("end of file after {got} bytes")),
            Ok(n) => got += n,
            Err(e) => return Err(format!("read: {e:?}")),
        }
    }
    // The writer sleeps only on a full pipe.
    ensure!(
        wait_for_state(pid, proc_state::SLEEPING, 999)?,
        "the writer never slept on the full pipe"
    );
    fd::close(r).map_err(errno("close the read end"))?;
    core::mem::forget(p);
    let status = ulib::test::reap(pid)?;
    ensure_eq!(
        status,
        (TAKEN + PIPESIZE) as i32,
        "the write's result (negative: -errno)"
    );
    Ok(())
}

/// Closed files give the kernel's memory back: 10 children each hold 25
/// pipes open at once (500 open files), then close them and exit; the
/// kernel heap ends where it was, within 4 KiB. (The container's file
/// table once kept each closed file's allocation alive through a weak
/// reference until its next sweep: stress-sched's 400 pipe ends left
/// ~100 KiB behind on the host.)
pub fn closed_files_free_their_memory() -> TestResult {
    const CHILDREN: usize = 10;
    const PIPES: usize = 25;
    let heap = || {
        ulib::process::kstats()
            .map(|s| s.heap_used)
            .map_err(errno("kstats"))
    };
    // A first round: whatever the first fork or pipe sets up for good is
    // not what this is about.
    drop(Pipe::new()?);
    let before = heap()?;
    let ready = Pipe::new()?;
    let go = Pipe::new()?;
    for _ in 0..CHILDREN {
        match ulib::process::fork().map_err(errno("fork"))? {
            ulib::process::Fork::Child => {
                let _ = fd::close(go.w);
                let held: Vec<_> = (0..PIPES).map_while(|_| fd::pipe().ok()).collect();
                let ok = held.len() == PIPES;
                let _ = fd::write(ready.w, &[u8::from(ok)]);
                // Until the parent closes `go`: every pipe still open.
                let mut b = [0u8; 1];
                let _ = fd::read(go.r, &mut b);
                for (r, w) in held {
                    let _ = (fd::close(r), fd::close(w));
                }
                ulib::process::exit(i32::from(!ok))
            }
            ulib::process::Fork::Parent(_) => {}
        }
    }
    let mut all_open = true;
    for _ in 0..CHILDREN {
        let mut b = [0u8; 1];
        all_open &= fd::read(ready.r, &mut b) == Ok(1) && b[0] == 1;
    }
    let _ = fd::close(go.w);
    let statuses = ulib::process::wait_all();
    drop((ready, go));
    ensure!(all_open, "a child could not open its {PIPES} pipes");
    ensure!(
        statuses.len() == CHILDREN && statuses.iter().all(|&(_, s)| s == 0),
        "children ended {statuses:?}"
    );
    let after = heap()?;
    ensure!(
        after <= before + 4096,
        "kernel heap {before} -> {after} bytes after {} files were open at once and closed",
        CHILDREN * PIPES * 2
    );
    Ok(())
}
