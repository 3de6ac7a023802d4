//! The container file layer: overlayfs semantics over one berth disk.
//!
//! A container's view of the files ([`Layer`]) stacks two trees:
//! - **lower**: the live host tree, from the root inode (read-only through
//!   the view; a host change to a name the view has not copied up shows);
//! - **upper**: a directory tree private to the layer, kept in the layer
//!   area, a directory no path reaches (inode `LAYERS_INO`, see
//!   `berth_abi::fs` for the on-disk format):
//!
//! ```text
//! [LAYERS_INO]/<layer name>/upper/   the upper tree
//!                          /work/    copy-up temporaries (`#<inum>`)
//!                          /wh       the whiteout marker (T_DEVICE, WHITEOUT_MAJOR)
//! ```
//!
//! A whiteout is an upper entry naming a whiteout marker (normally a hard
//! link to `wh`: a whiteout costs no inode; a fresh marker is made when `wh`
//! has `i16::MAX` links). An opaque directory has `DIR_OPAQUE` in its
//! `major`. Neither can be forged through the view (`mknod` with the
//! whiteout major is `EINVAL`, here and in `FileSystem::mknod`).
//!
//! Files, one job each:
//! - `ovpath.rs`: [`OvPath`], lexical resolution (`..` never leaves the view);
//! - `lookup.rs`: merged lookups (upper over lower, whiteouts, opacity);
//! - `upper.rs`: one-transaction changes to upper directories;
//! - `copyup.rs`: copy-up of directories and (crash-safe) of files;
//! - `ops.rs`: open, stat, chdir, mkdir, mknod, unlink, link in the view;
//! - `listing.rs`: merged `read_dir` and `diff`;
//! - `remove.rs`: removing a layer's tree, and every layer at mount.
//!
//! Locking follows `fs/mod.rs`: every operation runs its own transactions,
//! a lookup holds one inode lock at a time and no transaction, and
//! references taken inside a transaction drop after it. A `Layer` holds
//! references to its directories; drop it (or [`Layer::destroy`] it) outside
//! any lock or transaction, like any `InodeRef`.
//!
//! Containers do not survive a reboot: mount removes every layer
//! ([`FileSystem::clean_layers`], counted in `MountInfo::layers_removed`).

mod copyup;
mod listing;
mod lookup;
mod ops;
mod ovpath;
mod remove;
mod upper;

pub use ovpath::OvPath;

use berth_abi::errno::Errno;
use berth_abi::fs::{LAYERS_INO, ROOTINO, T_DEVICE, T_DIR, WHITEOUT_MAJOR};

use super::dir::check_name;
use super::inode::InodeRef;
use super::path::Name;
use super::FileSystem;

/// One copy-on-write view of the host tree and the upper tree it writes to.
pub struct Layer {
    fs: FileSystem,
    name: Name,
    /// The layer's directory in the layer area.
    dir: InodeRef,
    upper: InodeRef,
    work: InodeRef,
    /// The shared whiteout marker (`wh`).
    whiteout: InodeRef,
    /// The host root.
    lower: InodeRef,
}

impl FileSystem {
    /// Makes a new, empty layer `name` in the layer area (`EEXIST` if
    /// there is one; `EINVAL`/`ENAMETOOLONG` for a name that cannot be a
    /// directory entry, `.` or `..`). A crash part way leaves a partial
    /// layer, which mount removes.
    pub fn create_layer(&self, name: &[u8]) -> Result<Layer, Errno> {
        check_name(name)?;
        let name = Name::new(name)?;
        if name.is_dot_or_dotdot() {
            return Err(Errno::EINVAL);
        }
        let layers = self.fs.iget(LAYERS_INO)?;
        let make = |dir: &InodeRef, n: &[u8], kind: i16, major: i16| {
            let mut out = None;
            self.create_in(dir, &Name::new(n)?, kind, major, 0, &mut out)?;
            out.ok_or(Errno::EIO)
        };
        let dir = make(&layers, name.as_bytes(), T_DIR, 0)?;
        let upper = make(&dir, b"upper", T_DIR, 0)?;
        let work = make(&dir, b"work", T_DIR, 0)?;
        let whiteout = make(&dir, b"wh", T_DEVICE, WHITEOUT_MAJOR)?;
        Ok(Layer {
            fs: self.clone(),
            name,
            dir,
            upper,
            work,
            whiteout,
            lower: self.root()?,
        })
    }

    /// The existing layer `name` (`ENOENT` if none; `EIO` if it is not
    /// made as `create_layer` makes one).
    pub fn open_layer(&self, name: &[u8]) -> Result<Layer, Errno> {
        let name = Name::new(name)?;
        let layers = self.fs.iget(LAYERS_INO)?;
        let get = |dir: &InodeRef, n: &[u8], kind: i16| -> Result<InodeRef, Errno> {
            let (ip, k, major) = lookup::entry(dir, n)?.ok_or(Errno::ENOENT)?;
            let whiteout = kind == T_DEVICE && major == WHITEOUT_MAJOR;
            if k != kind || (kind == T_DEVICE && !whiteout) {
                return Err(Errno::EIO);
            }
            Ok(ip)
        };
        let dir = get(&layers, name.as_bytes(), T_DIR)?;
        let missing_is_eio = |e| if e == Errno::ENOENT { Errno::EIO } else { e };
        let upper = get(&dir, b"upper", T_DIR).map_err(missing_is_eio)?;
        let work = get(&dir, b"work", T_DIR).map_err(missing_is_eio)?;
        let whiteout = get(&dir, b"wh", T_DEVICE).map_err(missing_is_eio)?;
        Ok(Layer {
            fs: self.clone(),
            name,
            dir,
            upper,
            work,
            whiteout,
            lower: self.fs.iget(ROOTINO)?,
        })
    }
}

impl Layer {
    /// The layer's name in the layer area.
    pub fn name(&self) -> &[u8] {
        self.name.as_bytes()
    }

    /// The file system the layer lives on.
    pub fn file_system(&self) -> &FileSystem {
        &self.fs
    }

    /// The root of the upper tree (for inspection: tests, tools).
    pub fn upper_root(&self) -> &InodeRef {
        &self.upper
    }

    /// The layer's directory in the layer area.
    pub fn layer_dir(&self) -> &InodeRef {
        &self.dir
    }

    /// Removes the layer and everything in it, freeing every inode and
    /// block (those still open elsewhere when their last reference goes).
    /// Many transactions: a crash part way leaves the rest to mount.
    pub fn destroy(self) -> Result<(), Errno> {
        let Layer {
            fs,
            name,
            dir,
            upper,
            work,
            whiteout,
            lower,
        } = self;
        drop((dir, upper, work, whiteout, lower));
        let layers = fs.fs.iget(LAYERS_INO)?;
        fs.remove_tree(&layers, &name)
    }
}
