//! File system calls: descriptors, pipes and paths. Without a mounted file
//! system every path names nothing (`ENOENT`). Inode references are dropped
//! outside every spinlock (dropping one may write to the disk).

use alloc::sync::Arc;

use berth_abi::errno::Errno;
use berth_abi::fcntl::{O_ALL, O_APPEND, O_RDWR, O_WRONLY};
use berth_abi::fs::CONSOLE_MAJOR;
use berth_abi::stat::{Stat, T_DEVICE};

use super::proc::{path_arg, with_mm};
use super::Ctx;
use crate::file::mount::root_fs;
use crate::file::pipe::Pipe;
use crate::file::{File, FileKind};
use crate::fs::{FileSystem, InodeRef};
use crate::sync::SleepLock;

/// Largest piece copied through the kernel at once.
const CHUNK: usize = 4096;

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
    let mut buf = alloc::vec![0u8; CHUNK.min(n as usize)];
    let mut done = 0u64;
    while done < n {
        let want = (n - done).min(CHUNK as u64) as usize;
        let got = file.read(&mut buf[..want])?;
        with_mm(ctx, |mm| mm.copy_out(addr + done, &buf[..got]))?;
        done += got as u64;
        // Streams (console, pipes) return what is there; stop at a short read.
        if got < want || matches!(file.kind, FileKind::Console | FileKind::PipeReader(_)) {
            break;
        }
    }
    Ok(done as i64)
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
    let mut buf = alloc::vec![0u8; CHUNK.min(n as usize)];
    let mut done = 0u64;
    while done < n {
        let len = (n - done).min(CHUNK as u64) as usize;
        with_mm(ctx, |mm| mm.copy_in(addr + done, &mut buf[..len]))?;
        match file.write(&buf[..len]) {
            Ok(w) => done += w as u64,
            Err(e) if done > 0 && e != Errno::EFAULT => break,
            Err(e) => return Err(e),
        }
    }
    Ok(done as i64)
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
    let p = Arc::new(Pipe::new(ctx.proc.container().mem.clone())?);
    let r = Arc::new(File {
        kind: FileKind::PipeReader(p.clone()),
        readable: true,
        writable: false,
    });
    let w = Arc::new(File {
        kind: FileKind::PipeWriter(p),
        readable: false,
        writable: true,
    });
    let ctr = ctx.proc.container();
    ctr.files.register(&r)?;
    ctr.files.register(&w)?;
    drop(ctr);
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

/// The mounted file system and the caller's current directory.
fn fs_and_cwd(ctx: &Ctx) -> Result<(&'static FileSystem, InodeRef), Errno> {
    let fs = root_fs().ok_or(Errno::ENOENT)?;
    let cwd = ctx.proc.cwd.lock().clone();
    match cwd {
        Some(c) => Ok((fs, c)),
        None => Ok((fs, fs.root()?)),
    }
}

pub fn open(ctx: &mut Ctx) -> Result<i64, Errno> {
    // An `int` argument: the upper half of the register is the caller's junk.
    let flags = ctx.arg(1) as u32;
    if flags & !O_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let path = path_arg(ctx, 0)?;
    let (fs, cwd) = fs_and_cwd(ctx)?;
    let ip = fs.open_inode(&cwd, &path, flags);
    drop(cwd);
    let ip = ip?;
    let readable = flags & O_WRONLY == 0;
    let writable = flags & (O_WRONLY | O_RDWR) != 0;
    let st = fs.stat(&ip)?;
    let file = if st.kind == T_DEVICE {
        let major = ip.lock()?.major();
        drop(ip);
        if major != CONSOLE_MAJOR {
            return Err(Errno::ENODEV);
        }
        File::console(readable, writable)
    } else {
        Arc::new(File {
            kind: FileKind::Inode {
                ip,
                offset: SleepLock::new("file offset", 0),
                append: flags & O_APPEND != 0,
            },
            readable,
            writable,
        })
    };
    ctx.proc.container().files.register(&file)?;
    let fd = ctx.proc.files.lock().alloc(file.clone());
    drop(file);
    fd.map(|fd| fd as i64)
}

pub fn chdir(ctx: &mut Ctx) -> Result<i64, Errno> {
    let path = path_arg(ctx, 0)?;
    let (fs, cwd) = fs_and_cwd(ctx)?;
    let new = fs.chdir_lookup(&cwd, &path);
    drop(cwd);
    let old = ctx.proc.cwd.lock().replace(new?);
    drop(old);
    Ok(0)
}

pub fn mknod(ctx: &mut Ctx) -> Result<i64, Errno> {
    let path = path_arg(ctx, 0)?;
    let (major, minor) = (ctx.arg_i32(1), ctx.arg_i32(2));
    let (major, minor) = (
        i16::try_from(major).map_err(|_| Errno::EINVAL)?,
        i16::try_from(minor).map_err(|_| Errno::EINVAL)?,
    );
    let (fs, cwd) = fs_and_cwd(ctx)?;
    fs.mknod(&cwd, &path, major, minor).map(|()| 0)
}

pub fn unlink(ctx: &mut Ctx) -> Result<i64, Errno> {
    let path = path_arg(ctx, 0)?;
    let (fs, cwd) = fs_and_cwd(ctx)?;
    fs.unlink(&cwd, &path).map(|()| 0)
}

pub fn mkdir(ctx: &mut Ctx) -> Result<i64, Errno> {
    let path = path_arg(ctx, 0)?;
    let (fs, cwd) = fs_and_cwd(ctx)?;
    fs.mkdir(&cwd, &path).map(|()| 0)
}

pub fn link(ctx: &mut Ctx) -> Result<i64, Errno> {
    let old = path_arg(ctx, 0)?;
    let new = path_arg(ctx, 1)?;
    let (fs, cwd) = fs_and_cwd(ctx)?;
    fs.link(&cwd, &old, &new).map(|()| 0)
}
