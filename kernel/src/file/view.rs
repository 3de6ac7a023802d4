//! File-system views: what a process's paths resolve in.
//!
//! A [`View`] is a file system and a root directory; a process holds one
//! with its current directory ([`ProcFs`], Linux's `fs_struct`). Every path
//! system call, every open inode file and exec's program reader go through
//! a view, and name what they hold with a [`Node`]. Today there is one kind
//! of view, the host's: the mounted file system from a root directory,
//! where a node is a plain inode. A container's overlay adds a kind of node
//! (a path in its view and the inode to do I/O on) and the matching arms
//! here: path operations match on the view's root and the current
//! directory, I/O on the node (`View::inode`); nothing outside this module
//! looks inside a node.
//!
//! Dropping a node or a view may drop the last reference to an inode, which
//! may write to the disk: both are dropped outside every spinlock (take them
//! out of the lock, then drop).

use alloc::sync::Arc;

use berth_abi::errno::Errno;
use berth_abi::fcntl::{O_APPEND, O_RDWR, O_WRONLY};
use berth_abi::fs::{T_DEVICE, T_FILE};
use berth_abi::stat::Stat;

use super::{File, FileKind};
use crate::fs::{At, FileSystem, InodeGuard, InodeRef};
use crate::proc::elf::ReadAt;
use crate::sync::SleepLock;

/// A file or directory as a view names it: a current directory, the inode
/// of an open file, a view's root.
#[derive(Clone)]
pub enum Node {
    /// An inode of the host file system, seen as it is.
    Host(InodeRef),
}

/// What a process's paths resolve in: a file system and the directory `/`
/// names (where `..` stops).
pub struct View {
    fs: &'static FileSystem,
    root: Node,
}

impl View {
    /// The host's view: the mounted file system from its root; `None`
    /// without one.
    pub fn host() -> Result<Option<View>, Errno> {
        let Some(fs) = super::mount::root_fs() else {
            return Ok(None);
        };
        Ok(Some(View {
            fs,
            root: Node::Host(fs.root()?),
        }))
    }

    /// The inode reads and writes of `node` go to.
    fn inode(node: &Node) -> &InodeRef {
        match node {
            Node::Host(ip) => ip,
        }
    }

    /// `open(path, flags)` from `cwd` (flags as `FileSystem::open_inode`
    /// takes them). A device inode opens its device-table entry (`ENODEV`
    /// for an unknown major); anything else a file of this view.
    pub fn open(self: &Arc<Self>, cwd: &Node, path: &[u8], flags: u32) -> Result<Arc<File>, Errno> {
        let node = match (&self.root, cwd) {
            (Node::Host(root), Node::Host(cwd)) => {
                Node::Host(self.fs.open_inode(At::new(root, cwd), path, flags)?)
            }
        };
        let readable = flags & O_WRONLY == 0;
        let writable = flags & (O_WRONLY | O_RDWR) != 0;
        let (kind, major, minor) = {
            let g = Self::inode(&node).lock()?;
            (g.kind(), g.major(), g.minor())
        };
        if kind == T_DEVICE {
            drop(node);
            return File::device(major, minor, readable, writable);
        }
        Ok(Arc::new(File {
            kind: FileKind::Inode {
                view: self.clone(),
                node,
                offset: SleepLock::new("file offset", 0),
                append: flags & O_APPEND != 0,
            },
            readable,
            writable,
        }))
    }

    /// The directory `chdir(path)` from `cwd` moves to; `ENOTDIR` if `path`
    /// names something else.
    pub fn chdir(&self, cwd: &Node, path: &[u8]) -> Result<Node, Errno> {
        match (&self.root, cwd) {
            (Node::Host(root), Node::Host(cwd)) => {
                Ok(Node::Host(self.fs.chdir_lookup(At::new(root, cwd), path)?))
            }
        }
    }

    pub fn mkdir(&self, cwd: &Node, path: &[u8]) -> Result<(), Errno> {
        match (&self.root, cwd) {
            (Node::Host(root), Node::Host(cwd)) => self.fs.mkdir(At::new(root, cwd), path),
        }
    }

    pub fn mknod(&self, cwd: &Node, path: &[u8], major: i16, minor: i16) -> Result<(), Errno> {
        match (&self.root, cwd) {
            (Node::Host(root), Node::Host(cwd)) => {
                self.fs.mknod(At::new(root, cwd), path, major, minor)
            }
        }
    }

    pub fn unlink(&self, cwd: &Node, path: &[u8]) -> Result<(), Errno> {
        match (&self.root, cwd) {
            (Node::Host(root), Node::Host(cwd)) => self.fs.unlink(At::new(root, cwd), path),
        }
    }

    pub fn link(&self, cwd: &Node, old: &[u8], new: &[u8]) -> Result<(), Errno> {
        match (&self.root, cwd) {
            (Node::Host(root), Node::Host(cwd)) => self.fs.link(At::new(root, cwd), old, new),
        }
    }

    /// Runs `f` on the program `path` names from `cwd`, locked until `f`
    /// returns (as xv6's exec); `EACCES` unless it is a regular file.
    pub fn exec_reader<R>(
        &self,
        cwd: &Node,
        path: &[u8],
        f: impl FnOnce(&dyn ReadAt) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let node = match (&self.root, cwd) {
            (Node::Host(root), Node::Host(cwd)) => {
                Node::Host(self.fs.namei(At::new(root, cwd), path)?)
            }
        };
        let file = Self::inode(&node).lock()?;
        if file.stat().kind != T_FILE {
            return Err(Errno::EACCES);
        }
        f(&file)
    }

    /// Reads up to `dst.len()` bytes of `node` at `off`; short (or 0) at end of file.
    pub fn read(&self, node: &Node, off: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        self.fs.read_file(Self::inode(node), off, dst)
    }

    /// Writes `data` to `node` at `off` (see `FileSystem::write_file`).
    pub fn write(&self, node: &Node, off: u64, data: &[u8]) -> Result<usize, Errno> {
        self.fs.write_file(Self::inode(node), off, data)
    }

    /// Writes `data` at the end of `node`; the count and the offset past it.
    pub fn append(&self, node: &Node, data: &[u8]) -> Result<(usize, u64), Errno> {
        self.fs.append_file(Self::inode(node), data)
    }

    /// `fstat` of `node`.
    pub fn stat(&self, node: &Node) -> Result<Stat, Errno> {
        self.fs.stat(Self::inode(node))
    }
}

/// A process's place in the file system: its view and its current directory
/// (under the view's root). `fork` copies it.
#[derive(Clone)]
pub struct ProcFs {
    pub view: Arc<View>,
    pub cwd: Node,
}

impl ProcFs {
    /// At the root of `view`.
    pub fn at_root(view: Arc<View>) -> ProcFs {
        let cwd = view.root.clone();
        ProcFs { view, cwd }
    }

    /// The host's view at its root (init's); `None` without a file system.
    pub fn host() -> Result<Option<ProcFs>, Errno> {
        Ok(View::host()?.map(|v| ProcFs::at_root(Arc::new(v))))
    }
}

impl ReadAt for InodeGuard<'_> {
    fn size(&self) -> u64 {
        self.stat().size
    }

    fn read_at(&self, off: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        self.read(off, dst)
    }
}
