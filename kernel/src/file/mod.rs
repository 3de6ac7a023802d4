//! Open files and file-descriptor tables.
//!
//! A `File` is shared (`Arc`) by every descriptor that refers to it (after
//! `dup` or `fork`) and carries its own offset. The kinds: a device of the
//! device table (`devsw.rs`), the two ends of a pipe, and files and
//! directories of a process's view (`view.rs`; dropping the last reference
//! to an inode may write to the disk, so files are always dropped outside
//! spinlocks).
//! File operations work on kernel buffers; the system-call layer copies to
//! and from user memory around them, after checking the whole user range.

pub mod devsw;
pub mod mount;
pub mod pipe;
pub mod view;

use alloc::sync::Arc;

use berth_abi::errno::Errno;
use berth_abi::limits::NOFILE;
use berth_abi::stat::Stat;

use crate::container::files::FileCharge;
use crate::sync::SleepLock;
use devsw::Device;
use pipe::Pipe;
use view::{Node, View};

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
        if !self.readable {
            return Err(Errno::EBADF);
        }
        match &self.kind {
            FileKind::Device { dev, minor, .. } => dev.read(*minor, buf),
            FileKind::PipeReader(p) => p.read(buf),
            FileKind::PipeWriter(_) => Err(Errno::EBADF),
            FileKind::Inode {
                view, node, offset, ..
            } => {
                let mut off = offset.lock();
                let n = view.read(node, *off, buf)?;
                *off += n as u64;
                Ok(n)
            }
        }
    }

    /// Writes all of `buf` (or fails).
    pub fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        if !self.writable {
            return Err(Errno::EBADF);
        }
        match &self.kind {
            FileKind::Device { dev, minor, .. } => dev.write(*minor, buf),
            FileKind::PipeWriter(p) => p.write(buf),
            FileKind::PipeReader(_) => Err(Errno::EBADF),
            FileKind::Inode {
                view,
                node,
                offset,
                append,
            } => {
                let mut off = offset.lock();
                if *append {
                    let (n, end) = view.append(node, buf)?;
                    *off = end;
                    Ok(n)
                } else {
                    let n = view.write(node, *off, buf)?;
                    *off += n as u64;
                    Ok(n)
                }
            }
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
