//! File system calls: descriptors, pipes and paths. Paths resolve in the
//! caller's view from its current directory (`file/view.rs`); without a
//! mounted file system every path names nothing (`ENOENT`). Views, nodes and
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

/// Largest piece copied through the kernel at once.
const CHUNK: usize = 4096;

/// Transfers of at most this many bytes bounce through a buffer on the
/// kernel stack instead of a heap chunk: the short reads and writes of
/// pipes, consoles and small files allocate nothing.
const STACK_CHUNK: usize = 256;

/// Runs `f` with a bounce buffer for a transfer of `n` bytes (at most a
/// `CHUNK`; on the stack when it is short).
fn with_bounce<R>(n: u64, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if n <= STACK_CHUNK as u64 {
        let mut small = [0u8; STACK_CHUNK];
        f(&mut small[..n as usize])
    } else {
        f(&mut alloc::vec![0u8; CHUNK.min(n as usize)])
    }
}

fn fd_file(ctx: &Ctx, i: usize) -> Result<Arc<File>, Errno> {
    ctx.proc.files.lock().get(ctx.arg(i) as i32 as i64)
}

pub fn read(ctx: &mut Ctx) -> Result<i64, Errno> {
    let file = fd_file(ctx, 0)?;
    let (addr, n) = (ctx.arg(1), ctx.arg(2));
    if !file.readable {
        return Err(Errno::EBADF);
    }
    if n == 0 {
        return Ok(0);
    }
    with_mm(ctx, |mm| mm.check_writable(addr, n))?;
    with_bounce(n, |buf| {
        let mut done = 0u64;
        while done < n {
            let want = (n - done).min(buf.len() as u64) as usize;
            let got = file.read(&mut buf[..want])?;
            with_mm(ctx, |mm| mm.copy_out(addr + done, &buf[..got]))?;
            done += got as u64;
            // Streams (devices, pipes) return what is there; stop at a short read.
            if got < want || file.is_stream() {
                break;
            }
        }
        Ok(done as i64)
    })
}

pub fn write(ctx: &mut Ctx) -> Result<i64, Errno> {
    let file = fd_file(ctx, 0)?;
    let (addr, n) = (ctx.arg(1), ctx.arg(2));
    if !file.writable {
        return Err(Errno::EBADF);
    }
    if n == 0 {
        return Ok(0);
    }
    with_mm(ctx, |mm| mm.check_readable(addr, n))?;
    with_bounce(n, |buf| {
        let mut done = 0u64;
        while done < n {
            let len = (n - done).min(buf.len() as u64) as usize;
            with_mm(ctx, |mm| mm.copy_in(addr + done, &mut buf[..len]))?;
            match file.write(&buf[..len]) {
                Ok(w) => done += w as u64,
                Err(e) if done > 0 && e != Errno::EFAULT => break,
                Err(e) => return Err(e),
            }
        }
        Ok(done as i64)
    })
}

pub fn close(ctx: &mut Ctx) -> Result<i64, Errno> {
    let f = ctx.proc.files.lock().close(ctx.arg(0) as i32 as i64)?;
    drop(f);
    Ok(0)
}

pub fn dup(ctx: &mut Ctx) -> Result<i64, Errno> {
    let f = fd_file(ctx, 0)?;
    let fd = ctx.proc.files.lock().alloc(f)?;
    Ok(fd as i64)
}

pub fn pipe(ctx: &mut Ctx) -> Result<i64, Errno> {
    let addr = ctx.arg(0);
    with_mm(ctx, |mm| mm.check_writable(addr, 8))?;
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
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&(rfd as i32).to_le_bytes());
    out[4..].copy_from_slice(&(wfd as i32).to_le_bytes());
    if let Err(e) = with_mm(ctx, |mm| mm.copy_out(addr, &out)) {
        let mut fds = ctx.proc.files.lock();
        let _ = fds.close(rfd as i64);
        let _ = fds.close(wfd as i64);
        return Err(e);
    }
    Ok(0)
}

pub fn fstat(ctx: &mut Ctx) -> Result<i64, Errno> {
    let f = fd_file(ctx, 0)?;
    let addr = ctx.arg(1);
    let st: Stat = f.stat()?;
    let mut out = [0u8; 24];
    out[0..4].copy_from_slice(&st.dev.to_le_bytes());
    out[4..8].copy_from_slice(&st.ino.to_le_bytes());
    out[8..10].copy_from_slice(&st.kind.to_le_bytes());
    out[10..12].copy_from_slice(&st.nlink.to_le_bytes());
    out[16..24].copy_from_slice(&st.size.to_le_bytes());
    with_mm(ctx, |mm| mm.copy_out(addr, &out))?;
    Ok(0)
}

/// The caller's view and current directory; `ENOENT` without a file system.
fn proc_fs(ctx: &Ctx) -> Result<ProcFs, Errno> {
    ctx.proc.fs.lock().clone().ok_or(Errno::ENOENT)
}

pub fn open(ctx: &mut Ctx) -> Result<i64, Errno> {
    // An `int` argument: the upper half of the register is the caller's junk.
    let flags = ctx.arg(1) as u32;
    if flags & !O_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    crate::mm::heap::check_room()?;
    let path = path_arg(ctx, 0)?;
    let pfs = proc_fs(ctx)?;
    let charge = ctx.proc.container().files.charge()?;
    let file = pfs.view.open(&pfs.cwd, &path, flags, charge);
    drop(pfs);
    let file = file?;
    let fd = ctx.proc.files.lock().alloc(file.clone());
    drop(file);
    fd.map(|fd| fd as i64)
}

pub fn chdir(ctx: &mut Ctx) -> Result<i64, Errno> {
    let path = path_arg(ctx, 0)?;
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

pub fn mknod(ctx: &mut Ctx) -> Result<i64, Errno> {
    let path = path_arg(ctx, 0)?;
    let (major, minor) = (ctx.arg_i32(1), ctx.arg_i32(2));
    let (major, minor) = (
        i16::try_from(major).map_err(|_| Errno::EINVAL)?,
        i16::try_from(minor).map_err(|_| Errno::EINVAL)?,
    );
    let pfs = proc_fs(ctx)?;
    pfs.view.mknod(&pfs.cwd, &path, major, minor).map(|()| 0)
}

pub fn unlink(ctx: &mut Ctx) -> Result<i64, Errno> {
    let path = path_arg(ctx, 0)?;
    let pfs = proc_fs(ctx)?;
    pfs.view.unlink(&pfs.cwd, &path).map(|()| 0)
}

pub fn mkdir(ctx: &mut Ctx) -> Result<i64, Errno> {
    let path = path_arg(ctx, 0)?;
    let pfs = proc_fs(ctx)?;
    pfs.view.mkdir(&pfs.cwd, &path).map(|()| 0)
}

pub fn link(ctx: &mut Ctx) -> Result<i64, Errno> {
    let old = path_arg(ctx, 0)?;
    let new = path_arg(ctx, 1)?;
    let pfs = proc_fs(ctx)?;
    pfs.view.link(&pfs.cwd, &old, &new).map(|()| 0)
}
