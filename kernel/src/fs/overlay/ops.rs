//! The view's operations, with the contracts (flags, errors) of
//! `FileSystem`'s in `fs/ops.rs` and the overlay rules:
//! - reads come from the upper inode if there is one, else the lower one;
//! - opening a lower file for writing or with `O_TRUNC` copies it up first
//!   (`O_TRUNC`: without its bytes) and returns the upper inode; `O_CREATE`,
//!   `mkdir`, `mknod` and `link` create in the upper layer, copying the
//!   parent directories up;
//! - `unlink` of a name the lower tree has leaves a whiteout (and removes
//!   the upper copy, if any); a directory must be empty in the merged view;
//! - `mkdir` over a whiteout makes an opaque directory;
//! - `link` of a lower file copies it up, then links the copy.
//!
//! Paths are resolved lexically from the caller's view cwd (`ovpath.rs`).

use berth_abi::errno::Errno;
use berth_abi::fcntl::{O_ALL, O_CREATE, O_DIRECTORY, O_RDWR, O_TRUNC, O_WRONLY};
use berth_abi::fs::{T_DEVICE, T_DIR, T_FILE, WHITEOUT_MAJOR};

use super::lookup::{dir_entries, Child, Node};
use super::ovpath::ends_in_dot;
use super::{Layer, OvPath};
use crate::fs::inode::InodeRef;

impl Layer {
    /// The view's root.
    pub fn root_path() -> OvPath {
        OvPath::root()
    }

    /// Resolves `path` from `cwd` in the view (lexically; no lookup).
    pub fn resolve(&self, cwd: &OvPath, path: &[u8]) -> Result<OvPath, Errno> {
        // A name gone meanwhile (a removed current directory) passes:
        // leaving it by `..` works, as on the host.
        OvPath::resolve_checked(cwd, path, |p| match self.walk(p) {
            Ok(n) => Ok(n.kind == T_DIR),
            Err(Errno::ENOENT) => Ok(true),
            Err(e) => Err(e),
        })
    }

    /// The inode `path` names in the view (upper if present, else lower).
    pub fn namei(&self, cwd: &OvPath, path: &[u8]) -> Result<InodeRef, Errno> {
        self.walk(&self.resolve(cwd, path)?)?.into_top()
    }

    /// The inode to `fstat` for `path` (as [`Layer::namei`]).
    pub fn stat(&self, cwd: &OvPath, path: &[u8]) -> Result<InodeRef, Errno> {
        self.namei(cwd, path)
    }

    /// The directory `chdir(path)` moves to; `ENOTDIR` if it is something else.
    pub fn chdir_lookup(&self, cwd: &OvPath, path: &[u8]) -> Result<OvPath, Errno> {
        let p = self.resolve(cwd, path)?;
        if self.walk(&p)?.kind != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        Ok(p)
    }

    /// `open` in the view: flag rules and errors of
    /// `FileSystem::open_inode`. Write access or `O_TRUNC` on a lower
    /// file copies it up and returns the upper inode; `O_CREATE` of a new
    /// name creates it in the upper layer. Returns the inode and its path.
    pub fn open(&self, cwd: &OvPath, path: &[u8], flags: u32) -> Result<(InodeRef, OvPath), Errno> {
        if flags & !O_ALL != 0
            || flags & (O_WRONLY | O_RDWR) == O_WRONLY | O_RDWR
            || flags & (O_CREATE | O_DIRECTORY) == O_CREATE | O_DIRECTORY
        {
            return Err(Errno::EINVAL);
        }
        let write = flags & (O_WRONLY | O_RDWR) != 0;
        let trunc = flags & O_TRUNC != 0;
        let p = self.resolve(cwd, path)?;
        let mut node = if flags & O_CREATE != 0 {
            self.create_file(&p)?
        } else {
            self.walk(&p)?
        };
        if node.kind == T_DIR && (write || trunc) {
            return Err(Errno::EISDIR);
        }
        if flags & O_DIRECTORY != 0 && node.kind != T_DIR {
            return Err(Errno::ENOTDIR);
        }
        if node.kind == T_FILE && (write || trunc) && node.upper.is_none() {
            node.upper = Some(self.copy_up(&p, &node, !trunc)?);
        }
        if node.kind == T_FILE && trunc {
            self.fs.truncate(node.top()?)?;
        }
        Ok((node.into_top()?, p))
    }

    /// `O_CREATE`: the existing file or device at `p`, or a new upper file.
    fn create_file(&self, p: &OvPath) -> Result<Node, Errno> {
        let Some((parent, _, name, child)) = self.walk_parent(p)? else {
            return Err(Errno::EISDIR);
        };
        match child {
            Child::Present(n) if n.kind == T_DIR => Err(Errno::EISDIR),
            Child::Present(n) => Ok(n),
            Child::Absent => {
                let up = self.ensure_upper(&parent)?.upper.ok_or(Errno::EIO)?;
                let mut out = None;
                match self.upper_create(&up, &name, T_FILE, 0, 0, &mut out) {
                    Ok(()) | Err(Errno::EEXIST) => {}
                    Err(e) => return Err(e),
                }
                let ip = out.ok_or(Errno::EIO)?;
                let kind = ip.lock()?.kind();
                if kind == T_DIR {
                    return Err(Errno::EISDIR);
                }
                Ok(Node {
                    upper: Some(ip),
                    lower: None,
                    kind,
                })
            }
        }
    }

    /// Creates a directory in the view (opaque if made over a whiteout).
    pub fn mkdir(&self, cwd: &OvPath, path: &[u8]) -> Result<(), Errno> {
        self.make(cwd, path, T_DIR, 0, 0)
    }

    /// Creates a device node in the view. `EINVAL` for the whiteout major.
    pub fn mknod(&self, cwd: &OvPath, path: &[u8], major: i16, minor: i16) -> Result<(), Errno> {
        if major == WHITEOUT_MAJOR {
            return Err(Errno::EINVAL);
        }
        self.make(cwd, path, T_DEVICE, major, minor)
    }

    fn make(
        &self,
        cwd: &OvPath,
        path: &[u8],
        kind: i16,
        major: i16,
        minor: i16,
    ) -> Result<(), Errno> {
        let p = self.resolve(cwd, path)?;
        if ends_in_dot(path) {
            // `.` and `..` always exist (if their directory does).
            self.walk(&p)?;
            return Err(Errno::EEXIST);
        }
        let Some((parent, _, name, child)) = self.walk_parent(&p)? else {
            return Err(Errno::EEXIST);
        };
        if let Child::Present(_) = child {
            return Err(Errno::EEXIST);
        }
        let up = self.ensure_upper(&parent)?.upper.ok_or(Errno::EIO)?;
        let mut out = None;
        self.upper_create(&up, &name, kind, major, minor, &mut out)
    }

    /// Removes a name from the view (`FileSystem::unlink`'s errors: `EINVAL`
    /// for `.`/`..`, `EBUSY` for the root, `ENOTEMPTY` for a directory
    /// with entries in the merged view, `ENOENT`).
    pub fn unlink(&self, cwd: &OvPath, path: &[u8]) -> Result<(), Errno> {
        if ends_in_dot(path) {
            return Err(Errno::EINVAL);
        }
        let p = self.resolve(cwd, path)?;
        let Some((parent, pnode, name, child)) = self.walk_parent(&p)? else {
            return Err(Errno::EBUSY);
        };
        let Child::Present(target) = child else {
            return Err(Errno::ENOENT);
        };
        if target.kind == T_DIR {
            if !self.merged_entries(&target)?.is_empty() {
                return Err(Errno::ENOTEMPTY);
            }
            if let Some(up) = &target.upper {
                // Only whiteouts are left in it: hide the lower directory
                // first, so clearing them changes nothing in the view.
                if !dir_entries(up)?.is_empty() {
                    self.set_opaque(up)?;
                    for (name, inum) in dir_entries(up)? {
                        if !self.is_whiteout_inum(inum)? {
                            return Err(Errno::ENOTEMPTY); // made meanwhile
                        }
                        let mut victim = None;
                        self.fs.unlink_in(up, &name, &mut victim)?;
                    }
                }
            }
        }
        let in_lower = self.lower_entry(&pnode, &name)?.is_some();
        drop((pnode, target));
        if in_lower {
            let up = self.ensure_upper(&parent)?.upper.ok_or(Errno::EIO)?;
            self.upper_remove(&up, &name, true)
        } else {
            let pnode = self.walk(&parent)?;
            let up = pnode.upper.as_ref().ok_or(Errno::ENOENT)?;
            self.upper_remove(up, &name, false)
        }
    }

    /// Makes `new` another name for the file `old` (`FileSystem::link`'s
    /// errors). A lower file is copied up first and the copy is linked.
    pub fn link(&self, cwd: &OvPath, old: &[u8], new: &[u8]) -> Result<(), Errno> {
        let op = self.resolve(cwd, old)?;
        let onode = self.walk(&op)?;
        if onode.kind == T_DIR {
            return Err(Errno::EPERM);
        }
        let np = self.resolve(cwd, new)?;
        if ends_in_dot(new) {
            return Err(Errno::EEXIST);
        }
        let Some((nparent, _, name, child)) = self.walk_parent(&np)? else {
            return Err(Errno::EEXIST);
        };
        if let Child::Present(_) = child {
            return Err(Errno::EEXIST);
        }
        let src = self.copy_up(&op, &onode, true)?;
        let up = self.ensure_upper(&nparent)?.upper.ok_or(Errno::EIO)?;
        self.upper_link(&src, &up, &name)
    }
}
