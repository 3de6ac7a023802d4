//! File throughput (issue 12's "before and after" figures; no xv6
//! baseline): a 4 MiB file written and read in 64 KiB calls.
//! - `file_write_4m`: create, 64 writes of 64 KiB, close (every write's
//!   transactions commit before it returns, so the data is on the disk);
//!   the file is unlinked between samples, outside the window.
//! - `file_read_4m`: 64 reads of 64 KiB of a 4 MiB file that is not in the
//!   buffer cache: two such files are written first and read in turn, and
//!   the cache (about 4 MiB at `-m 512M`) holds one at most, so each read
//!   finds the other's blocks there.
//! - `file_read_2m_cached`: 32 reads of 64 KiB of a 2 MiB file read once
//!   just before (every block in the cache).
//!
//! Each is 1 warm-up and 5 timed samples; the lines carry `bytes=` and
//! `write=` or `read=` (the call size), from which the runner gets MB/s.

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_TRUNC, O_WRONLY};
use ulib::fd::{self, Fd};
use ulib::prelude::*;

use crate::benches::{err, tsc};
use crate::stats::{report, samples, Summary};

/// Bytes per call.
const CALL: usize = 64 * 1024;
/// The big file's size.
const BIG: usize = 4 * 1024 * 1024;
/// The cached file's size: half the buffer cache.
const CACHED: usize = 2 * 1024 * 1024;
const SAMPLES: usize = 5;

/// Writes `bytes` of `buf`'s pattern to a new `path`; TSC cycles from the
/// open to the close.
fn write_file(path: &str, bytes: usize, buf: &[u8]) -> Result<u64, String> {
    let t0 = tsc();
    let f = fd::open(path, O_CREATE | O_WRONLY | O_TRUNC).map_err(|e| err("open", e))?;
    let mut done = 0;
    let mut r = Ok(());
    while done < bytes {
        match fd::write(f, &buf[..CALL.min(bytes - done)]) {
            Ok(n) if n > 0 => done += n,
            Ok(_) => {
                r = Err(String::from("write wrote nothing"));
                break;
            }
            Err(e) => {
                r = Err(err("write", e));
                break;
            }
        }
    }
    let closed = fd::close(f);
    let dt = tsc() - t0;
    r?;
    closed.map_err(|e| err("close", e))?;
    Ok(dt)
}

/// Reads `path` to its end in `CALL`-byte reads; TSC cycles from the open
/// to the close, and the bytes read.
fn read_file(path: &str, buf: &mut [u8]) -> Result<(u64, usize), String> {
    let t0 = tsc();
    let f: Fd = fd::open(path, O_RDONLY).map_err(|e| err("open", e))?;
    let mut done = 0;
    let r = loop {
        match fd::read(f, &mut buf[..CALL]) {
            Ok(0) => break Ok(()),
            Ok(n) => done += n,
            Err(e) => break Err(err("read", e)),
        }
    };
    let closed = fd::close(f);
    let dt = tsc() - t0;
    r?;
    closed.map_err(|e| err("close", e))?;
    Ok((dt, done))
}

fn remove(path: &str) -> Result<(), String> {
    fd::unlink(path).map_err(|e| err("unlink", e))
}

/// Prints one throughput line.
fn report_tput(name: &str, s: &mut [u64], bytes: usize, call: &str) {
    report(
        name,
        &Summary::of(s),
        &format!("bytes={bytes} {call}={CALL}"),
    );
}

/// `file_write_4m`.
pub fn write_4m() -> Result<(), String> {
    let buf = vec![0x6bu8; CALL];
    let mut s = samples(SAMPLES);
    for i in 0..=SAMPLES {
        let dt = write_file("/bt-w", BIG, &buf);
        let removed = remove("/bt-w");
        let dt = dt?;
        removed?;
        if i > 0 {
            s.push(dt);
        }
    }
    report_tput("file_write_4m", &mut s, BIG, "write");
    Ok(())
}

/// One warm-up and `SAMPLES` timed reads of `bytes`-byte files, taking
/// `paths` in turn (two files the cache cannot hold together: each read
/// finds the other's blocks cached, not its own).
fn read_samples(paths: &[&str], bytes: usize, buf: &mut [u8]) -> Result<Vec<u64>, String> {
    let mut s = samples(SAMPLES);
    for i in 0..=SAMPLES {
        let (dt, n) = read_file(paths[i % paths.len()], buf)?;
        if n != bytes {
            return Err(format!("read {n} bytes of {bytes}"));
        }
        if i > 0 {
            s.push(dt);
        }
    }
    Ok(s)
}

/// `file_read_4m` (uncached) and `file_read_2m_cached`.
pub fn reads() -> Result<(), String> {
    let mut buf = vec![0x6bu8; CALL];
    let r = (|| {
        for path in ["/bt-a", "/bt-b"] {
            write_file(path, BIG, &buf)?;
        }
        let mut s = read_samples(&["/bt-a", "/bt-b"], BIG, &mut buf)?;
        report_tput("file_read_4m", &mut s, BIG, "read");
        write_file("/bt-c", CACHED, &buf)?;
        let mut s = read_samples(&["/bt-c"], CACHED, &mut buf)?;
        report_tput("file_read_2m_cached", &mut s, CACHED, "read");
        Ok(())
    })();
    for path in ["/bt-a", "/bt-b", "/bt-c"] {
        let _ = fd::unlink(path);
    }
    r
}
