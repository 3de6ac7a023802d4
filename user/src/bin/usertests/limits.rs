//! Running out of descriptors: EMFILE at NOFILE open files, for open,
//! dup and pipe, with nothing leaked.

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
