//! What the tests share: checking results, files in one call, directory
//! listings, raw system calls, bad addresses and the edge of mapped memory.
//!
//! Every test runs in a child process whose working directory is the
//! scratch directory (see `harness`), so relative names are private to the
//! test and anything left behind is noticed.

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_TRUNC, O_WRONLY};
use ulib::abi::fs::{Dirent, DIRENT_SIZE};
use ulib::abi::limits::{USER_STACK_BYTES, USER_STACK_TOP};
use ulib::abi::stat::{Stat, T_DIR};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Fork, Pid};
use ulib::sys;
use ulib::test::{describe, TestResult};

pub const PAGE: u64 = 4096;

/// Addresses no system call may read or write through, with their names.
pub const BAD_ADDRS: &[(&str, u64)] = &[
    ("null", 0),
    ("page zero", 0x10),
    ("just below the program", 0x3f_f000),
    ("unmapped middle", 0x5000_0000_0000),
    ("above the stack", USER_STACK_TOP),
    ("below the stack", USER_STACK_TOP - USER_STACK_BYTES - PAGE),
    ("non-canonical", 0x0000_8000_0000_0000),
    ("kernel half", 0xffff_8000_0000_0000),
    ("kernel image", 0xffff_ffff_8000_0000),
    ("last page", 0xffff_ffff_ffff_f000),
];

/// `r` as a test result: the error names `what` and the errno.
pub fn ok<T>(what: &str, r: Result<T, Errno>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: -{e:?} ({})", e.description()))
}

/// Fails unless `r` is the error `want`.
pub fn want_err<T: core::fmt::Debug>(what: &str, r: Result<T, Errno>, want: Errno) -> TestResult {
    match r {
        Err(e) if e == want => Ok(()),
        Err(e) => Err(format!(
            "{what}: got -{e:?} ({}), want -{want:?}",
            e.description()
        )),
        Ok(v) => Err(format!("{what}: succeeded ({v:?}), want -{want:?}")),
    }
}

/// Fails unless the raw return value `ret` is `-want`.
pub fn want_raw(what: &str, ret: i64, want: Errno) -> TestResult {
    if ret == want.as_return() {
        Ok(())
    } else {
        Err(format!("{what}: got {}, want -{want:?}", describe(ret)))
    }
}

/// System call `nr` with raw register values.
///
/// # Safety
/// Any memory the kernel may write through the arguments must be invalid
/// (the call must fail) or owned by the caller and free to change.
pub unsafe fn raw(nr: usize, args: &[u64]) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { sys::syscall(nr as u64, args) }
}

/// Creates (or empties) `path` and writes `data` into it.
pub fn write_file(path: &str, data: &[u8]) -> TestResult {
    let f = ok(
        &format!("create {path}"),
        fd::open(path, O_CREATE | O_TRUNC | O_WRONLY),
    )?;
    let w = fd::write_all(f, data);
    let c = fd::close(f);
    ok(&format!("write {path}"), w)?;
    ok(&format!("close {path}"), c)
}

/// The whole contents of `path`.
pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
    let f = ok(&format!("open {path}"), fd::open(path, O_RDONLY))?;
    let mut out = Vec::new();
    let r = fd::read_to_end(f, &mut out);
    let _ = fd::close(f);
    ok(&format!("read {path}"), r)?;
    Ok(out)
}

/// `fstat` of the file `path` names.
pub fn stat(path: &str) -> Result<Stat, String> {
    let f = ok(&format!("open {path}"), fd::open(path, O_RDONLY))?;
    let st = fd::fstat(f);
    let _ = fd::close(f);
    ok(&format!("fstat {path}"), st)
}

/// Removes `path`, failing the test if that fails.
pub fn unlink(path: &str) -> TestResult {
    ok(&format!("unlink {path}"), fd::unlink(path))
}

/// The used entries of the directory `path`, `.` and `..` included: `(inum, name)`.
pub fn list_dir(path: &str) -> Result<Vec<(u16, String)>, Errno> {
    let f = fd::open(path, O_RDONLY)?;
    let mut raw = Vec::new();
    let r = fd::read_to_end(f, &mut raw);
    let _ = fd::close(f);
    r?;
    Ok(raw
        .chunks_exact(DIRENT_SIZE)
        .map(Dirent::from_bytes)
        .filter(|d| d.inum != 0)
        .map(|d| (d.inum, String::from_utf8_lossy(d.name_bytes()).into_owned()))
        .collect())
}

/// The names in directory `path` other than `.` and `..`.
pub fn names_in(path: &str) -> Result<Vec<String>, String> {
    let entries = ok(&format!("list {path}"), list_dir(path))?;
    Ok(entries
        .into_iter()
        .map(|(_, n)| n)
        .filter(|n| n != "." && n != "..")
        .collect())
}

/// Removes `path` and, if it is a directory, everything in it first.
pub fn remove_tree(path: &str) -> Result<(), Errno> {
    let f = fd::open(path, O_RDONLY)?;
    let kind = fd::fstat(f).map(|st| st.kind);
    let _ = fd::close(f);
    if kind? == T_DIR {
        for (_, name) in list_dir(path)? {
            if name != "." && name != ".." {
                remove_tree(&format!("{path}/{name}"))?;
            }
        }
    }
    fd::unlink(path)
}

/// Forks a child that runs `f` and exits with its result: 0 for `Ok`,
/// 1 after printing the reason for `Err`.
pub fn fork_child(f: impl FnOnce() -> TestResult) -> Result<Pid, String> {
    match process::fork() {
        Ok(Fork::Child) => process::exit(match f() {
            Ok(()) => 0,
            Err(why) => {
                println!("  child {}: {why}", process::getpid());
                1
            }
        }),
        Ok(Fork::Parent(pid)) => Ok(pid),
        Err(e) => Err(format!("fork: -{e:?} ({})", e.description())),
    }
}

/// Waits for `n` children; fails if one exits with a status other than 0.
pub fn wait_ok(n: usize) -> TestResult {
    let mut bad = Vec::new();
    for _ in 0..n {
        match process::wait() {
            Ok((_, 0)) => {}
            Ok((pid, s)) => bad.push(format!("child {pid} exited with {s}")),
            Err(e) => return Err(format!("wait: -{e:?}")),
        }
    }
    ensure_none(&bad)
}

/// `Ok` if `problems` is empty, else all of them as one reason.
pub fn ensure_none(problems: &[String]) -> TestResult {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Runs `f` with the end of mapped memory: the page below `end` is fresh
/// from `sbrk` and `end` itself is unmapped. `f` must not allocate (that
/// could move the break); the page is given back afterwards.
pub fn with_edge<R>(f: impl FnOnce(u64) -> R) -> Result<R, String> {
    let brk = ok("sbrk(0)", process::sbrk(0))? as u64;
    let pad = (PAGE - brk % PAGE) % PAGE;
    let grow = (pad + PAGE) as isize;
    ok("sbrk(page)", process::sbrk(grow))?;
    let end = brk + pad + PAGE;
    let r = f(end);
    ok("giving the page back", process::sbrk(-grow))?;
    Ok(r)
}

/// A NUL-terminated copy of `s` for raw calls.
pub fn cstr(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// How many descriptors are open.
pub fn count_open_fds() -> usize {
    (0..ulib::abi::limits::NOFILE as Fd)
        .filter(|&f| fd::fstat(f).is_ok())
        .count()
}

/// Closes `fds` (ignoring errors).
pub fn close_all(fds: &[Fd]) {
    for &f in fds {
        let _ = fd::close(f);
    }
}

/// A small deterministic pseudo-random sequence (xorshift), for races.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
