//! Directories: files of 16-byte entries `{inum: u16, name: [u8; 14]}`.
//!
//! An entry with `inum == 0` is free and is reused by the next link. Names
//! are compared in full: a name longer than `DIRSIZ` bytes can be neither
//! stored nor found (`ENAMETOOLONG`). Every directory holds `.` and `..`
//! entries; they are ordinary entries on disk, but the link-count rule
//! (see `ops.rs`) never counts `.`.
//!
//! Locking: every function here runs on a locked directory
//! ([`InodeGuard`]); the changing ones also need the operation's
//! [`Transaction`]. Lookups return inode numbers; [`InodeGuard::dirlookup`]
//! turns one into a reference without locking it (the caller locks the
//! child after unlocking the directory when the child may be an ancestor,
//! as for `..`).

use berth_abi::errno::Errno;
use berth_abi::fs::{Dirent, BSIZE, DIRENT_SIZE, DIRSIZ, T_DIR};

use super::inode::{InodeGuard, InodeRef};
use super::log::Transaction;

/// Checks that `name` can be stored in a directory entry.
pub fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.len() > DIRSIZ {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name.contains(&b'/') || name.contains(&0) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

impl InodeGuard<'_> {
    /// Calls `f(offset, entry)` for each entry slot in order until it returns `Some`.
    fn scan<T>(&self, mut f: impl FnMut(u64, &Dirent) -> Option<T>) -> Result<Option<T>, Errno> {
        if self.kind() != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        let size = self.size() as u64;
        let mut block = [0u8; BSIZE];
        let mut off = 0u64;
        while off < size {
            let n = self.read(off, &mut block)?;
            if n == 0 {
                break;
            }
            for (i, raw) in block[..n].chunks_exact(DIRENT_SIZE).enumerate() {
                let de = Dirent::from_bytes(raw);
                if let Some(found) = f(off + (i * DIRENT_SIZE) as u64, &de) {
                    return Ok(Some(found));
                }
            }
            off += n as u64;
        }
        Ok(None)
    }

    /// The inode number and entry offset of `name` in this directory.
    /// `ENOTDIR` if this is not a directory, `ENAMETOOLONG` for a name longer than `DIRSIZ`.
    pub fn dir_find(&self, name: &[u8]) -> Result<Option<(u32, u64)>, Errno> {
        if name.len() > DIRSIZ {
            return Err(Errno::ENAMETOOLONG);
        }
        self.scan(|off, de| {
            (de.inum != 0 && de.name_bytes() == name).then_some((de.inum as u32, off))
        })
    }

    /// A reference (not locked) to the inode `name` names here (xv6 `dirlookup`).
    pub fn dirlookup(&self, name: &[u8]) -> Result<Option<InodeRef>, Errno> {
        match self.dir_find(name)? {
            Some((inum, _)) => Ok(Some(self.inode_ref().fs().iget(inum)?)),
            None => Ok(None),
        }
    }

    /// Adds the entry `name -> inum` (xv6 `dirlink`), reusing a free slot or
    /// growing the directory. `EEXIST` if the name is present,
    /// `ENAMETOOLONG`/`EINVAL` for a name that cannot be stored, `ENOSPC`.
    /// Logs at most `WORST_NEW_BLOCK` blocks.
    pub(super) fn dirlink(
        &mut self,
        tx: &Transaction<'_>,
        name: &[u8],
        inum: u32,
    ) -> Result<(), Errno> {
        check_name(name)?;
        let inum = u16::try_from(inum).map_err(|_| Errno::EINVAL)?;
        if self.dir_find(name)?.is_some() {
            return Err(Errno::EEXIST);
        }
        let free = self.scan(|off, de| (de.inum == 0).then_some(off))?;
        let off = free.unwrap_or_else(|| (self.size() as u64).next_multiple_of(DIRENT_SIZE as u64));
        let mut de = Dirent {
            inum,
            name: [0; DIRSIZ],
        };
        de.name[..name.len()].copy_from_slice(name);
        match self.write(tx, off, &de.to_bytes())? {
            DIRENT_SIZE => Ok(()),
            // Only an operation that already used up its log budget stops short.
            _ => Err(Errno::EIO),
        }
    }

    /// Clears the entry at `off` (found by [`InodeGuard::dir_find`]).
    pub(super) fn dir_clear(&mut self, tx: &Transaction<'_>, off: u64) -> Result<(), Errno> {
        match self.write(tx, off, &[0; DIRENT_SIZE])? {
            DIRENT_SIZE => Ok(()),
            _ => Err(Errno::EIO),
        }
    }

    /// Whether the directory holds nothing but `.` and `..`.
    pub fn is_dir_empty(&self) -> Result<bool, Errno> {
        let other = self.scan(|_, de| {
            (de.inum != 0 && !matches!(de.name_bytes(), b"." | b"..")).then_some(())
        })?;
        Ok(other.is_none())
    }
}
