//! Running out of descriptors: EMFILE at NOFILE open files, for open,
//! dup and pipe, with nothing leaked; and (`pipe_bomb`, run when named)
//! every process holding as many pipes as it can.

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR};
use ulib::abi::limits::NOFILE;
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::test::TestResult;
use ulib::{ensure, ensure_eq};

use crate::util::{close_all, ok, unlink, want_err};

/// Descriptors open now.
fn open_fds() -> Vec<Fd> {
    (0..NOFILE as Fd)
        .filter(|&f| fd::fstat(f).is_ok())
        .collect()
}

/// open fills the table with the lowest free descriptor each time, then
/// fails with EMFILE; so do dup and pipe; closing one frees one.
pub fn fd_exhaustion() -> TestResult {
    let f = ok("create", fd::open("fe", O_CREATE | O_RDWR))?;
    let already = open_fds();
    let mut opened = Vec::new();
    let result = (|| {
        loop {
            match fd::open("fe", O_RDONLY) {
                Ok(n) => {
                    ensure!(
                        !already.contains(&n) && !opened.contains(&n),
                        "open returned busy descriptor {n}"
                    );
                    if let Some(&prev) = opened.last() {
                        ensure!(n > prev, "descriptor {n} after {prev}: not the lowest free");
                    }
                    opened.push(n);
                }
                Err(Errno::EMFILE) => break,
                Err(e) => return Err(format!("open {}: -{e:?}", opened.len())),
            }
            ensure!(opened.len() <= NOFILE, "more than NOFILE descriptors");
        }
        ensure_eq!(
            already.len() + opened.len(),
            NOFILE,
            "descriptors open when open failed"
        );
        want_err("dup with a full table", fd::dup(0), Errno::EMFILE)?;
        want_err("pipe with a full table", fd::pipe(), Errno::EMFILE)?;
        // One free slot: pipe needs two, so it fails and must not keep one.
        let freed = opened.pop().ok_or("nothing opened")?;
        ok("close", fd::close(freed))?;
        want_err("pipe with one free descriptor", fd::pipe(), Errno::EMFILE)?;
        let again = ok("open after freeing one", fd::open("fe", O_RDONLY))?;
        ensure_eq!(again, freed, "descriptor reused after close");
        opened.push(again);
        Ok(())
    })();
    close_all(&opened);
    ok("close", fd::close(f))?;
    result?;
    let (r, w) = ok("pipe after closing everything", fd::pipe())?;
    close_all(&[r, w]);
    unlink("fe")
}

/// Children forked until the process table is full, each holding pipes
/// until its descriptor table is full: about 32 pipes in each of ~1000
/// processes, more pipe buffers than a 512 MiB machine's kernel heap could
/// hold. Every failure must be an error code (`EMFILE` for descriptors;
/// `ENOMEM`/`ENFILE` for memory; `EAGAIN`/`ENOMEM` for fork), the kernel
/// must survive, and every child must report and exit cleanly.
pub fn pipe_bomb() -> TestResult {
    let (gate_r, gate_w) = ok("pipe", fd::pipe())?;
    let (report_r, report_w) = ok("pipe", fd::pipe())?;
    let mut children = 0usize;
    let fork_error = loop {
        match ulib::process::fork() {
            Ok(ulib::process::Fork::Child) => {
                let _ = fd::close(gate_w);
                let _ = fd::close(report_r);
                let outcome = loop {
                    match fd::pipe() {
                        Ok(_) => {}
                        Err(Errno::EMFILE) => break b'F',
                        Err(Errno::ENOMEM | Errno::ENFILE) => break b'M',
                        Err(_) => break b'?',
                    }
                };
                let _ = fd::write(report_w, &[outcome]);
                // Hold everything until the parent lets go.
                let mut b = [0u8; 1];
                let _ = fd::read(gate_r, &mut b);
                ulib::process::exit(0);
            }
            Ok(ulib::process::Fork::Parent(_)) => children += 1,
            Err(e) => break e,
        }
    };
    ok("close", fd::close(report_w))?;
    let mut outcomes = Vec::new();
    let mut b = [0u8; 64];
    while outcomes.len() < children {
        match fd::read(report_r, &mut b) {
            Ok(0) | Err(_) => break,
            Ok(n) => outcomes.extend_from_slice(&b[..n]),
        }
    }
    ok("close", fd::close(gate_w))?;
    let waited = crate::util::wait_ok(children);
    ok("close", fd::close(gate_r))?;
    ok("close", fd::close(report_r))?;
    waited?;
    ensure!(
        matches!(fork_error, Errno::EAGAIN | Errno::ENOMEM),
        "fork failed with -{fork_error:?}"
    );
    ensure!(children > 0, "no child was forked");
    ensure_eq!(outcomes.len(), children, "children that reported");
    let odd = outcomes.iter().filter(|&&o| o == b'?').count();
    ensure_eq!(
        odd,
        0,
        "children whose pipe() failed with an undocumented error"
    );
    Ok(())
}
