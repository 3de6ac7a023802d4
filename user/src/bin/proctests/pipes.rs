//! Pipes between processes: request/response, end of file once every
//! writer is gone, bulk data in order, and a pipeline of processes.

use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process;
use ulib::test::{errno, reap, TestResult};
use ulib::{ensure, ensure_eq};

/// Closes every descriptor in `fds` except those in `keep`.
fn close_except(fds: &[Fd], keep: &[Fd]) {
    for &f in fds.iter().filter(|f| !keep.contains(f)) {
        let _ = fd::close(f);
    }
}

/// 100 round trips: the parent sends n, the child answers n + 1.
pub fn ping_pong() -> TestResult {
    let (req_r, req_w) = fd::pipe().map_err(errno("pipe"))?;
    let (resp_r, resp_w) = fd::pipe().map_err(errno("pipe"))?;
    let all = [req_r, req_w, resp_r, resp_w];
    let pid = process::spawn(|| {
        close_except(&all, &[req_r, resp_w]);
        let mut b = [0u8; 4];
        loop {
            match fd::read_exact(req_r, &mut b) {
                Ok(()) => {}
                Err(_) => return 0,
            }
            let n = u32::from_le_bytes(b).wrapping_add(1);
            if fd::write_all(resp_w, &n.to_le_bytes()).is_err() {
                return 1;
            }
        }
    })
    .map_err(errno("fork"))?;
    close_except(&all, &[req_w, resp_r]);
    let mut result = Ok(());
    for i in 0..100u32 {
        let mut b = [0u8; 4];
        let step =
            fd::write_all(req_w, &i.to_le_bytes()).and_then(|()| fd::read_exact(resp_r, &mut b));
        if let Err(e) = step {
            result = Err(format!("round {i}: -{e:?}"));
            break;
        }
        if u32::from_le_bytes(b) != i + 1 {
            result = Err(format!(
                "round {i}: the child answered {}",
                u32::from_le_bytes(b)
            ));
            break;
        }
    }
    let _ = (fd::close(req_w), fd::close(resp_r));
    let status = reap(pid)?;
    result?;
    ensure_eq!(status, 0, "the echo child's status after end of file");
    Ok(())
}

/// Two writers, the second one late: the reader sees end of file only
/// after both have exited, and gets all their bytes.
pub fn eof_after_all_writers() -> TestResult {
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let writer = |byte: u8, delay: i32| {
        move || {
            let _ = fd::close(r);
            let _ = process::sleep(delay);
            for _ in 0..10 {
                if fd::write_all(w, &[byte; 100]).is_err() {
                    return 1;
                }
            }
            0
        }
    };
    let a = process::spawn(writer(b'a', 0));
    let b = process::spawn(writer(b'b', 10));
    let _ = fd::close(w);
    let mut out = Vec::new();
    let read = fd::read_to_end(r, &mut out);
    let _ = fd::close(r);
    let statuses = process::wait_all();
    let (a, b) = (a.map_err(errno("fork"))?, b.map_err(errno("fork"))?);
    read.map_err(errno("read"))?;
    let count = |c: u8| out.iter().filter(|&&x| x == c).count();
    ensure!(
        count(b'a') == 1000 && count(b'b') == 1000,
        "read {} a's and {} b's, want 1000 each",
        count(b'a'),
        count(b'b')
    );
    ensure_eq!(out.len(), 2000, "bytes read");
    let mut want = [(a, 0), (b, 0)];
    let mut got = statuses.clone();
    want.sort();
    got.sort();
    ensure_eq!(got, want, "writers' (pid, status)");
    Ok(())
}

/// Size of `bulk_transfer`'s stream.
const BULK: usize = 64 * 1024;

fn bulk_byte(i: usize) -> u8 {
    (i.wrapping_mul(31) ^ (i >> 8)) as u8
}

/// 64 KiB through one pipe in writes and reads of changing sizes: every
/// byte arrives, in order.
pub fn bulk_transfer() -> TestResult {
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let pid = process::spawn(|| {
        let _ = fd::close(r);
        let data: Vec<u8> = (0..BULK).map(bulk_byte).collect();
        let mut off = 0;
        let mut size = 1;
        while off < BULK {
            let end = (off + size).min(BULK);
            if fd::write_all(w, &data[off..end]).is_err() {
                return 1;
            }
            off = end;
            size = size * 3 % 4093 + 1;
        }
        0
    })
    .map_err(errno("fork"))?;
    let _ = fd::close(w);
    let mut buf = vec![0u8; 3000];
    let (mut total, mut size, mut bad) = (0usize, 7usize, None);
    loop {
        match fd::read(r, &mut buf[..size]) {
            Ok(0) => break,
            Ok(n) => {
                if bad.is_none() {
                    bad = (0..n)
                        .find(|&k| buf[k] != bulk_byte(total + k))
                        .map(|k| total + k);
                }
                total += n;
            }
            Err(e) => {
                bad = Some(usize::MAX);
                ulib::eprintln!("bulk_transfer: read: -{e:?}");
                break;
            }
        }
        size = size * 5 % 2999 + 1;
    }
    let _ = fd::close(r);
    ensure_eq!(reap(pid)?, 0, "writer's status");
    ensure_eq!(total, BULK, "bytes received");
    ensure!(bad.is_none(), "wrong byte at offset {:?}", bad);
    Ok(())
}

/// Processes in the pipeline between the source and the parent.
const STAGES: usize = 4;
/// Bytes pushed through it.
const CHAIN_BYTES: usize = 10_000;

/// source | +1 | +1 | +1 | +1 | parent: each stage a process adding 1 to every byte.
pub fn chain() -> TestResult {
    let mut pipes: Vec<(Fd, Fd)> = Vec::new();
    for _ in 0..=STAGES {
        match fd::pipe() {
            Ok(p) => pipes.push(p),
            Err(e) => {
                pipes.iter().for_each(|&(r, w)| close_except(&[r, w], &[]));
                return Err(errno("pipe")(e));
            }
        }
    }
    let all: Vec<Fd> = pipes.iter().flat_map(|&(r, w)| [r, w]).collect();
    let mut spawned = Vec::new();
    spawned.push(process::spawn(|| {
        close_except(&all, &[pipes[0].1]);
        let data: Vec<u8> = (0..CHAIN_BYTES).map(|i| (i % 200) as u8).collect();
        i32::from(fd::write_all(pipes[0].1, &data).is_err())
    }));
    for s in 1..=STAGES {
        let (input, output) = (pipes[s - 1].0, pipes[s].1);
        spawned.push(process::spawn(|| {
            close_except(&all, &[input, output]);
            let mut buf = [0u8; 333];
            loop {
                match fd::read(input, &mut buf) {
                    Ok(0) => return 0,
                    Ok(n) => {
                        buf[..n].iter_mut().for_each(|b| *b += 1);
                        if fd::write_all(output, &buf[..n]).is_err() {
                            return 2;
                        }
                    }
                    Err(_) => return 3,
                }
            }
        }));
    }
    let last = pipes[STAGES].0;
    close_except(&all, &[last]);
    let mut out = Vec::new();
    let read = fd::read_to_end(last, &mut out);
    let _ = fd::close(last);
    let mut statuses = process::wait_all();
    let mut pids = Vec::new();
    for s in spawned {
        pids.push((s.map_err(errno("fork"))?, 0));
    }
    read.map_err(errno("read"))?;
    ensure_eq!(out.len(), CHAIN_BYTES, "bytes out of the pipeline");
    let wrong = (0..CHAIN_BYTES).find(|&i| out[i] != (i % 200) as u8 + STAGES as u8);
    ensure!(wrong.is_none(), "byte {:?} did not pass every stage", wrong);
    statuses.sort();
    pids.sort();
    ensure_eq!(statuses, pids, "(pid, status) of the pipeline's processes");
    Ok(())
}
