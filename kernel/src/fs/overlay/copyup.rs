//! Copy-up: giving a lower name an upper inode.
//!
//! Directories ([`Layer::ensure_upper`]) are copied up as empty,
//! non-opaque upper directories, parents first, each in one transaction;
//! their entries stay in the lower tree (the view merges them).
//!
//! Files and devices ([`Layer::copy_up`]) are copied whole and crash-safe:
//! 1. a temporary inode is made in the layer's `work/` under the name
//!    `#<inum>` (unique: no two live inodes share a number);
//! 2. the lower file's bytes are written into it, in as many transactions
//!    as the log needs (`write_file`);
//! 3. ONE transaction links it into the upper directory and clears its
//!    `work/` entry (its link count is unchanged: one name for another).
//!
//! A crash before step 3 commits leaves no upper file (the old view) and a
//! temporary in `work/` (consistent; mount removes every layer); after it,
//! the complete copy. If another thread installs the name first, the
//! temporary is removed and theirs is used.

use alloc::vec;

use berth_abi::errno::Errno;
use berth_abi::fs::{T_DIR, T_FILE};

use super::lookup::{is_whiteout, Child, Node};
use super::{Layer, OvPath};
use crate::fs::inode::InodeRef;
use crate::fs::path::Name;

/// Bytes read from the lower file per step of a copy.
const COPY_CHUNK: usize = 16 * 1024;

impl Layer {
    /// The node for directory `path` with its upper directory present,
    /// copying up every directory on the way that only the lower tree has.
    pub(super) fn ensure_upper(&self, path: &OvPath) -> Result<Node, Errno> {
        let mut node = self.root_node();
        for name in path.components() {
            let mut child = match self.child(&node, name)? {
                Child::Present(n) if n.kind == T_DIR => n,
                Child::Present(_) => return Err(Errno::ENOTDIR),
                Child::Absent => return Err(Errno::ENOENT),
            };
            if child.upper.is_none() {
                let parent = node.upper.as_ref().ok_or(Errno::EIO)?;
                child.upper = Some(self.copy_up_dir(parent, name)?);
            }
            node = child;
        }
        Ok(node)
    }

    /// Makes directory `name` in upper directory `parent`, or finds the one
    /// another thread just made.
    fn copy_up_dir(&self, parent: &InodeRef, name: &Name) -> Result<InodeRef, Errno> {
        let mut out = None;
        match self.fs.create_in(parent, name, T_DIR, 0, 0, &mut out) {
            Ok(()) => out.ok_or(Errno::EIO),
            Err(Errno::EEXIST) => {
                let ip = out.ok_or(Errno::EEXIST)?;
                let (kind, major) = {
                    let g = ip.lock()?;
                    (g.kind(), g.major())
                };
                match kind {
                    T_DIR => Ok(ip),
                    _ if is_whiteout(kind, major) => Err(Errno::ENOENT), // removed meanwhile
                    _ => Err(Errno::ENOTDIR),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Copies the lower file or device `node` at `path` up (its bytes too
    /// when `with_data`) and returns the upper inode.
    pub(super) fn copy_up(
        &self,
        path: &OvPath,
        node: &Node,
        with_data: bool,
    ) -> Result<InodeRef, Errno> {
        if let Some(up) = &node.upper {
            return Ok(up.clone());
        }
        let lower = node.lower.as_ref().ok_or(Errno::EIO)?;
        let (ppath, name) = path.split_last().ok_or(Errno::EISDIR)?;
        let pnode = self.ensure_upper(&ppath)?;
        let parent = pnode.upper.as_ref().ok_or(Errno::EIO)?;
        let (kind, major, minor) = {
            let g = lower.lock()?;
            (g.kind(), g.major(), g.minor())
        };
        if kind == T_DIR {
            return Err(Errno::EISDIR);
        }
        let (tmp, tmp_name) = self.make_temp(kind, major, minor)?;
        let filled = if with_data && kind == T_FILE {
            self.copy_bytes(lower, &tmp)
        } else {
            Ok(())
        };
        let installed = filled.and_then(|()| self.install(&tmp, &tmp_name, parent, &name));
        match installed {
            Ok(None) => Ok(tmp),
            Ok(Some(theirs)) => {
                self.drop_temp(&tmp_name)?;
                Ok(theirs)
            }
            Err(e) => {
                // Best effort: mount removes what is left.
                let _ = self.drop_temp(&tmp_name);
                Err(e)
            }
        }
    }

    /// A new inode named `#<inum>` in `work/`.
    fn make_temp(&self, kind: i16, major: i16, minor: i16) -> Result<(InodeRef, Name), Errno> {
        let mut out = None;
        let name = {
            let tx = self.fs.fs.begin_op()?;
            let mut wg = self.work.lock()?;
            if wg.nlink() == 0 {
                return Err(Errno::ENOENT);
            }
            let ip: &InodeRef = out.insert(self.fs.fs.ialloc(&tx, kind)?);
            let mut ig = ip.lock()?;
            ig.set_device(major, minor);
            ig.set_nlink(1);
            ig.update(&tx)?;
            let name = temp_name(ip.inum())?;
            if let Err(e) = wg.dirlink(&tx, name.as_bytes(), ip.inum()) {
                ig.set_nlink(0);
                ig.update(&tx)?;
                return Err(e);
            }
            name
        };
        Ok((out.ok_or(Errno::EIO)?, name))
    }

    /// Copies every byte of `lower` into `tmp`.
    fn copy_bytes(&self, lower: &InodeRef, tmp: &InodeRef) -> Result<(), Errno> {
        let mut buf = vec![0u8; COPY_CHUNK];
        let mut off = 0u64;
        loop {
            let n = lower.lock()?.read(off, &mut buf)?;
            if n == 0 {
                return Ok(());
            }
            if self.fs.write_file(tmp, off, &buf[..n])? != n {
                return Err(Errno::ENOSPC);
            }
            off += n as u64;
        }
    }

    /// In one transaction: names `tmp` `name` in `parent` and removes its
    /// `work/` entry. `Some(existing)` (nothing changed) when `parent`
    /// already has a real entry `name`.
    fn install(
        &self,
        tmp: &InodeRef,
        tmp_name: &Name,
        parent: &InodeRef,
        name: &Name,
    ) -> Result<Option<InodeRef>, Errno> {
        let mut existing = None;
        {
            let tx = self.fs.fs.begin_op()?;
            {
                let mut dg = crate::fs::ops::lock_live_dir(parent)?;
                if let Some((inum, _)) = dg.dir_find(name.as_bytes())? {
                    let ip: &InodeRef = existing.insert(self.fs.fs.iget(inum)?);
                    drop(dg);
                    let g = ip.lock()?;
                    if is_whiteout(g.kind(), g.major()) {
                        return Err(Errno::ENOENT); // the name was removed meanwhile
                    }
                    drop(g);
                    return Ok(existing);
                }
                dg.dirlink(&tx, name.as_bytes(), tmp.inum())?;
            }
            let mut wg = self.work.lock()?;
            let (inum, off) = wg.dir_find(tmp_name.as_bytes())?.ok_or(Errno::EIO)?;
            if inum != tmp.inum() {
                return Err(Errno::EIO);
            }
            wg.dir_clear(&tx, off)?;
        }
        Ok(existing)
    }

    /// Removes the temporary `name` from `work/` (it is freed when its last
    /// reference goes).
    fn drop_temp(&self, name: &Name) -> Result<(), Errno> {
        let mut victim = None;
        self.fs.unlink_in(&self.work, name, &mut victim)
    }
}

/// `#` and the decimal inode number.
fn temp_name(inum: u32) -> Result<Name, Errno> {
    let mut buf = [0u8; 11];
    buf[0] = b'#';
    let mut digits = [0u8; 10];
    let (mut n, mut len) = (inum, 0);
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..len {
        buf[1 + i] = digits[len - 1 - i];
    }
    Name::new(&buf[..1 + len])
}
