//! The runner of berth's test programs: a flat table of named tests, like
//! xv6's `usertests`.
//!
//! Each test is a function returning [`TestResult`]. The runner prints one
//! line per test, `test NAME: ok` or `test NAME: FAILED: why`, then exactly
//! `N passed, M failed`, and the program exits 0 only if `M == 0`. Program
//! arguments (after `argv[0]`) select tests by name; a name that matches no
//! test counts as a failure, so a typo cannot pass.
//!
//! Tests that fork must reap every child they create (see
//! [`crate::process::wait_all`]), or a later test's `wait` sees them.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write};

use berth_abi::errno::Errno;

use crate::fd;
use crate::process::{self, Pid};

/// What a test returns: `Err(why)` on failure.
pub type TestResult = Result<(), String>;

/// One entry of a test table.
#[derive(Clone, Copy)]
pub struct Test {
    pub name: &'static str,
    pub run: fn() -> TestResult,
}

impl Test {
    /// The test `name`, run by calling `run`.
    pub const fn new(name: &'static str, run: fn() -> TestResult) -> Test {
        Test { name, run }
    }
}

/// Fails the test with a formatted reason unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($why:tt)+) => {
        if !$cond {
            return Err($crate::prelude::format!($($why)+));
        }
    };
}

/// Fails the test unless `left == right`, saying what was compared.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr, $($what:tt)+) => {
        match (&$left, &$right) {
            (l, r) => {
                if l != r {
                    return Err($crate::prelude::format!(
                        "{}: got {:?}, want {:?}", $crate::prelude::format!($($what)+), l, r));
                }
            }
        }
    };
}

/// `Ok` if the raw return value `got` is `-want`.
pub fn expect_errno(what: &str, got: i64, want: Errno) -> TestResult {
    if got == want.as_return() {
        Ok(())
    } else {
        Err(alloc::format!(
            "{what}: got {}, want -{want:?} ({})",
            describe(got),
            want.as_return()
        ))
    }
}

/// The raw return value `got` as a non-negative number, or a failure naming `what`.
pub fn expect_ok(what: &str, got: i64) -> Result<u64, String> {
    if got >= 0 {
        Ok(got as u64)
    } else {
        Err(alloc::format!("{what}: got {}", describe(got)))
    }
}

/// A raw return value for messages: `-EFAULT (-14)` or the number.
pub fn describe(ret: i64) -> String {
    match Errno::from_return(ret) {
        Some(e) => alloc::format!("-{e:?} ({ret})"),
        None => alloc::format!("{ret}"),
    }
}

/// Turns an `Errno` into a failure reason naming `what`.
pub fn errno(what: &'static str) -> impl Fn(Errno) -> String {
    move |e| alloc::format!("{what}: -{e:?} ({})", e.description())
}

/// Waits for the next child to exit, which must be `pid`; returns its status.
pub fn reap(pid: Pid) -> Result<i32, String> {
    match process::wait() {
        Ok((p, status)) if p == pid => Ok(status),
        Ok((p, status)) => Err(alloc::format!(
            "wait returned pid {p} (status {status}), expected {pid}"
        )),
        Err(e) => Err(alloc::format!("wait for {pid}: -{e:?}")),
    }
}

/// Runs `f` in a child process, so that what it does to memory or to its
/// own life cannot harm the test program. The child's failure reason comes
/// back through a pipe; a child that dies (status != 0 without a reason)
/// fails the test with its status.
pub fn in_child(f: impl FnOnce() -> TestResult) -> TestResult {
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let pid = process::spawn(|| {
        let _ = fd::close(r);
        match f() {
            Ok(()) => 0,
            Err(why) => {
                let _ = fd::write_all(w, why.as_bytes());
                1
            }
        }
    });
    let _ = fd::close(w);
    let pid = pid.map_err(errno("fork"))?;
    let mut why = Vec::new();
    let read = fd::read_to_end(r, &mut why);
    let _ = fd::close(r);
    let status = reap(pid)?;
    read.map_err(errno("read"))?;
    match (status, why.is_empty()) {
        (0, true) => Ok(()),
        (_, false) => Err(String::from_utf8_lossy(&why).into_owned()),
        (s, true) => Err(alloc::format!("the child died with status {s}")),
    }
}

/// Runs `f` in a child process; returns the child's exit status (what
/// `f` returned, or what the kernel made of its death).
pub fn status_of(f: impl FnOnce() -> i32) -> Result<i32, String> {
    let pid = process::spawn(f).map_err(errno("fork"))?;
    reap(pid)
}

/// Runs `f` in a child whose fd 1 is a pipe: returns everything the child
/// (or a program it execs) wrote there, and its exit status.
pub fn capture(f: impl FnOnce() -> i32) -> Result<(Vec<u8>, i32), String> {
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let pid = process::spawn(|| {
        let _ = fd::close(r);
        if fd::redirect(w, fd::STDOUT).is_err() {
            return 126;
        }
        let _ = fd::close(w);
        f()
    });
    let _ = fd::close(w);
    let pid = pid.map_err(errno("fork"))?;
    let mut out = Vec::new();
    let read = fd::read_to_end(r, &mut out);
    let _ = fd::close(r);
    let status = reap(pid)?;
    read.map_err(errno("read"))?;
    Ok((out, status))
}

/// Runs the tests selected by `names` (all if empty) and reports to `out`:
/// returns `(passed, failed)`.
pub fn run_with<'a>(
    tests: &[Test],
    names: impl Iterator<Item = &'a str> + Clone,
    out: &mut impl Write,
) -> (usize, usize) {
    let (mut passed, mut failed) = (0, 0);
    let mut report = |name: &str, result: TestResult| {
        let _ = match result {
            Ok(()) => {
                passed += 1;
                writeln!(out, "test {name}: ok")
            }
            Err(why) => {
                failed += 1;
                writeln!(out, "test {name}: FAILED: {}", one_line(&why))
            }
        };
    };
    let selected = |t: &Test| names.clone().next().is_none() || names.clone().any(|n| n == t.name);
    for t in tests.iter().filter(|t| selected(t)) {
        report(t.name, (t.run)());
    }
    for n in names
        .clone()
        .filter(|n| !tests.iter().any(|t| t.name == *n))
    {
        report(n, Err(String::from("no such test")));
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    (passed, failed)
}

/// Runs a program's test table with its arguments as the selection, prints
/// the report on fd 1 (one write per line) and returns the exit status:
/// 0 if nothing failed, else 1.
pub fn run(tests: &[Test], args: crate::Args) -> i32 {
    run_selected(tests, args.skip(1))
}

/// Like [`run`], with the selection given directly (for programs whose
/// first arguments are not test names).
pub fn run_selected<'a>(tests: &[Test], names: impl Iterator<Item = &'a str> + Clone) -> i32 {
    let (_, failed) = run_with(tests, names, &mut Stdout);
    i32::from(failed != 0)
}

/// `fmt::Write` to fd 1, one write per `write_str` call.
struct Stdout;

impl Write for Stdout {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::print!("{s}");
        Ok(())
    }
}

/// `why` with line breaks replaced, so a report is one line per test.
fn one_line(why: &str) -> String {
    why.replace('\n', " | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes() -> TestResult {
        ensure_eq!(1 + 1, 2, "arithmetic");
        Ok(())
    }

    fn fails() -> TestResult {
        ensure!(1 + 1 == 3, "two is\nnot three");
        Ok(())
    }

    fn fails_eq() -> TestResult {
        ensure_eq!(Some(4), None::<i32>, "lookup of {}", "x");
        Ok(())
    }

    const TABLE: &[Test] = &[
        Test {
            name: "passes",
            run: passes,
        },
        Test {
            name: "fails",
            run: fails,
        },
        Test {
            name: "fails_eq",
            run: fails_eq,
        },
    ];

    #[test]
    fn reports_every_test_and_the_summary() {
        let mut out = String::new();
        assert_eq!(run_with(TABLE, [].into_iter(), &mut out), (1, 2));
        assert_eq!(
            out,
            "test passes: ok\n\
             test fails: FAILED: two is | not three\n\
             test fails_eq: FAILED: lookup of x: got Some(4), want None\n\
             1 passed, 2 failed\n"
        );
    }

    #[test]
    fn arguments_select_tests_and_unknown_names_fail() {
        let mut out = String::new();
        assert_eq!(
            run_with(TABLE, ["passes", "nope"].into_iter(), &mut out),
            (1, 1)
        );
        assert_eq!(
            out,
            "test passes: ok\ntest nope: FAILED: no such test\n1 passed, 1 failed\n"
        );
    }

    #[test]
    fn errno_helpers_name_the_error() {
        assert_eq!(expect_errno("read", -9, Errno::EBADF), Ok(()));
        assert_eq!(
            expect_errno("read", 3, Errno::EBADF),
            Err("read: got 3, want -EBADF (-9)".into())
        );
        assert_eq!(
            expect_errno("read", -14, Errno::EBADF),
            Err("read: got -EFAULT (-14), want -EBADF (-9)".into())
        );
        assert_eq!(expect_ok("pipe", 0), Ok(0));
        assert_eq!(
            expect_ok("pipe", -24),
            Err("pipe: got -EMFILE (-24)".into())
        );
        assert_eq!(
            errno("fork")(Errno::EAGAIN),
            "fork: -EAGAIN (resource temporarily unavailable)"
        );
    }
}
