//! File system calls: descriptors, pipes and paths. `read` and `write`
//! hand the file the caller's memory itself ([`ToUser`], [`FromUser`]), so
//! a file's bytes move once, between the buffer cache and user memory.
//! Paths resolve in the caller's view from its current directory
//! (`file/view.rs`); without a mounted file system every path names
//! nothing (`ENOENT`). Views, nodes and
//! files are dropped outside every spinlock (dropping an inode reference
//! may write to the disk).

use alloc::sync::Arc;

use berth_abi::errno::Errno;
use berth_abi::fcntl::O_ALL;
use berth_abi::stat::Stat;

use super::proc::{path_arg, with_mm};
use super::Ctx;
use crate::file::pipe::Pipe;
use crate::file::view::ProcFs;
use crate::file::{File, FileKind};
use crate::fs::io::{Sink, Source};
use crate::mm::user::{UserPtr, UserSlice};
use crate::proc::Proc;

fn fd_file(ctx: &Ctx, fd: i32) -> Result<Arc<File>, Errno> {
    ctx.proc.files.lock().get(i64::from(fd))
}

/// The caller's user memory as the destination of a read: each piece is
/// copied out as the file system hands it over, under the address-space
/// lock taken for that piece alone (the innermost lock; see `fs::io`).
struct ToUser<'a> {
    proc: &'a Proc,
    dst: UserSlice,
}

impl Sink for ToUser<'_> {
    fn len(&self) -> usize {
        self.dst.len() as usize
    }

    fn put(&mut self, at: usize, bytes: &[u8]) -> Result<(), Errno> {
        let to = self.dst.sub(at as u64, bytes.len() as u64)?;
        let mut mm = self.proc.lock_mm();
        mm.as_mut().ok_or(Errno::EFAULT)?.copy_out(to, bytes)
    }
}

/// The caller's user memory as the origin of a write.
struct FromUser<'a> {
    proc: &'a Proc,
    src: UserSlice,
}

impl Source for FromUser<'_> {
    fn len(&self) -> usize {
        self.src.len() as usize
    }

    fn take(&self, at: usize, into: &mut [u8]) -> Result<(), Errno> {
        let from = self.src.sub(at as u64, into.len() as u64)?;
        let mut mm = self.proc.lock_mm();
        mm.as_mut().ok_or(Errno::EFAULT)?.copy_in(from, into)
    }
}

pub fn read(ctx: &mut Ctx, fd: i32, buf: UserPtr<u8>, n: usize) -> Result<i64, Errno> {
    let file = fd_file(ctx, fd)?;
    if !file.readable {
        return Err(Errno::EBADF);
    }
    if n == 0 {
        return Ok(0);
    }
    let dst = buf.slice(n)?;
    with_mm(ctx, |mm| mm.check_writable(dst))?;
    let mut to = ToUser {
        proc: &ctx.proc,
        dst,
    };
    file.read_to(&mut to).map(|n| n as i64)
}

pub fn write(ctx: &mut Ctx, fd: i32, buf: UserPtr<u8>, n: usize) -> Result<i64, Errno> {
    let file = fd_file(ctx, fd)?;
    if !file.writable {
        return Err(Errno::EBADF);
    }
    if n == 0 {
        return Ok(0);
    }
    let src = buf.slice(n)?;
    with_mm(ctx, |mm| mm.check_readable(src))?;
    let from = FromUser {
        proc: &ctx.proc,
        src,
    };
    file.write_from(&from).map(|n| n as i64)
}

pub fn close(ctx: &mut Ctx, fd: i32) -> Result<i64, Errno> {
    let f = ctx.proc.files.lock().close(i64::from(fd))?;
    drop(f);
    Ok(0)
}

pub fn dup(ctx: &mut Ctx, fd: i32) -> Result<i64, Errno> {
    let f = fd_file(ctx, fd)?;
    let fd = ctx.proc.files.lock().alloc(f)?;
    Ok(fd as i64)
}

pub fn pipe(ctx: &mut Ctx, fds: UserPtr<i32>) -> Result<i64, Errno> {
    with_mm(ctx, |mm| mm.check_writable(fds.array(2)?))?;
    crate::mm::heap::check_room()?;
    let ctr = ctx.proc.container();
    let (rc, wc) = (ctr.files.charge()?, ctr.files.charge()?);
    let p = Arc::new(Pipe::new(ctr.mem.clone())?);
    drop(ctr);
    let r = Arc::new(File {
        kind: FileKind::PipeReader(p.clone()),
        readable: true,
        writable: false,
        charge: rc,
    });
    let w = Arc::new(File {
        kind: FileKind::PipeWriter(p),
        readable: false,
        writable: true,
        charge: wc,
    });
    let (rfd, wfd) = {
        let mut fds = ctx.proc.files.lock();
        if fds.free_count() < 2 {
            return Err(Errno::EMFILE);
        }
        (fds.alloc(r)?, fds.alloc(w)?)
    };
    let out = [rfd as i32, wfd as i32];
    if let Err(e) = with_mm(ctx, |mm| mm.write_all(fds, &out)) {
        let mut fds = ctx.proc.files.lock();
        let _ = fds.close(rfd as i64);
        let _ = fds.close(wfd as i64);
        return Err(e);
    }
    Ok(0)
}

pub fn fstat(ctx: &mut Ctx, fd: i32, st: UserPtr<Stat>) -> Result<i64, Errno> {
    let f = fd_file(ctx, fd)?;
    let stat = f.stat()?;
    with_mm(ctx, |mm| mm.write(st, &stat))?;
    Ok(0)
}

/// The caller's view and current directory; `ENOENT` without a file system.
fn proc_fs(ctx: &Ctx) -> Result<ProcFs, Errno> {
    ctx.proc.fs.lock().clone().ok_or(Errno::ENOENT)
}

pub fn open(ctx: &mut Ctx, path: UserPtr<u8>, flags: u32) -> Result<i64, Errno> {
    if flags & !O_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    crate::mm::heap::check_room()?;
    let path = path_arg(ctx, path)?;
    let pfs = proc_fs(ctx)?;
    let charge = ctx.proc.container().files.charge()?;
    let file = pfs.view.open(&pfs.cwd, &path, flags, charge);
    drop(pfs);
    let file = file?;
    let fd = ctx.proc.files.lock().alloc(file.clone());
    drop(file);
    fd.map(|fd| fd as i64)
}

pub fn chdir(ctx: &mut Ctx, path: UserPtr<u8>) -> Result<i64, Errno> {
    let path = path_arg(ctx, path)?;
    let pfs = proc_fs(ctx)?;
    let new = pfs.view.chdir(&pfs.cwd, &path)?;
    // Only the process itself changes its cwd; take the old one out of the lock to drop it.
    let old = ctx
        .proc
        .fs
        .lock()
        .as_mut()
        .map(|f| core::mem::replace(&mut f.cwd, new));
    drop(old);
    drop(pfs);
    Ok(0)
}

pub fn mknod(ctx: &mut Ctx, path: UserPtr<u8>, major: i32, minor: i32) -> Result<i64, Errno> {
    let path = path_arg(ctx, path)?;
    let (major, minor) = (
        i16::try_from(major).map_err(|_| Errno::EINVAL)?,
        i16::try_from(minor).map_err(|_| Errno::EINVAL)?,
    );
    let pfs = proc_fs(ctx)?;
    pfs.view.mknod(&pfs.cwd, &path, major, minor).map(|()| 0)
}

pub fn unlink(ctx: &mut Ctx, path: UserPtr<u8>) -> Result<i64, Errno> {
    let path = path_arg(ctx, path)?;
    let pfs = proc_fs(ctx)?;
    pfs.view.unlink(&pfs.cwd, &path).map(|()| 0)
}

pub fn mkdir(ctx: &mut Ctx, path: UserPtr<u8>) -> Result<i64, Errno> {
    let path = path_arg(ctx, path)?;
    let pfs = proc_fs(ctx)?;
    pfs.view.mkdir(&pfs.cwd, &path).map(|()| 0)
}

pub fn link(ctx: &mut Ctx, old: UserPtr<u8>, new: UserPtr<u8>) -> Result<i64, Errno> {
    let old = path_arg(ctx, old)?;
    let new = path_arg(ctx, new)?;
    let pfs = proc_fs(ctx)?;
    pfs.view.link(&pfs.cwd, &old, &new).map(|()| 0)
}
