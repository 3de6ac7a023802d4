//! The container benchmarks (issue 8's table; no xv6 baseline exists):
//! - `ctr_cycle`: create + fork + join + exec a trivial program + wait +
//!   destroy, timed whole (median and p99), next to `fork_exec_wait`;
//! - `ls_host_100` / `ls_merged_100`: `ls` of a 100-entry directory on the
//!   host, and of a merged one inside a container (50 host files below, 50
//!   the container made above), the output drained through a pipe; timed
//!   by a process that lives where `ls` runs;
//! - `copy_up_1m`: the first open for writing of a 1 MiB host file inside a
//!   fresh container (the whole copy-up), then close.
//!
//! Calls go through the raw stubs so the window holds only the calls.

use core::sync::atomic::{compiler_fence, Ordering};

use ulib::abi::container::ContainerSpec;
use ulib::abi::fcntl::{O_CREATE, O_RDWR, O_WRONLY};
use ulib::cstr::{c_string, Argv};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::sys::{self, result};

use crate::benches::{err, reap, tsc};
use crate::stats::{report, samples, Summary};

/// Creates a container with default limits; its id.
fn create() -> Result<i32, String> {
    let spec = ContainerSpec::default();
    // SAFETY: `spec` is a live ContainerSpec the kernel only reads.
    let r = unsafe { sys::create_container(&spec) };
    result(r)
        .map(|id| id as i32)
        .map_err(|e| err("create_container", e))
}

fn destroy(id: i32) -> Result<(), String> {
    // SAFETY: no memory is passed.
    result(unsafe { sys::destroy_container(id) })
        .map(drop)
        .map_err(|e| err("destroy_container", e))
}

fn join(id: i32) -> Result<(), String> {
    // SAFETY: no memory is passed.
    result(unsafe { sys::join_container(id) })
        .map(drop)
        .map_err(|e| err("join_container", e))
}

/// Element `n * 99 / 100` of sorted samples.
fn p99(sorted: &[u64]) -> u64 {
    sorted.get(sorted.len() * 99 / 100).copied().unwrap_or(0)
}

fn ctr_cycle_once(path: &[u8], argv: &Argv) -> Result<u64, String> {
    let t0 = tsc();
    let spec = ContainerSpec::default();
    // SAFETY: `spec` is a live ContainerSpec the kernel only reads.
    let id = unsafe { sys::create_container(&spec) };
    let id = result(id).map_err(|e| err("create_container", e))? as i32;
    match process::fork().map_err(|e| err("fork", e))? {
        Fork::Child => {
            // SAFETY: no memory is passed; then `path` and `argv` are NUL-
            // terminated strings and a null-terminated vector the kernel reads.
            unsafe {
                sys::join_container(id);
                sys::exec(path.as_ptr(), argv.as_ptr());
            }
            process::exit(127)
        }
        Fork::Parent(_) => reap()?,
    }
    // SAFETY: no memory is passed.
    let r = unsafe { sys::destroy_container(id) };
    let t = tsc() - t0;
    result(r).map_err(|e| err("destroy_container", e))?;
    Ok(t)
}

/// create + fork + join + exec /nop + wait + destroy; 5 warm-ups, 200 samples.
pub fn ctr_cycle() -> Result<(), String> {
    let path = c_string("/nop").map_err(|e| err("path", e))?;
    let argv = Argv::new(&["nop"]).map_err(|e| err("argv", e))?;
    for _ in 0..5 {
        ctr_cycle_once(&path, &argv)?;
    }
    let mut s = samples(200);
    for _ in 0..200 {
        s.push(ctr_cycle_once(&path, &argv)?);
    }
    let sum = Summary::of(&mut s);
    report("ctr_cycle", &sum, &format!("p99={}", p99(&s)));
    Ok(())
}

/// Makes `n` empty files `dir/<prefix><i>`.
fn make_files(dir: &str, prefix: &str, n: usize) -> Result<(), String> {
    for i in 0..n {
        let f = fd::open(&format!("{dir}/{prefix}{i}"), O_CREATE | O_WRONLY)
            .map_err(|e| err("create", e))?;
        let _ = fd::close(f);
    }
    Ok(())
}

/// One `ls dir` with its output drained through a pipe.
fn ls_once(path: &[u8], argv: &Argv) -> Result<u64, String> {
    let (r, w) = fd::pipe().map_err(|e| err("pipe", e))?;
    let mut buf = [0u8; 512];
    let t0 = tsc();
    match process::fork().map_err(|e| err("fork", e))? {
        Fork::Child => {
            let _ = fd::redirect(w, fd::STDOUT);
            let _ = fd::close(r);
            // SAFETY: NUL-terminated path and a null-terminated argv.
            unsafe { sys::exec(path.as_ptr(), argv.as_ptr()) };
            process::exit(127)
        }
        Fork::Parent(_) => {
            let _ = fd::close(w);
            while let Ok(n) = fd::read(r, &mut buf) {
                if n == 0 {
                    break;
                }
            }
            reap()?;
        }
    }
    let t = tsc() - t0;
    let _ = fd::close(r);
    Ok(t)
}

/// 3 warm-ups and 50 samples of `ls dir`, reported as `name`.
fn ls_samples(name: &str, dir: &str) -> Result<(), String> {
    let path = c_string("/ls").map_err(|e| err("path", e))?;
    let argv = Argv::new(&["ls", dir]).map_err(|e| err("argv", e))?;
    for _ in 0..3 {
        ls_once(&path, &argv)?;
    }
    let mut s = samples(50);
    for _ in 0..50 {
        s.push(ls_once(&path, &argv)?);
    }
    report(name, &Summary::of(&mut s), "entries=100");
    Ok(())
}

const LS_DIR: &str = "/benchls";

/// `ls` of 100 entries on the host, then of 100 merged entries in a container.
pub fn ls_dirs() -> Result<(), String> {
    let _ = fd::mkdir(LS_DIR);
    make_files(LS_DIR, "h", 50)?;
    let host_only = format!("{LS_DIR}/x");
    let _ = fd::mkdir(&host_only);
    make_files(&host_only, "h", 100)?;
    ls_samples("ls_host_100", &host_only)?;
    let id = create()?;
    let r = match process::fork().map_err(|e| err("fork", e))? {
        Fork::Child => {
            let r = join(id)
                .and_then(|()| make_files(LS_DIR, "c", 49))
                .and_then(|()| ls_samples("ls_merged_100", LS_DIR));
            if let Err(why) = r {
                println!("bench ls_merged_100 error={}", why.replace(' ', "_"));
            }
            process::exit(0)
        }
        Fork::Parent(_) => reap(),
    };
    destroy(id)?;
    r
}

/// The first open for writing of a 1 MiB host file in a fresh container;
/// 10 samples, each in its own container (the copy happens once per container).
pub fn copy_up_1m() -> Result<(), String> {
    let path = "/bench1m";
    let f = fd::open(path, O_CREATE | O_RDWR).map_err(|e| err("create", e))?;
    let chunk = vec![0x5au8; 4096];
    for _ in 0..256 {
        fd::write_all(f, &chunk).map_err(|e| err("write", e))?;
    }
    let _ = fd::close(f);
    let cpath = c_string(path).map_err(|e| err("path", e))?;
    let (r, w) = fd::pipe().map_err(|e| err("pipe", e))?;
    let mut s = samples(10);
    for _ in 0..10 {
        let id = create()?;
        match process::fork().map_err(|e| err("fork", e))? {
            Fork::Child => {
                let _ = fd::close(r);
                if join(id).is_err() {
                    process::exit(1);
                }
                let t0 = tsc();
                compiler_fence(Ordering::SeqCst);
                // SAFETY: a NUL-terminated path the kernel reads.
                let fdn = unsafe { sys::open(cpath.as_ptr(), O_RDWR) };
                let t = tsc() - t0;
                if fdn < 0 {
                    process::exit(1);
                }
                let _ = fd::write_all(w, &t.to_le_bytes());
                process::exit(0)
            }
            Fork::Parent(_) => {
                let mut b = [0u8; 8];
                let got = fd::read_exact(r, &mut b);
                reap()?;
                got.map_err(|e| err("read", e))?;
                s.push(u64::from_le_bytes(b));
            }
        }
        destroy(id)?;
    }
    let _ = fd::close(r);
    let _ = fd::close(w);
    let _ = fd::unlink(path);
    report("copy_up_1m", &Summary::of(&mut s), "bytes=1048576");
    Ok(())
}
