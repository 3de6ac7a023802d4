//! What the probes share: a container destroyed when dropped, running a
//! closure inside a container, a member process the host drives through
//! pipes, and looking processes up in `ps`.

use ulib::abi::container::ContainerInfo;
use ulib::abi::limits::NPROC;
use ulib::abi::syscall::ProcInfo;
use ulib::container::{self, Cid, Spec};
use ulib::fd::{self, Fd};
use ulib::prelude::*;
use ulib::process::{self, Pid};
use ulib::test::{self, errno, TestResult};

/// A container made for one test, destroyed when dropped.
pub struct Ctr {
    pub id: Cid,
}

impl Ctr {
    /// Creates the container `spec` describes.
    pub fn new(spec: Spec) -> Result<Ctr, String> {
        container::create(&spec.build())
            .map(|id| Ctr { id })
            .map_err(errno("create_container"))
    }

    /// Its row in the host's listing.
    pub fn info(&self) -> Result<ContainerInfo, String> {
        container::info(self.id)
            .map_err(errno("containers"))?
            .ok_or_else(|| format!("container {} is not listed", self.id))
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        let _ = container::destroy(self.id);
    }
}

/// Runs `f` in a child that first joins container `cid` (see `test::in_child`).
pub fn inside(cid: Cid, f: impl FnOnce() -> TestResult) -> TestResult {
    test::in_child(|| {
        container::join(cid).map_err(errno("join_container"))?;
        f()
    })
}

/// A child that joined a container and runs a body the host talks to:
/// the body reads commands from `cmd` and writes reports to `report`.
pub struct Member {
    /// Its host pid.
    pub pid: Pid,
    /// Write end of its command pipe (closing it is the body's end of input).
    pub cmd: Fd,
    /// Read end of its report pipe.
    pub report: Fd,
    reaped: bool,
}

impl Member {
    /// Forks a child that joins `cid`, reports `joined`, then runs
    /// `body(cmd, report)` and exits with its status. Waits for `joined`.
    pub fn spawn(cid: Cid, body: impl FnOnce(Fd, Fd) -> i32) -> Result<Member, String> {
        let (cr, cw) = fd::pipe().map_err(errno("pipe"))?;
        let (rr, rw) = fd::pipe().map_err(errno("pipe"))?;
        let pid = process::spawn(|| {
            let _ = (fd::close(cw), fd::close(rr));
            if let Err(e) = container::join(cid) {
                report(rw, &format!("join_container({cid}): {}", e.description()));
                return 1;
            }
            report(rw, "joined");
            body(cr, rw)
        });
        let _ = (fd::close(cr), fd::close(rw));
        let pid = match pid {
            Ok(p) => p,
            Err(e) => {
                let _ = (fd::close(cw), fd::close(rr));
                return Err(errno("fork")(e));
            }
        };
        let mut m = Member {
            pid,
            cmd: cw,
            report: rr,
            reaped: false,
        };
        let hello = m.line()?;
        if hello != "joined" {
            m.finish()?;
            return Err(hello);
        }
        Ok(m)
    }

    /// The next report line.
    pub fn line(&self) -> Result<String, String> {
        read_line(self.report)?
            .ok_or_else(|| format!("member {} reported nothing (died?)", self.pid))
    }

    /// Sends one command byte.
    pub fn go(&self) -> Result<(), String> {
        fd::write_all(self.cmd, b"g").map_err(errno("write to the member"))
    }

    /// Closes its input and reaps it: its exit status.
    pub fn finish(&mut self) -> Result<i32, String> {
        let _ = fd::close(self.cmd);
        self.cmd = -1;
        self.reaped = true;
        let status = test::reap(self.pid);
        let _ = fd::close(self.report);
        status
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = process::kill(self.pid);
            let _ = fd::close(self.cmd);
            let _ = fd::close(self.report);
            let _ = test::reap(self.pid);
        }
    }
}

/// Writes one report line (without allocating: a hog at its limit reports too).
pub fn report(f: Fd, line: &str) {
    let _ = fd::write_all(f, line.as_bytes());
    let _ = fd::write_all(f, b"\n");
}

/// One line from `f`, `None` at end of file.
pub fn read_line(f: Fd) -> Result<Option<String>, String> {
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        match fd::read(f, &mut b).map_err(errno("read"))? {
            0 if line.is_empty() => return Ok(None),
            0 => break,
            _ if b[0] == b'\n' => break,
            _ => line.push(b[0]),
        }
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// Blocks until `f` reaches end of file (the body of a sleeping member).
pub fn block_until_eof(f: Fd) -> i32 {
    let mut b = [0u8; 16];
    while let Ok(n) = fd::read(f, &mut b) {
        if n == 0 {
            break;
        }
    }
    0
}

/// The processes the caller can see.
pub fn ps() -> Result<Vec<ProcInfo>, String> {
    let mut rows = vec![ProcInfo::default(); NPROC];
    let n = process::ps(&mut rows).map_err(errno("ps"))?;
    rows.truncate(n.min(NPROC));
    Ok(rows)
}

/// The host pids of the processes `ps` shows in container `cid`.
pub fn members_of(cid: Cid) -> Result<Vec<Pid>, String> {
    Ok(ps()?
        .iter()
        .filter(|p| p.container == cid)
        .map(|p| p.pid)
        .collect())
}
