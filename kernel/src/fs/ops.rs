//! File-system operations for the system-call layer (xv6's `sysfile.c`
//! without the file descriptors).
//!
//! Each operation runs its own transaction(s): callers hold no lock and no
//! transaction when they call in, and get `Result<_, Errno>` back. Paths
//! are byte strings without the terminator, resolved from an `At` (see
//! `path.rs`): the caller's current directory, and the root an absolute path
//! starts at; a bare `&InodeRef` is a current directory under the file
//! system's root.
//!
//! Structure of a changing operation: resolve paths (no transaction: a walk
//! may drop the last reference of a removed directory, which frees it in a
//! transaction of its own), begin the operation, lock the directory then
//! the entry, change, unlock, end the operation, and only then drop the
//! references taken inside it: they live in an `Option` owned by the
//! caller of the `*_in` helper, declared before the transaction.
//!
//! Writes larger than what one operation may log are split into several
//! operations (`write_file`, `truncate`), as xv6's `filewrite` does; a
//! crash in the middle leaves a prefix of the write (or truncation) done.
//!
//! Link counts follow the rule in `mod.rs`: creating a directory adds one
//! to its parent (for the new `..`), removing one subtracts it.

use berth_abi::errno::Errno;
use berth_abi::fcntl::{O_ALL, O_CREATE, O_DIRECTORY, O_RDWR, O_TRUNC, O_WRONLY};
use berth_abi::fs::{BSIZE, MAXFILE, T_DEVICE, T_DIR, T_FILE, WHITEOUT_MAJOR};
use berth_abi::stat::Stat;

use super::inode::{InodeGuard, InodeRef};
use super::io::{Rest, Sink, Source};
use super::log::Transaction;
use super::path::{self, is_root_path, At, Name};
use super::FileSystem;

impl FileSystem {
    fn same_fs(&self, at: At<'_>) {
        debug_assert!(at.is_on(&self.fs), "inode of another file system");
    }

    /// The inode `path` names.
    pub fn namei<'a>(&self, at: impl Into<At<'a>>, path: &[u8]) -> Result<InodeRef, Errno> {
        let at = at.into();
        self.same_fs(at);
        path::namei(at, path)
    }

    /// The directory holding the last component of `path`, and that component.
    pub fn nameiparent<'a>(
        &self,
        at: impl Into<At<'a>>,
        path: &[u8],
    ) -> Result<(InodeRef, Name), Errno> {
        let at = at.into();
        self.same_fs(at);
        path::nameiparent(at, path)
    }

    /// Creates `path` as a `kind` inode (xv6 `create`). For `T_FILE`, an
    /// existing file or device is returned as it is (open with `O_CREATE`)
    /// and an existing directory is `EISDIR`; for `T_DIR` and `T_DEVICE` an
    /// existing name is `EEXIST`. Other errors: those of path lookup,
    /// `ENOENT` when the parent was removed, `EMLINK` when the parent has
    /// too many subdirectories, `ENOSPC` (no free inode or block), `ENFILE`,
    /// `EINVAL` for a device with the whiteout major (only the overlay makes
    /// whiteout markers, in the layer area: see `berth_abi::fs`).
    pub fn create<'a>(
        &self,
        at: impl Into<At<'a>>,
        path: &[u8],
        kind: i16,
        major: i16,
        minor: i16,
    ) -> Result<InodeRef, Errno> {
        if !matches!(kind, T_FILE | T_DIR | T_DEVICE)
            || (kind == T_DEVICE && major == WHITEOUT_MAJOR)
        {
            return Err(Errno::EINVAL);
        }
        if is_root_path(path) {
            return Err(if kind == T_FILE {
                Errno::EISDIR
            } else {
                Errno::EEXIST
            });
        }
        let (dp, name) = self.nameiparent(at, path)?;
        let mut out = None;
        self.create_in(&dp, &name, kind, major, minor, &mut out)?;
        out.ok_or(Errno::EIO)
    }

    pub(super) fn create_in(
        &self,
        dp: &InodeRef,
        name: &Name,
        kind: i16,
        major: i16,
        minor: i16,
        out: &mut Option<InodeRef>,
    ) -> Result<(), Errno> {
        let tx = self.fs.begin_op()?;
        let mut dg = lock_live_dir(dp)?;
        if let Some((inum, _)) = dg.dir_find(name.as_bytes())? {
            let ip = out.insert(self.fs.iget(inum)?);
            // Unlock the directory first: the entry may be its parent (`..`).
            drop(dg);
            let existing = ip.lock()?.kind();
            return match (kind, existing) {
                (T_FILE, T_FILE | T_DEVICE) => Ok(()),
                (T_FILE, _) => Err(Errno::EISDIR),
                _ => Err(Errno::EEXIST),
            };
        }
        let device = if kind == T_DEVICE {
            (major, minor)
        } else {
            (0, 0)
        };
        self.new_entry(&tx, &mut dg, dp, name, kind, device, out, |_| Ok(()))
    }

    /// Within `tx`, with directory `dg` (the inode `dir`) locked and
    /// `name` free in it (or about to be, by `before_link`): allocates a
    /// `kind` inode whose major and minor are `device`, and links it as
    /// `name` (a directory gets `.` and `..` and counts in its parent's
    /// links). `out` holds the new inode; on failure its link count is 0,
    /// so dropping `out` after the operation frees it. `EMLINK` when the
    /// directory has too many subdirectories.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new_entry(
        &self,
        tx: &Transaction<'_>,
        dg: &mut InodeGuard<'_>,
        dir: &InodeRef,
        name: &Name,
        kind: i16,
        device: (i16, i16),
        out: &mut Option<InodeRef>,
        before_link: impl FnOnce(&mut InodeGuard<'_>) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        if kind == T_DIR && dg.nlink() == i16::MAX {
            return Err(Errno::EMLINK);
        }
        let ip = out.insert(self.fs.ialloc(tx, kind)?);
        let mut ig = ip.lock()?;
        ig.set_device(device.0, device.1);
        ig.set_nlink(1);
        ig.update(tx)?;
        let link = || -> Result<(), Errno> {
            if kind == T_DIR {
                ig.dirlink(tx, b".", ip.inum())?;
                ig.dirlink(tx, b"..", dir.inum())?;
            }
            before_link(dg)?;
            dg.dirlink(tx, name.as_bytes(), ip.inum())?;
            if kind == T_DIR {
                let n = dg.nlink();
                dg.set_nlink(n + 1); // the new `..`
                dg.update(tx)?;
            }
            Ok(())
        };
        if let Err(e) = link() {
            // No entry names it: dropping `out` after the operation frees it.
            ig.set_nlink(0);
            ig.update(tx)?;
            return Err(e);
        }
        Ok(())
    }

    /// Resolves (or creates) the inode `open` gives a descriptor for.
    /// `flags` per `berth_abi::fcntl`: unknown bits, `O_WRONLY|O_RDWR` or
    /// `O_CREATE|O_DIRECTORY` are `EINVAL`; a directory with write access or
    /// `O_TRUNC` is `EISDIR`; `O_DIRECTORY` on anything else is `ENOTDIR`;
    /// `O_TRUNC` empties a regular file. `O_APPEND` is the file layer's.
    pub fn open_inode<'a>(
        &self,
        at: impl Into<At<'a>>,
        path: &[u8],
        flags: u32,
    ) -> Result<InodeRef, Errno> {
        let at = at.into();
        if flags & !O_ALL != 0
            || flags & (O_WRONLY | O_RDWR) == O_WRONLY | O_RDWR
            || flags & (O_CREATE | O_DIRECTORY) == O_CREATE | O_DIRECTORY
        {
            return Err(Errno::EINVAL);
        }
        let write = flags & (O_WRONLY | O_RDWR) != 0;
        let ip = if flags & O_CREATE != 0 {
            self.create(at, path, T_FILE, 0, 0)?
        } else {
            self.namei(at, path)?
        };
        let kind = ip.lock()?.kind();
        if kind == T_DIR && (write || flags & O_TRUNC != 0) {
            return Err(Errno::EISDIR);
        }
        if flags & O_DIRECTORY != 0 && kind != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        if flags & O_TRUNC != 0 && kind == T_FILE {
            self.truncate(&ip)?;
        }
        Ok(ip)
    }

    /// Creates a directory.
    pub fn mkdir<'a>(&self, at: impl Into<At<'a>>, path: &[u8]) -> Result<(), Errno> {
        self.create(at, path, T_DIR, 0, 0).map(drop)
    }

    /// Creates a device node.
    pub fn mknod<'a>(
        &self,
        at: impl Into<At<'a>>,
        path: &[u8],
        major: i16,
        minor: i16,
    ) -> Result<(), Errno> {
        self.create(at, path, T_DEVICE, major, minor).map(drop)
    }

    /// Removes a directory entry (xv6 `sys_unlink`); an empty directory is
    /// removed too. `EINVAL` for `.` or `..`, `EBUSY` for the root,
    /// `ENOTEMPTY` for a directory with entries. The inode is freed when its
    /// last link and last reference are gone.
    pub fn unlink<'a>(&self, at: impl Into<At<'a>>, path: &[u8]) -> Result<(), Errno> {
        if is_root_path(path) {
            return Err(Errno::EBUSY);
        }
        let (dp, name) = self.nameiparent(at, path)?;
        if name.is_dot_or_dotdot() {
            return Err(Errno::EINVAL);
        }
        let mut victim = None;
        self.unlink_in(&dp, &name, &mut victim)
        // `victim` drops here, after the operation.
    }

    pub(super) fn unlink_in(
        &self,
        dp: &InodeRef,
        name: &Name,
        victim: &mut Option<InodeRef>,
    ) -> Result<(), Errno> {
        let tx = self.fs.begin_op()?;
        let mut dg = dp.lock()?;
        let (inum, off) = dg.dir_find(name.as_bytes())?.ok_or(Errno::ENOENT)?;
        if inum == dp.inum() {
            return Err(Errno::EIO); // an entry other than `.` naming its own directory
        }
        let ip = victim.insert(self.fs.iget(inum)?);
        let mut ig = ip.lock()?;
        drop_entry(&tx, &mut dg, off, &mut ig)
    }

    /// Makes `new` another name for the file `old` (xv6 `sys_link`).
    /// `EPERM` for a directory, `EEXIST` when `new` exists, `EMLINK`.
    pub fn link<'a>(&self, at: impl Into<At<'a>>, old: &[u8], new: &[u8]) -> Result<(), Errno> {
        let at = at.into();
        let ip = self.namei(at, old)?;
        if is_root_path(new) {
            return Err(Errno::EEXIST);
        }
        let (dp, name) = self.nameiparent(at, new)?;
        self.link_in(&ip, &dp, &name)
    }

    fn link_in(&self, ip: &InodeRef, dp: &InodeRef, name: &Name) -> Result<(), Errno> {
        let tx = self.fs.begin_op()?;
        self.link_counted(&tx, ip, || {
            let mut dg = lock_live_dir(dp)?;
            dg.dirlink(&tx, name.as_bytes(), ip.inum())
        })
    }

    /// Within `tx`: adds one to file `ip`'s link count, then runs `in_dir`
    /// (which makes the new entry), taking the count back if it fails.
    /// The file and the directory are never locked together: the file
    /// might be an ancestor of the directory until we know it is no
    /// directory. `EPERM` for a directory, `ENOENT` when it was removed
    /// meanwhile, `EMLINK`.
    pub(super) fn link_counted(
        &self,
        tx: &Transaction<'_>,
        ip: &InodeRef,
        in_dir: impl FnOnce() -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        {
            let mut ig = ip.lock()?;
            if ig.kind() == T_DIR {
                return Err(Errno::EPERM);
            }
            if ig.nlink() == 0 {
                return Err(Errno::ENOENT); // removed meanwhile
            }
            if ig.nlink() == i16::MAX {
                return Err(Errno::EMLINK);
            }
            let n = ig.nlink();
            ig.set_nlink(n + 1);
            ig.update(tx)?;
        }
        if let Err(e) = in_dir() {
            let mut ig = ip.lock()?;
            let n = ig.nlink();
            ig.set_nlink(n - 1);
            ig.update(tx)?;
            return Err(e);
        }
        Ok(())
    }

    /// The directory `chdir(path)` moves to; `ENOTDIR` if it is something else.
    pub fn chdir_lookup<'a>(&self, at: impl Into<At<'a>>, path: &[u8]) -> Result<InodeRef, Errno> {
        let ip = self.namei(at, path)?;
        let kind = ip.lock()?.kind();
        if kind != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        Ok(ip)
    }

    /// `fstat` of an inode.
    pub fn stat(&self, ip: &InodeRef) -> Result<Stat, Errno> {
        Ok(ip.lock()?.stat())
    }

    /// Reads up to `dst.len()` bytes at `off`; short (or 0) at end of file.
    pub fn read_file(&self, ip: &InodeRef, off: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        self.read_file_to(ip, off, dst)
    }

    /// [`FileSystem::read_file`] into any sink (user memory, straight from the cache).
    pub fn read_file_to<S: Sink + ?Sized>(
        &self,
        ip: &InodeRef,
        off: u64,
        dst: &mut S,
    ) -> Result<usize, Errno> {
        ip.lock()?.read_to(off, dst)
    }

    /// Writes `data` at `off`, in as many operations as the log needs;
    /// `EFBIG` (nothing written) if it would end past the largest file,
    /// `EISDIR` for a directory. When the disk fills up the count is short,
    /// or `ENOSPC` if nothing was written.
    pub fn write_file(&self, ip: &InodeRef, off: u64, data: &[u8]) -> Result<usize, Errno> {
        self.write_file_from(ip, off, data)
    }

    /// [`FileSystem::write_file`] from any source (user memory, straight into the cache).
    pub fn write_file_from<S: Source + ?Sized>(
        &self,
        ip: &InodeRef,
        off: u64,
        data: &S,
    ) -> Result<usize, Errno> {
        self.write_chunks(ip, Some(off), data).map(|(n, _)| n)
    }

    /// Writes `data` at the end of the file (each operation's chunk goes at
    /// the size it finds); returns the count and the offset just past it.
    pub fn append_file(&self, ip: &InodeRef, data: &[u8]) -> Result<(usize, u64), Errno> {
        self.append_file_from(ip, data)
    }

    /// [`FileSystem::append_file`] from any source.
    pub fn append_file_from<S: Source + ?Sized>(
        &self,
        ip: &InodeRef,
        data: &S,
    ) -> Result<(usize, u64), Errno> {
        self.write_chunks(ip, None, data)
    }

    fn write_chunks<S: Source + ?Sized>(
        &self,
        ip: &InodeRef,
        off: Option<u64>,
        data: &S,
    ) -> Result<(usize, u64), Errno> {
        let max = (MAXFILE * BSIZE) as u64;
        if let Some(off) = off {
            if off
                .checked_add(data.len() as u64)
                .is_none_or(|end| end > max)
            {
                return Err(Errno::EFBIG);
            }
        }
        let mut done = 0;
        let mut end = off.unwrap_or(0);
        loop {
            let chunk = (|| -> Result<usize, Errno> {
                let tx = self.fs.begin_op()?;
                let mut g = ip.lock()?;
                if g.kind() == T_DIR {
                    return Err(Errno::EISDIR);
                }
                let at = match off {
                    Some(off) => off + done as u64,
                    None => g.size() as u64,
                };
                let n = g.write_from(&tx, at, &Rest::new(data, done))?;
                end = at + n as u64;
                Ok(n)
            })();
            match chunk {
                Ok(n) => done += n,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
            // A fresh operation always has room for a block, so 0 means nothing to write.
            if done == data.len() || matches!(chunk, Ok(0)) {
                break;
            }
        }
        Ok((done, end))
    }

    /// Empties a file (`O_TRUNC`), in as many operations as it takes.
    /// `EISDIR` for a directory.
    pub fn truncate(&self, ip: &InodeRef) -> Result<(), Errno> {
        loop {
            let tx = self.fs.begin_op()?;
            let mut g = ip.lock()?;
            if g.kind() == T_DIR {
                return Err(Errno::EISDIR);
            }
            if g.truncate_some(&tx)? {
                return Ok(());
            }
        }
    }
}

/// Within `tx`: clears entry `off` of the locked directory `dg`, which
/// names the locked inode `ig`, and takes that link away (a directory, which
/// must be empty, also takes its `..` from `dg`'s count). `ENOTEMPTY`;
/// `EIO` for an inode whose count is already 0.
pub(super) fn drop_entry(
    tx: &Transaction<'_>,
    dg: &mut InodeGuard<'_>,
    off: u64,
    ig: &mut InodeGuard<'_>,
) -> Result<(), Errno> {
    if ig.nlink() < 1 {
        return Err(Errno::EIO);
    }
    let is_dir = ig.kind() == T_DIR;
    if is_dir && !ig.is_dir_empty()? {
        return Err(Errno::ENOTEMPTY);
    }
    dg.dir_clear(tx, off)?;
    if is_dir {
        let n = dg.nlink();
        dg.set_nlink(n - 1); // its `..` is gone
        dg.update(tx)?;
    }
    let n = ig.nlink();
    ig.set_nlink(n - 1);
    ig.update(tx)
}

/// Locks directory `dir` for a change in it: `ENOTDIR` if it is not one,
/// `ENOENT` if it was removed meanwhile (no links left).
pub(super) fn lock_live_dir(dir: &InodeRef) -> Result<InodeGuard<'_>, Errno> {
    let dg = dir.lock()?;
    if dg.kind() != T_DIR {
        return Err(Errno::ENOTDIR);
    }
    if dg.nlink() == 0 {
        return Err(Errno::ENOENT);
    }
    Ok(dg)
}
