//! exec: bad pointers, each documented error, and the limits themselves
//! accepted. Every exec runs in a child (with fds 1 and 2 closed), so one
//! that wrongly succeeds cannot replace the test program: the child then
//! runs echoargs and exits 0 instead of reporting an error.

use ulib::abi::fs::MAXPATH;
use ulib::abi::limits::{MAXARG, MAXARGBYTES};
use ulib::cstr::Argv;
use ulib::fd;
use ulib::prelude::*;
use ulib::process;
use ulib::sys::nr;
use ulib::test::{capture, describe, errno, reap, TestResult};
use ulib::{ensure, ensure_eq};

use crate::common::{all_fail_with, raw, with_edge, BAD};

/// Status of a child whose edge-of-memory setup failed.
const SETUP_FAILED: i32 = 1000;

/// Runs `f` (which returns exec's result) in a child with fds 1 and 2
/// closed; returns exec's result: `-errno`, or 0 if the program ran.
fn in_child(f: impl FnOnce() -> i64) -> Result<i64, String> {
    let pid = process::spawn(|| {
        let _ = (fd::close(1), fd::close(2));
        f() as i32
    })
    .map_err(errno("fork"))?;
    reap(pid).map(i64::from)
}

/// `exec(path, args)` through ulib, in a child.
fn exec_result(path: &str, args: &[&str]) -> Result<i64, String> {
    in_child(|| process::exec(path, args).as_return())
}

/// `exec` with raw pointers, in a child (see [`in_child`]).
fn raw_exec(path: u64, argv: u64) -> Result<i64, String> {
    // SAFETY: exec only reads memory; whatever becomes of the child is
    // reported by its exit status.
    in_child(|| unsafe { raw(nr::exec, &[path, argv]) })
}

/// How an edge-of-memory case lays out its arguments below `end`:
/// `(end, a valid path) -> [path, argv]` (argv 0: use a valid one).
type EdgeSetup = fn(u64, u64) -> [u64; 2];

pub fn bad_pointers() -> TestResult {
    let path = c"echoargs".as_ptr() as u64;
    let good = Argv::new(&["echoargs", "x"]).map_err(errno("argv"))?;
    let argv = good.as_ptr() as u64;
    let mut results = Vec::new();
    for &(name, bad) in BAD {
        results.push((format!("path {name}"), raw_exec(bad, argv)?));
        results.push((format!("argv {name}"), raw_exec(path, bad)?));
        if bad != 0 {
            // A null argv[0] or argv[1] ends the list: not an error.
            let first = [bad, 0u64];
            let second = [path, bad, 0u64];
            results.push((
                format!("argv[0] {name}"),
                raw_exec(path, first.as_ptr() as u64)?,
            ));
            results.push((
                format!("argv[1] {name}"),
                raw_exec(path, second.as_ptr() as u64)?,
            ));
        }
    }
    let edge_cases: [(&str, EdgeSetup); 3] = [
        // The path runs off mapped memory without a NUL.
        ("path running off mapped memory", |end, _| {
            // SAFETY: [end - 8, end) is the child's fresh page.
            unsafe { core::ptr::write_bytes((end - 8) as *mut u8, b'a', 8) };
            [end - 8, 0]
        }),
        // argv's pointer array runs off mapped memory without a null entry.
        ("argv array running off mapped memory", |end, path| {
            // SAFETY: [end - 16, end) is the child's fresh page; two valid
            // string pointers, no terminator.
            unsafe { ((end - 16) as *mut [u64; 2]).write([path, path]) };
            [path, end - 16]
        }),
        // argv[1] runs off mapped memory without a NUL.
        ("argv[1] running off mapped memory", |end, path| {
            // SAFETY: [end - 32, end) is the child's fresh page.
            unsafe { core::ptr::write_bytes((end - 8) as *mut u8, b'a', 8) };
            // SAFETY: as above.
            unsafe { ((end - 32) as *mut [u64; 3]).write([path, end - 8, 0]) };
            [path, end - 32]
        }),
    ];
    for (name, setup) in edge_cases {
        let r = in_child(|| {
            with_edge(|end| {
                let [p, a] = setup(end, path);
                let a = if a == 0 { argv } else { a };
                // SAFETY: exec only reads memory.
                unsafe { raw(nr::exec, &[p, a]) }
            })
            .unwrap_or(i64::from(SETUP_FAILED))
        })?;
        results.push((name.into(), r));
    }
    all_fail_with("exec with", &results, Errno::EFAULT)
}

/// Expects `exec(path, args)` to fail with `want`.
fn expect(what: &str, path: &str, args: &[&str], want: Errno) -> TestResult {
    let got = exec_result(path, args)?;
    ensure!(
        got == want.as_return(),
        "exec {what}: got {}, want -{want:?} (0: it ran)",
        describe(got)
    );
    Ok(())
}

pub fn errors() -> TestResult {
    expect(
        "of a missing program",
        "nosuchprogram",
        &["nosuchprogram"],
        Errno::ENOENT,
    )?;
    expect(
        "of a missing /program",
        "/nosuchprogram",
        &["x"],
        Errno::ENOENT,
    )?;
    expect(
        "of a file that is not ELF",
        "notelf",
        &["notelf"],
        Errno::ENOEXEC,
    )?;

    let many: Vec<String> = (0..=MAXARG).map(|i| format!("{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    expect("with MAXARG + 1 arguments", "echoargs", &many, Errno::E2BIG)?;
    let big = "x".repeat(MAXARGBYTES - "echoargs".len() - 1);
    expect(
        "with MAXARGBYTES + 1 bytes of strings",
        "echoargs",
        &["echoargs", &big],
        Errno::E2BIG,
    )?;
    let huge = "y".repeat(2 * MAXARGBYTES);
    expect(
        "with one 128 KiB argument",
        "echoargs",
        &["echoargs", &huge],
        Errno::E2BIG,
    )?;

    let too_long = "a".repeat(MAXPATH);
    expect(
        "of a MAXPATH-byte name (no room for the NUL)",
        &too_long,
        &["a"],
        Errno::ENAMETOOLONG,
    )?;
    let very_long = "b".repeat(4 * MAXPATH);
    expect(
        "of a 512-byte name",
        &very_long,
        &["b"],
        Errno::ENAMETOOLONG,
    )?;
    // Components of 13 bytes (under DIRSIZ), so only the total length is at its limit.
    let mut longest: String = "ccccccccccccc/".repeat(MAXPATH / 14 + 1);
    longest.truncate(MAXPATH - 1);
    longest.pop();
    longest.push('c');
    expect(
        "of the longest path that fits",
        &longest,
        &["c"],
        Errno::ENOENT,
    )?;
    Ok(())
}

/// Exactly MAXARG arguments and exactly MAXARGBYTES of strings are accepted.
pub fn limits_accepted() -> TestResult {
    let args: Vec<String> = (0..MAXARG)
        .map(|i| {
            if i == 0 {
                "echoargs".into()
            } else {
                format!("{i}")
            }
        })
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (out, status) = capture(|| process::exec("echoargs", &args).as_return() as i32)?;
    ensure_eq!(
        status,
        0,
        "status of echoargs with MAXARG arguments ({})",
        describe(i64::from(status))
    );
    let want: String = args
        .iter()
        .enumerate()
        .map(|(i, a)| format!("argv[{i}]={a}\n"))
        .collect();
    ensure!(
        out == want.as_bytes(),
        "echoargs with MAXARG arguments printed {} bytes, not the expected {}",
        out.len(),
        want.len()
    );

    let big = "z".repeat(MAXARGBYTES - "echoargs".len() - 2);
    let (out, status) =
        capture(|| process::exec("echoargs", &["echoargs", &big]).as_return() as i32)?;
    ensure_eq!(
        status,
        0,
        "status of echoargs with MAXARGBYTES of strings ({})",
        describe(i64::from(status))
    );
    let want = format!("argv[0]=echoargs\nargv[1]={big}\n");
    ensure!(
        out == want.as_bytes(),
        "echoargs with MAXARGBYTES of strings printed {} bytes, not {}",
        out.len(),
        want.len()
    );
    Ok(())
}
