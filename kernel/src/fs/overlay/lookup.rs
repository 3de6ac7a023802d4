//! Merged lookups: what a view's path names in its upper and lower trees.
//!
//! A [`Node`] is one name of the view: its upper inode if the upper layer
//! has it, and the lower inode beneath (for a directory: the lower
//! directory merged under it, `None` when the upper one is opaque or the
//! lower tree has no directory there). A lookup walks both trees from their
//! roots one component at a time ([`Layer::child`]): a whiteout in the
//! upper directory hides the name; an upper entry shadows the lower one; a
//! name only the lower tree has is read from there (lower is live: a host
//! change shows through until the name is copied up).
//!
//! Locking: each step locks one directory to find an entry, unlocks it,
//! then locks the entry alone to read its type, so at most one inode lock
//! is held and no transaction is open (as in `fs/path.rs`).

use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fs::{Dirent, DIRENT_SIZE, DIR_OPAQUE, T_DEVICE, T_DIR, WHITEOUT_MAJOR};

use super::{Layer, OvPath};
use crate::fs::inode::InodeRef;
use crate::fs::path::Name;

/// What one name of the view is made of.
pub(super) struct Node {
    /// The upper layer's inode, if it has one.
    pub upper: Option<InodeRef>,
    /// For a directory, the lower directory merged under it; for anything
    /// else, the lower inode when there is no upper one.
    pub lower: Option<InodeRef>,
    /// `T_DIR`, `T_FILE` or `T_DEVICE`.
    pub kind: i16,
}

impl Node {
    /// The inode to read: the upper one if present, else the lower one.
    pub fn top(&self) -> Result<&InodeRef, Errno> {
        self.upper
            .as_ref()
            .or(self.lower.as_ref())
            .ok_or(Errno::EIO)
    }

    pub fn into_top(self) -> Result<InodeRef, Errno> {
        self.upper.or(self.lower).ok_or(Errno::EIO)
    }
}

/// A name looked up in a merged directory.
pub(super) enum Child {
    /// Not in the view (missing, or hidden by a whiteout).
    Absent,
    Present(Node),
}

/// Whether an inode of this type and major is a whiteout marker.
pub(super) fn is_whiteout(kind: i16, major: i16) -> bool {
    kind == T_DEVICE && major == WHITEOUT_MAJOR
}

/// The inode `name` names in directory `dir`, with its type and major
/// (neither locked on return); `None` when there is no such entry.
pub(super) fn entry(dir: &InodeRef, name: &[u8]) -> Result<Option<(InodeRef, i16, i16)>, Errno> {
    let ip = {
        let g = dir.lock()?;
        if g.kind() != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        match g.dirlookup(name)? {
            Some(ip) => ip,
            None => return Ok(None),
        }
    };
    let (kind, major) = {
        let g = ip.lock()?;
        (g.kind(), g.major())
    };
    Ok(Some((ip, kind, major)))
}

/// The entries of directory `dir` other than `.` and `..`, in order.
pub(super) fn dir_entries(dir: &InodeRef) -> Result<Vec<(Name, u32)>, Errno> {
    let bytes = {
        let g = dir.lock()?;
        if g.kind() != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        // A directory's size is the caller's choice: a full heap is its
        // ENOMEM, never a kernel panic.
        let mut buf = Vec::new();
        buf.try_reserve_exact(g.size() as usize)
            .map_err(|_| Errno::ENOMEM)?;
        buf.resize(g.size() as usize, 0);
        let n = g.read(0, &mut buf)?;
        buf.truncate(n);
        buf
    };
    let mut out = Vec::new();
    out.try_reserve_exact(bytes.len() / DIRENT_SIZE)
        .map_err(|_| Errno::ENOMEM)?;
    for raw in bytes.chunks_exact(DIRENT_SIZE) {
        let de = Dirent::from_bytes(raw);
        let name = de.name_bytes();
        if de.inum == 0 || name == b"." || name == b".." {
            continue;
        }
        if let Ok(name) = Name::new(name) {
            out.push((name, de.inum as u32));
        }
    }
    Ok(out)
}

impl Layer {
    /// The view's root: the upper root over the host's root.
    pub(super) fn root_node(&self) -> Node {
        Node {
            upper: Some(self.upper.clone()),
            lower: Some(self.lower.clone()),
            kind: T_DIR,
        }
    }

    /// `name` in the merged directory `parent`.
    pub(super) fn child(&self, parent: &Node, name: &Name) -> Result<Child, Errno> {
        if parent.kind != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        if let Some(up) = &parent.upper {
            match entry(up, name.as_bytes())? {
                Some((_, kind, major)) if is_whiteout(kind, major) => return Ok(Child::Absent),
                Some((ip, T_DIR, flags)) => {
                    let lower = if flags & DIR_OPAQUE != 0 {
                        None
                    } else {
                        self.lower_dir(parent, name)?
                    };
                    return Ok(Child::Present(Node {
                        upper: Some(ip),
                        lower,
                        kind: T_DIR,
                    }));
                }
                Some((ip, kind, _)) => {
                    return Ok(Child::Present(Node {
                        upper: Some(ip),
                        lower: None,
                        kind,
                    }))
                }
                None => {}
            }
        }
        match self.lower_entry(parent, name)? {
            Some((ip, kind)) => Ok(Child::Present(Node {
                upper: None,
                lower: Some(ip),
                kind,
            })),
            None => Ok(Child::Absent),
        }
    }

    /// `name` in the lower directory merged under `parent`, if any.
    pub(super) fn lower_entry(
        &self,
        parent: &Node,
        name: &Name,
    ) -> Result<Option<(InodeRef, i16)>, Errno> {
        match &parent.lower {
            Some(lo) => Ok(entry(lo, name.as_bytes())?.map(|(ip, kind, _)| (ip, kind))),
            None => Ok(None),
        }
    }

    fn lower_dir(&self, parent: &Node, name: &Name) -> Result<Option<InodeRef>, Errno> {
        Ok(match self.lower_entry(parent, name)? {
            Some((ip, T_DIR)) => Some(ip),
            _ => None,
        })
    }

    /// What `path` names: `ENOENT` when a component is missing or whited
    /// out, `ENOTDIR` when one before the last is not a directory.
    pub(super) fn walk(&self, path: &OvPath) -> Result<Node, Errno> {
        let mut node = self.root_node();
        for name in path.components() {
            node = match self.child(&node, name)? {
                Child::Present(n) => n,
                Child::Absent => return Err(Errno::ENOENT),
            };
        }
        Ok(node)
    }

    /// The merged directory holding the last component of `path`, the
    /// component, and what it names there. `None` for the root.
    pub(super) fn walk_parent(
        &self,
        path: &OvPath,
    ) -> Result<Option<(OvPath, Node, Name, Child)>, Errno> {
        let Some((parent, name)) = path.split_last() else {
            return Ok(None);
        };
        let pnode = self.walk(&parent)?;
        if pnode.kind != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        let child = self.child(&pnode, &name)?;
        Ok(Some((parent, pnode, name, child)))
    }

    /// Whether the upper entry `inum` is a whiteout (the shared marker is
    /// recognised by number, others by reading them).
    pub(super) fn is_whiteout_inum(&self, inum: u32) -> Result<bool, Errno> {
        if inum == self.whiteout.inum() {
            return Ok(true);
        }
        let ip = self.fs.fs.iget(inum)?;
        let g = ip.lock()?;
        let wh = is_whiteout(g.kind(), g.major());
        drop(g);
        Ok(wh)
    }
}
