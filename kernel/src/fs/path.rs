//! Path resolution (xv6 `namei`/`nameiparent`).
//!
//! A path is a byte string without its terminator. A walk starts from an
//! [`At`]: at its root when the path begins with `/`, else at its current
//! directory. The root is the file system's (`ROOTINO`) unless the caller
//! gives another directory (a process's view rooted lower in the tree).
//! Components are separated by one or more slashes; `.` and `..` are
//! ordinary directory entries, except that `..` at the walk's root stays
//! there (the file system's root's `..` names the root itself anyway), so a
//! walk never leaves the tree under its root.
//!
//! Errors: an empty path is `ENOENT`; a path of `MAXPATH` bytes or more (no
//! room for the terminator) or a component longer than `DIRSIZ` is
//! `ENAMETOOLONG`; a missing component is `ENOENT`; looking inside
//! something that is not a directory is `ENOTDIR`.
//!
//! Locking: the walk holds at most one inode lock at a time: it locks a
//! directory, looks the next component up (taking a reference to it),
//! unlocks the directory, then drops the directory's reference. So `..`
//! needs no special case and the walk cannot deadlock with a thread that
//! locks a parent then its child. No transaction may be open: dropping a
//! reference may free an inode removed meanwhile (see `inode.rs`).

use alloc::sync::Arc;
use core::fmt;

use berth_abi::errno::Errno;
use berth_abi::fs::{DIRSIZ, MAXPATH, ROOTINO, T_DIR};

use super::inode::InodeRef;
use super::Fs;

/// A single path component that fits a directory entry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name {
    bytes: [u8; DIRSIZ],
    len: u8,
}

impl Name {
    /// `ENAMETOOLONG` beyond `DIRSIZ` bytes, `ENOENT` when empty.
    pub fn new(name: &[u8]) -> Result<Name, Errno> {
        if name.len() > DIRSIZ {
            return Err(Errno::ENAMETOOLONG);
        }
        if name.is_empty() {
            return Err(Errno::ENOENT);
        }
        let mut bytes = [0; DIRSIZ];
        bytes[..name.len()].copy_from_slice(name);
        Ok(Name {
            bytes,
            len: name.len() as u8,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// `.` or `..`, which can be neither created nor removed.
    pub fn is_dot_or_dotdot(&self) -> bool {
        matches!(self.as_bytes(), b"." | b"..")
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Name({:?})",
            core::str::from_utf8(self.as_bytes()).unwrap_or("<non-utf8>")
        )
    }
}

/// Whether `path` names the root with no component (`/`, `//`, ...).
pub fn is_root_path(path: &[u8]) -> bool {
    !path.is_empty() && path.iter().all(|&c| c == b'/')
}

fn components(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.split(|&c| c == b'/').filter(|c| !c.is_empty())
}

/// Where a walk starts: the directory a relative path starts at, and the
/// root an absolute path starts at and `..` stops at. A bare `&InodeRef`
/// converts to one rooted at the file system's root.
#[derive(Clone, Copy)]
pub struct At<'a> {
    /// `None`: the file system's root (`ROOTINO`).
    root: Option<&'a InodeRef>,
    cwd: &'a InodeRef,
}

impl<'a> At<'a> {
    /// Relative paths from `cwd`, absolute ones from `root` (a directory of
    /// the same file system, with `cwd` under it).
    pub fn new(root: &'a InodeRef, cwd: &'a InodeRef) -> At<'a> {
        At {
            root: Some(root),
            cwd,
        }
    }

    /// The root's inode number.
    fn root_inum(&self) -> u32 {
        self.root.map_or(ROOTINO, InodeRef::inum)
    }

    /// Whether the current directory and the root are both on `fs`.
    pub(super) fn is_on(&self, fs: &Arc<Fs>) -> bool {
        Arc::ptr_eq(self.cwd.fs(), fs) && self.root.is_none_or(|r| Arc::ptr_eq(r.fs(), fs))
    }
}

impl<'a> From<&'a InodeRef> for At<'a> {
    /// Relative paths from `cwd`, absolute ones from the file system's root.
    fn from(cwd: &'a InodeRef) -> At<'a> {
        At { root: None, cwd }
    }
}

/// Walks `path` from `at`. With `parent`, stops one step early and returns
/// the parent directory and the last component.
fn namex(at: At<'_>, path: &[u8], parent: bool) -> Result<(InodeRef, Option<Name>), Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= MAXPATH {
        return Err(Errno::ENAMETOOLONG);
    }
    let root = at.root_inum();
    let mut ip = if path[0] != b'/' {
        at.cwd.clone()
    } else if let Some(r) = at.root {
        r.clone()
    } else {
        at.cwd.fs().iget(ROOTINO)?
    };
    let mut comps = components(path).peekable();
    if parent && comps.peek().is_none() {
        return Err(Errno::ENOENT);
    }
    while let Some(name) = comps.next() {
        let last = comps.peek().is_none();
        let next = {
            let g = ip.lock()?;
            if g.kind() != T_DIR {
                return Err(Errno::ENOTDIR);
            }
            if parent && last {
                let name = Name::new(name)?;
                drop(g);
                return Ok((ip, Some(name)));
            }
            if name == b".." && ip.inum() == root {
                continue; // `..` at the root stays at the root
            }
            g.dirlookup(name)?.ok_or(Errno::ENOENT)?
        };
        // The directory is unlocked: dropping its reference may free it.
        ip = next;
    }
    Ok((ip, None))
}

/// The inode `path` names.
pub fn namei(at: At<'_>, path: &[u8]) -> Result<InodeRef, Errno> {
    namex(at, path, false).map(|(ip, _)| ip)
}

/// The directory holding the last component of `path`, and that component
/// (which need not exist). `ENOENT` for a path with no component (`/`).
pub fn nameiparent(at: At<'_>, path: &[u8]) -> Result<(InodeRef, Name), Errno> {
    match namex(at, path, true)? {
        (dp, Some(name)) => Ok((dp, name)),
        (_, None) => Err(Errno::ENOENT),
    }
}
