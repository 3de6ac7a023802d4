//! Reading a view's directories and listing its changes.
//!
//! [`Layer::read_dir`] merges a directory in xv6's dirent format: `.` and
//! `..` first, then the upper entries, then the lower entries no upper name
//! shadows (an opaque upper directory shows no lower entry); whiteouts are
//! never shown. Inode numbers are the real ones, upper or lower (both
//! layers live on one disk, so they are unique), except that a directory
//! merged over a lower one shows the lower one's number, as `stat` does
//! ([`Layer::ino_of`]): `/` stays inode 1 and a directory keeps its number
//! when it is copied up (overlayfs does the same on one file system).
//!
//! [`Layer::diff`] is `docker diff`: a walk of the upper tree only, each
//! name marked `A` (added: the lower tree has no such name), `C` (changed:
//! it has; directories copied up count as changed) or `D` (deleted: a
//! whiteout), sorted by path.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fs::{Dirent, DIRSIZ, DIR_OPAQUE, T_DIR};

use super::lookup::{dir_entries, entry, is_whiteout, Child, Node};
use super::{Layer, OvPath};
use crate::fs::inode::InodeRef;
use crate::fs::path::Name;

fn dirent(name: &[u8], inum: u32) -> Dirent {
    let mut de = Dirent {
        inum: inum as u16,
        name: [0; DIRSIZ],
    };
    de.name[..name.len()].copy_from_slice(name);
    de
}

impl Layer {
    /// The merged entries of directory `node`, `.` and `..` left out.
    pub(super) fn merged_entries(&self, node: &Node) -> Result<Vec<Dirent>, Errno> {
        let mut out = Vec::new();
        // Names the upper directory has, whiteouts included: they shadow.
        let mut shadowed = BTreeSet::new();
        let lower = match &node.lower {
            Some(lo) => dir_entries(lo)?,
            None => Vec::new(),
        };
        if let Some(up) = &node.upper {
            for (name, inum) in dir_entries(up)? {
                shadowed.insert(name.as_bytes().to_vec());
                if self.is_whiteout_inum(inum)? {
                    continue;
                }
                // A directory merged over a lower one shows the lower number.
                let shown = if lower.iter().any(|(n, _)| n == &name) {
                    match self.child(node, &name)? {
                        Child::Present(n) => self.ino_of(&n)?,
                        Child::Absent => inum,
                    }
                } else {
                    inum
                };
                out.push(dirent(name.as_bytes(), shown));
            }
        }
        for (name, inum) in lower {
            if !shadowed.contains(name.as_bytes()) {
                out.push(dirent(name.as_bytes(), inum));
            }
        }
        Ok(out)
    }

    /// The inode number the view shows for `node`: a directory merged
    /// over a lower one shows the lower one's; anything else its own.
    pub(super) fn ino_of(&self, node: &Node) -> Result<u32, Errno> {
        match (&node.lower, node.kind) {
            (Some(lo), T_DIR) => Ok(lo.inum()),
            _ => Ok(node.top()?.inum()),
        }
    }

    /// The inode number `fstat` reports for `path` in the view.
    pub fn stat_ino(&self, path: &OvPath) -> Result<u32, Errno> {
        self.ino_of(&self.walk(path)?)
    }

    /// The merged listing of directory `dir`: `.`, `..`, upper entries,
    /// then unshadowed lower ones. `ENOTDIR` for anything else.
    pub fn read_dir(&self, dir: &OvPath) -> Result<Vec<Dirent>, Errno> {
        let node = self.walk(dir)?;
        if node.kind != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        let dot = self.ino_of(&node)?;
        let dotdot = match dir.split_last() {
            Some((parent, _)) => self.ino_of(&self.walk(&parent)?)?,
            None => dot,
        };
        let mut out = Vec::from([dirent(b".", dot), dirent(b"..", dotdot)]);
        out.extend(self.merged_entries(&node)?);
        Ok(out)
    }

    /// The view's changes against the lower tree, like `docker diff`:
    /// `(b'A' | b'C' | b'D', absolute path)`, sorted by path.
    pub fn diff(&self) -> Result<Vec<(u8, Vec<u8>)>, Errno> {
        let mut out = Vec::new();
        let mut stack: Vec<(OvPath, InodeRef, Option<InodeRef>)> =
            Vec::from([(OvPath::root(), self.upper.clone(), Some(self.lower.clone()))]);
        while let Some((path, up, lower)) = stack.pop() {
            for (name, inum) in dir_entries(&up)? {
                let child = path.join(&name);
                let Some((ip, kind, major)) = entry(&up, name.as_bytes())? else {
                    continue; // removed meanwhile
                };
                if ip.inum() != inum {
                    continue;
                }
                if is_whiteout(kind, major) {
                    out.push((b'D', child.to_bytes()));
                    continue;
                }
                let below = self.lower_named(lower.as_ref(), &name)?;
                out.push((if below.is_some() { b'C' } else { b'A' }, child.to_bytes()));
                if kind == T_DIR {
                    let merged = match below {
                        Some((lo, T_DIR)) if major & DIR_OPAQUE == 0 => Some(lo),
                        _ => None,
                    };
                    stack.push((child, ip, merged));
                }
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(out)
    }

    fn lower_named(
        &self,
        lower: Option<&InodeRef>,
        name: &Name,
    ) -> Result<Option<(InodeRef, i16)>, Errno> {
        match lower {
            Some(lo) => Ok(entry(lo, name.as_bytes())?.map(|(ip, kind, _)| (ip, kind))),
            None => Ok(None),
        }
    }
}
