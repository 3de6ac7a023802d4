//! Removing whole trees: a destroyed layer, and every layer at mount.
//!
//! A tree is removed entry by entry, deepest first, each removal one
//! `FileSystem::unlink_in` transaction, so every step leaves a consistent
//! image and a crash in the middle leaves a smaller tree (the next mount
//! goes on with it). Files are freed as their last link and reference go
//! (big ones in several transactions, `inode.rs`); whiteout entries drop
//! links of their marker, which goes with its last one. The walk keeps an
//! explicit stack (no recursion: upper trees may be deeper than paths), and
//! refuses a directory that is already on it (a loop in a corrupt image).

use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fs::{LAYERS_INO, T_DIR};

use super::lookup::dir_entries;
use crate::fs::inode::InodeRef;
use crate::fs::path::Name;
use crate::fs::FileSystem;

impl FileSystem {
    /// Removes every layer in the layer area; returns how many there were.
    /// Mount calls it: containers do not survive a reboot.
    pub fn clean_layers(&self) -> Result<usize, Errno> {
        let layers = self.fs.iget(LAYERS_INO)?;
        let names = dir_entries(&layers)?;
        for (name, _) in &names {
            self.remove_tree(&layers, name)?;
        }
        Ok(names.len())
    }

    /// Removes `name` from directory `parent`, and everything under it first.
    pub(super) fn remove_tree(&self, parent: &InodeRef, name: &Name) -> Result<(), Errno> {
        let child = {
            let g = parent.lock()?;
            g.dirlookup(name.as_bytes())?.ok_or(Errno::ENOENT)?
        };
        let is_dir = child.lock()?.kind() == T_DIR;
        if is_dir {
            self.empty_dir(child)?;
        }
        let mut victim = None;
        self.unlink_in(parent, name, &mut victim)
    }

    /// Removes everything under directory `top`.
    fn empty_dir(&self, top: InodeRef) -> Result<(), Errno> {
        let mut stack = Vec::from([top]);
        'dirs: while let Some(dir) = stack.last().cloned() {
            for (name, inum) in dir_entries(&dir)? {
                let ip = self.fs.iget(inum)?;
                let full_dir = {
                    let g = ip.lock()?;
                    g.kind() == T_DIR && !g.is_dir_empty()?
                };
                if full_dir {
                    if stack.iter().any(|d| d.inum() == inum) {
                        return Err(Errno::EIO);
                    }
                    stack.push(ip);
                    continue 'dirs;
                }
                drop(ip);
                let mut victim = None;
                self.unlink_in(&dir, &name, &mut victim)?;
            }
            drop(dir);
            stack.pop();
        }
        Ok(())
    }
}
