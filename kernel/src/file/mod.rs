//! Open files and file-descriptor tables.
//!
//! A `File` is shared (`Arc`) by every descriptor that refers to it (after
//! `dup` or `fork`) and carries its own offset. The kinds: a device of the
//! device table (`devsw.rs`), the two ends of a pipe, and files and
//! directories of a process's view (`view.rs`; dropping the last reference
//! to an inode may write to the disk, so files are always dropped outside
//! spinlocks).
//! File operations read into a [`Sink`] and write from a [`Source`]
//! (`fs::io`): a kernel buffer, or the caller's user memory, which the
//! system-call layer hands over after checking the whole user range. Files
//! of a view copy straight between the buffer cache and the sink or
//! source; streams go through a bounce buffer ([`with_bounce`]), on the
//! kernel stack for short transfers.

pub mod devsw;
pub mod mount;
pub mod pipe;
pub mod view;

use alloc::sync::Arc;

use berth_abi::errno::Errno;
use berth_abi::limits::NOFILE;
use berth_abi::stat::Stat;

use crate::container::files::FileCharge;
use crate::fs::io::{Sink, Source};
use crate::sync::SleepLock;
use devsw::Device;
use pipe::Pipe;
use view::{Node, View};

/// Largest piece a stream moves through the kernel at once.
const CHUNK: usize = 4096;

/// Transfers of at most this many bytes bounce through a buffer on the
/// kernel stack instead of a heap chunk: the short reads and writes of
/// pipes and consoles allocate nothing.
const STACK_CHUNK: usize = 256;

/// Runs `f` with a bounce buffer for a transfer of `n` bytes (at most a
/// `CHUNK`; on the stack when it is short).
fn with_bounce<R>(n: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    if n <= STACK_CHUNK {
        let mut small = [0u8; STACK_CHUNK];
        f(&mut small[..n])
    } else {
        f(&mut alloc::vec![0u8; CHUNK.min(n)])
    }
}

/// A stream's read: one piece, what `read` gives, through a bounce buffer.
fn read_piece<S: Sink + ?Sized>(
    dst: &mut S,
    read: impl FnOnce(&mut [u8]) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    with_bounce(dst.len(), |buf| {
        let got = read(buf)?;
        dst.put(0, &buf[..got])?;
        Ok(got)
    })
}

/// A stream's write: all of `src`, a bounce buffer at a time; short when
/// a later piece fails (not when `src` cannot give one: `EFAULT`).
fn write_pieces<S: Source + ?Sized>(
    src: &S,
    mut write: impl FnMut(&[u8]) -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let n = src.len();
    with_bounce(n, |buf| {
        let mut done = 0;
        while done < n {
            let len = (n - done).min(buf.len());
            src.take(done, &mut buf[..len])?;
            match write(&buf[..len]) {
                Ok(w) => done += w,
                Err(e) if done > 0 && e != Errno::EFAULT => break,
                Err(e) => return Err(e),
            }
        }
        Ok(done)
    })
}

/// What an open file refers to.
pub enum FileKind {
    /// An entry of the device table, with the inode's device numbers.
    Device {
        dev: &'static dyn Device,
        major: i16,
        minor: i16,
    },
    PipeReader(Arc<Pipe>),
    PipeWriter(Arc<Pipe>),
    /// A file or directory of the view it was opened in, which does its
    /// I/O; the offset is under a sleep lock because file I/O sleeps, and it
    /// serialises readers and writers sharing the file.
    Inode {
        view: Arc<View>,
        node: Node,
        offset: SleepLock<u64>,
        append: bool,
    },
}

/// An open file.
pub struct File {
    pub kind: FileKind,
    pub readable: bool,
    pub writable: bool,
    /// Its place in the opener's container file table, given back when
    /// the file closes.
    pub charge: FileCharge,
}

impl File {
    /// An open device `major`/`minor`; `ENODEV` if the table has no `major`.
    pub fn device(
        major: i16,
        minor: i16,
        readable: bool,
        writable: bool,
        charge: FileCharge,
    ) -> Result<Arc<File>, Errno> {
        Ok(Arc::new(File {
            kind: FileKind::Device {
                dev: devsw::lookup(major)?,
                major,
                minor,
            },
            readable,
            writable,
            charge,
        }))
    }

    /// Whether reads return what is there rather than fill the buffer
    /// (devices and pipes), so a read loop stops after one piece.
    pub fn is_stream(&self) -> bool {
        matches!(self.kind, FileKind::Device { .. } | FileKind::PipeReader(_))
    }

    /// Reads up to `buf.len()` bytes; 0 means end of file.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        self.read_to(buf)
    }

    /// Reads up to `dst.len()` bytes into `dst`; 0 means end of file. A
    /// file of a view copies straight from the buffer cache into `dst`; a
    /// stream (device, pipe) returns one piece, what is there, through a
    /// bounce buffer, so `dst` is never written under the pipe's spinlock.
    pub fn read_to<S: Sink + ?Sized>(&self, dst: &mut S) -> Result<usize, Errno> {
        if !self.readable {
            return Err(Errno::EBADF);
        }
        match &self.kind {
            FileKind::Inode {
                view, node, offset, ..
            } => {
                let mut off = offset.lock();
                let n = view.read(node, *off, dst)?;
                *off += n as u64;
                Ok(n)
            }
            FileKind::PipeWriter(_) => Err(Errno::EBADF),
            FileKind::Device { dev, minor, .. } => read_piece(dst, |buf| dev.read(*minor, buf)),
            FileKind::PipeReader(p) => read_piece(dst, |buf| p.read(buf)),
        }
    }

    /// Writes all of `buf` (or fails).
    pub fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        self.write_from(buf)
    }

    /// Writes the bytes of `src`: a file of a view copies them straight
    /// into the buffer cache; a stream takes them a bounce buffer at a
    /// time. The count is short when a later piece fails (but not for a
    /// piece `src` could not give: that is `EFAULT`).
    pub fn write_from<S: Source + ?Sized>(&self, src: &S) -> Result<usize, Errno> {
        if !self.writable {
            return Err(Errno::EBADF);
        }
        match &self.kind {
            FileKind::Inode {
                view,
                node,
                offset,
                append,
            } => {
                let mut off = offset.lock();
                if *append {
                    let (n, end) = view.append(node, src)?;
                    *off = end;
                    Ok(n)
                } else {
                    let n = view.write(node, *off, src)?;
                    *off += n as u64;
                    Ok(n)
                }
            }
            FileKind::PipeReader(_) => Err(Errno::EBADF),
            FileKind::Device { dev, minor, .. } => write_pieces(src, |buf| dev.write(*minor, buf)),
            FileKind::PipeWriter(p) => write_pieces(src, |buf| p.write(buf)),
        }
    }

    pub fn stat(&self) -> Result<Stat, Errno> {
        match &self.kind {
            FileKind::Device { dev, minor, .. } => Ok(dev.stat(*minor)),
            // Pipes have no inode; report a zero-filled device-less entry like xv6.
            FileKind::PipeReader(_) | FileKind::PipeWriter(_) => Ok(Stat::default()),
            FileKind::Inode { view, node, .. } => view.stat(node),
        }
    }
}

impl Drop for File {
    fn drop(&mut self) {
        match &self.kind {
            FileKind::PipeReader(p) => p.close_reader(),
            FileKind::PipeWriter(p) => p.close_writer(),
            FileKind::Device { .. } | FileKind::Inode { .. } => {}
        }
    }
}

/// A process's descriptors.
#[derive(Clone)]
pub struct FdTable {
    fds: [Option<Arc<File>>; NOFILE],
}

impl Default for FdTable {
    fn default() -> Self {
        Self::new()
    }
}

impl FdTable {
    pub const fn new() -> FdTable {
        FdTable {
            fds: [const { None }; NOFILE],
        }
    }

    /// The file behind `fd`.
    pub fn get(&self, fd: i64) -> Result<Arc<File>, Errno> {
        usize::try_from(fd)
            .ok()
            .and_then(|i| self.fds.get(i))
            .and_then(|f| f.clone())
            .ok_or(Errno::EBADF)
    }

    /// Installs `f` in the lowest free descriptor.
    pub fn alloc(&mut self, f: Arc<File>) -> Result<usize, Errno> {
        let i = self
            .fds
            .iter()
            .position(|s| s.is_none())
            .ok_or(Errno::EMFILE)?;
        self.fds[i] = Some(f);
        Ok(i)
    }

    /// Free descriptors left.
    pub fn free_count(&self) -> usize {
        self.fds.iter().filter(|s| s.is_none()).count()
    }

    /// Closes `fd`, returning the file so the caller drops it outside any lock.
    pub fn close(&mut self, fd: i64) -> Result<Arc<File>, Errno> {
        let i = usize::try_from(fd)
            .ok()
            .filter(|&i| i < NOFILE)
            .ok_or(Errno::EBADF)?;
        self.fds[i].take().ok_or(Errno::EBADF)
    }

    /// Takes every open file out (exit), for dropping outside the lock.
    pub fn take_all(&mut self) -> [Option<Arc<File>>; NOFILE] {
        core::mem::replace(&mut self.fds, [const { None }; NOFILE])
    }
}
