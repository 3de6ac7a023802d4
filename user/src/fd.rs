//! File descriptors, pipes and paths: safe wrappers over [`crate::sys`].
//!
//! Descriptors are plain `i32`s, as in C: a program decides itself when to
//! close them (across `fork` and `exec` an owning type would close the
//! wrong copy). Paths are `&str`s, copied to the heap with a NUL appended;
//! one containing a NUL is refused with `EINVAL` before the kernel sees it.

use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::stat::Stat;

use crate::cstr::c_string;
use crate::sys::{self, result};

/// A file descriptor.
pub type Fd = i32;

/// Standard input, output and error: the console for programs started by init.
pub const STDIN: Fd = 0;
pub const STDOUT: Fd = 1;
pub const STDERR: Fd = 2;

/// Reads up to `buf.len()` bytes; `Ok(0)` is end of file (or an empty `buf`).
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, which we borrow mutably.
    result(unsafe { sys::read(fd, buf.as_mut_ptr(), buf.len()) }).map(|n| n as usize)
}

/// Writes some of `buf`, returning how much the kernel took.
pub fn write(fd: Fd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel only reads `buf`.
    result(unsafe { sys::write(fd, buf.as_ptr(), buf.len()) }).map(|n| n as usize)
}

/// Writes all of `buf`, retrying short writes.
pub fn write_all(fd: Fd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match write(fd, buf)? {
            0 => return Err(Errno::EIO),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

/// Reads until end of file, appending to `out`; returns the bytes read.
pub fn read_to_end(fd: Fd, out: &mut Vec<u8>) -> Result<usize, Errno> {
    let mut chunk = [0u8; 512];
    let start = out.len();
    loop {
        match read(fd, &mut chunk)? {
            0 => return Ok(out.len() - start),
            n => out.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Reads exactly `buf.len()` bytes; `EIO` if end of file comes first.
pub fn read_exact(fd: Fd, buf: &mut [u8]) -> Result<(), Errno> {
    let mut done = 0;
    while done < buf.len() {
        match read(fd, &mut buf[done..])? {
            0 => return Err(Errno::EIO),
            n => done += n,
        }
    }
    Ok(())
}

/// Closes `fd`.
pub fn close(fd: Fd) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    result(unsafe { sys::close(fd) }).map(drop)
}

/// A new descriptor (the lowest free one) for the file `fd` names.
pub fn dup(fd: Fd) -> Result<Fd, Errno> {
    // SAFETY: no memory is involved.
    result(unsafe { sys::dup(fd) }).map(|n| n as Fd)
}

/// A pipe: `(read end, write end)`.
pub fn pipe() -> Result<(Fd, Fd), Errno> {
    let mut fds = [0i32; 2];
    // SAFETY: the kernel writes two ints into `fds`.
    result(unsafe { sys::pipe(fds.as_mut_ptr()) })?;
    Ok((fds[0], fds[1]))
}

/// Makes `to` name the file `from` names: closes `to`, then `dup`s `from`,
/// which takes the lowest free descriptor. `EBADF` if that is not `to`
/// (a lower descriptor was free); the stray descriptor is closed again.
pub fn redirect(from: Fd, to: Fd) -> Result<(), Errno> {
    let _ = close(to);
    let got = dup(from)?;
    if got != to {
        let _ = close(got);
        return Err(Errno::EBADF);
    }
    Ok(())
}

/// Opens `path` with `flags` (`berth_abi::fcntl`).
pub fn open(path: &str, flags: u32) -> Result<Fd, Errno> {
    let p = c_string(path)?;
    // SAFETY: `p` is NUL-terminated; the kernel only reads it.
    result(unsafe { sys::open(p.as_ptr(), flags) }).map(|n| n as Fd)
}

/// What the kernel knows about the file `fd` names.
pub fn fstat(fd: Fd) -> Result<Stat, Errno> {
    let mut st = Stat::default();
    // SAFETY: the kernel writes one `Stat` into `st`.
    result(unsafe { sys::fstat(fd, &mut st) })?;
    Ok(st)
}

/// Changes the working directory.
pub fn chdir(path: &str) -> Result<(), Errno> {
    let p = c_string(path)?;
    // SAFETY: `p` is NUL-terminated; the kernel only reads it.
    result(unsafe { sys::chdir(p.as_ptr()) }).map(drop)
}

/// Creates a directory.
pub fn mkdir(path: &str) -> Result<(), Errno> {
    let p = c_string(path)?;
    // SAFETY: `p` is NUL-terminated; the kernel only reads it.
    result(unsafe { sys::mkdir(p.as_ptr()) }).map(drop)
}

/// Creates a device file.
pub fn mknod(path: &str, major: i32, minor: i32) -> Result<(), Errno> {
    let p = c_string(path)?;
    // SAFETY: `p` is NUL-terminated; the kernel only reads it.
    result(unsafe { sys::mknod(p.as_ptr(), major, minor) }).map(drop)
}

/// Removes a directory entry.
pub fn unlink(path: &str) -> Result<(), Errno> {
    let p = c_string(path)?;
    // SAFETY: `p` is NUL-terminated; the kernel only reads it.
    result(unsafe { sys::unlink(p.as_ptr()) }).map(drop)
}

/// Gives the file `old` names the additional name `new`.
pub fn link(old: &str, new: &str) -> Result<(), Errno> {
    let (o, n) = (c_string(old)?, c_string(new)?);
    // SAFETY: both are NUL-terminated; the kernel only reads them.
    result(unsafe { sys::link(o.as_ptr(), n.as_ptr()) }).map(drop)
}
