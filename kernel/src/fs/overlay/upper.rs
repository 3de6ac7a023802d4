//! Changes to upper directories, each in one log transaction: creating a
//! name (over a whiteout, which a new directory turns into opacity),
//! removing one (leaving a whiteout when the lower tree has the name),
//! linking a file, making a directory opaque.
//!
//! Transactions cannot be rolled back, so each function checks everything
//! that can fail before it changes anything, or undoes its own change in
//! the same transaction (as `ops.rs` does). References taken inside a
//! transaction live in `Option`s declared before it, so they drop after it.
//! Lock order: the directory, then entries in it (the whiteout marker, the
//! new or removed inode).

use berth_abi::errno::Errno;
use berth_abi::fs::{DIR_OPAQUE, T_DEVICE, T_DIR, WHITEOUT_MAJOR};

use super::lookup::is_whiteout;
use super::Layer;
use crate::fs::inode::{InodeGuard, InodeRef};
use crate::fs::log::Transaction;
use crate::fs::path::Name;

impl Layer {
    /// Creates `name` in upper directory `dir` as a `kind` inode, in place
    /// of a whiteout if there is one; a directory made over a whiteout is
    /// opaque. `EEXIST` when a real entry has the name (`out` then holds it).
    pub(super) fn upper_create(
        &self,
        dir: &InodeRef,
        name: &Name,
        kind: i16,
        major: i16,
        minor: i16,
        out: &mut Option<InodeRef>,
    ) -> Result<(), Errno> {
        let mut existing = None;
        let tx = self.fs.fs.begin_op()?;
        let mut dg = crate::fs::ops::lock_live_dir(dir)?;
        let whiteout = match dg.dir_find(name.as_bytes())? {
            None => None,
            Some((inum, off)) => {
                let ip: &InodeRef = existing.insert(self.fs.fs.iget(inum)?);
                let g = ip.lock()?;
                let wh = is_whiteout(g.kind(), g.major());
                drop(g);
                if !wh {
                    *out = existing.take();
                    return Err(Errno::EEXIST);
                }
                Some(off)
            }
        };
        let device = if kind == T_DIR {
            (if whiteout.is_some() { DIR_OPAQUE } else { 0 }, 0)
        } else {
            (major, minor)
        };
        self.fs
            .new_entry(&tx, &mut dg, dir, name, kind, device, out, |dg| {
                if let (Some(off), Some(wh)) = (whiteout, &existing) {
                    // The cleared slot takes the new entry: no growth, no failure.
                    dg.dir_clear(&tx, off)?;
                    let mut wg = wh.lock()?;
                    let n = wg.nlink();
                    wg.set_nlink(n - 1);
                    wg.update(&tx)?;
                }
                Ok(())
            })
    }

    /// Removes `name` from upper directory `dir` (a directory only when it
    /// holds nothing but `.` and `..`) and, with `whiteout`, leaves a
    /// whiteout in its place (also when `dir` has no such name). Without
    /// `whiteout`, a missing name or a whiteout is `ENOENT`.
    pub(super) fn upper_remove(
        &self,
        dir: &InodeRef,
        name: &Name,
        whiteout: bool,
    ) -> Result<(), Errno> {
        let (mut victim, mut marker) = (None, None);
        let tx = self.fs.fs.begin_op()?;
        let mut dg = crate::fs::ops::lock_live_dir(dir)?;
        if let Some((inum, off)) = dg.dir_find(name.as_bytes())? {
            if inum == dir.inum() {
                return Err(Errno::EIO);
            }
            let ip: &InodeRef = victim.insert(self.fs.fs.iget(inum)?);
            let mut ig = ip.lock()?;
            if is_whiteout(ig.kind(), ig.major()) {
                return if whiteout { Ok(()) } else { Err(Errno::ENOENT) };
            }
            crate::fs::ops::drop_entry(&tx, &mut dg, off, &mut ig)?;
        } else if !whiteout {
            return Err(Errno::ENOENT);
        }
        if whiteout {
            self.link_whiteout(&tx, &mut dg, name, &mut marker)?;
        }
        Ok(())
    }

    /// Adds the whiteout entry `name` to the locked upper directory `dg`:
    /// another link to the layer's marker, or to a fresh marker when that
    /// one has the most links an inode can have.
    fn link_whiteout(
        &self,
        tx: &Transaction<'_>,
        dg: &mut InodeGuard<'_>,
        name: &Name,
        marker: &mut Option<InodeRef>,
    ) -> Result<(), Errno> {
        let shared = {
            let mut wg = self.whiteout.lock()?;
            let n = wg.nlink();
            if n < i16::MAX {
                wg.set_nlink(n + 1);
                wg.update(tx)?;
                true
            } else {
                false
            }
        };
        if shared {
            if let Err(e) = dg.dirlink(tx, name.as_bytes(), self.whiteout.inum()) {
                let mut wg = self.whiteout.lock()?;
                let n = wg.nlink();
                wg.set_nlink(n - 1);
                wg.update(tx)?;
                return Err(e);
            }
            return Ok(());
        }
        let ip: &InodeRef = marker.insert(self.fs.fs.ialloc(tx, T_DEVICE)?);
        let mut ig = ip.lock()?;
        ig.set_device(WHITEOUT_MAJOR, 0);
        ig.set_nlink(1);
        ig.update(tx)?;
        if let Err(e) = dg.dirlink(tx, name.as_bytes(), ip.inum()) {
            ig.set_nlink(0);
            ig.update(tx)?;
            return Err(e);
        }
        Ok(())
    }

    /// Makes `name`, a file or device in the upper layer (`ip`), also named
    /// `name` in upper directory `dir`, in place of a whiteout if there is
    /// one. `EPERM` for a directory, `EEXIST`, `EMLINK`, `ENOENT` when either
    /// was removed meanwhile.
    pub(super) fn upper_link(
        &self,
        ip: &InodeRef,
        dir: &InodeRef,
        name: &Name,
    ) -> Result<(), Errno> {
        let mut existing = None;
        let tx = self.fs.fs.begin_op()?;
        self.fs.link_counted(&tx, ip, || {
            let mut dg = crate::fs::ops::lock_live_dir(dir)?;
            if let Some((inum, off)) = dg.dir_find(name.as_bytes())? {
                let wh: &InodeRef = existing.insert(self.fs.fs.iget(inum)?);
                let mut wg = wh.lock()?;
                if !is_whiteout(wg.kind(), wg.major()) {
                    return Err(Errno::EEXIST);
                }
                dg.dir_clear(&tx, off)?;
                let n = wg.nlink();
                wg.set_nlink(n - 1);
                wg.update(&tx)?;
            }
            dg.dirlink(&tx, name.as_bytes(), ip.inum())
        })
    }

    /// Sets the opaque flag of upper directory `dir`.
    pub(super) fn set_opaque(&self, dir: &InodeRef) -> Result<(), Errno> {
        let tx = self.fs.fs.begin_op()?;
        let mut g = dir.lock()?;
        if g.kind() != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        let flags = g.major();
        if flags & DIR_OPAQUE == 0 {
            g.set_device(flags | DIR_OPAQUE, g.minor());
            g.update(&tx)?;
        }
        Ok(())
    }
}
