//! File-system views: what a process's paths resolve in.
//!
//! A [`View`] is a file system and a root directory; a process holds one
//! with its current directory ([`ProcFs`], Linux's `fs_struct`). Every path
//! system call, every open inode file and exec's program reader go through
//! a view, and name what they hold with a [`Node`]. Today there is one kind
//! of view, the host's: the mounted file system from a root directory,
//! where a node is a plain inode. A container's overlay adds a kind of node
//! (a path in its view and the inode to do I/O on) and the matching arms
//! here: path operations match on the view's root and the current
//! directory, I/O on the node (`View::inode`); nothing outside this module
//! looks inside a node.
//!
//! Dropping a node or a view may drop the last reference to an inode, which
//! may write to the disk: both are dropped outside every spinlock (take them
//! out of the lock, then drop).

use alloc::sync::Arc;
use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fcntl::{O_APPEND, O_CREATE, O_RDWR, O_TRUNC, O_WRONLY};
use berth_abi::fs::{T_DEVICE, T_DIR, T_FILE};
use berth_abi::stat::Stat;

use super::{File, FileKind};
use crate::container::files::FileCharge;
use crate::fs::io::{Sink, Source};
use crate::fs::overlay::{Layer, OvPath};
use crate::fs::{At, FileSystem, InodeGuard, InodeRef};
use crate::mm::account::MemAccount;
use crate::mm::pagebuf::PageBuf;
use crate::proc::elf::ReadAt;
use crate::sync::SleepLock;

/// A directory listing an open directory of a layered view serves reads
/// from: built at the first read and again at each read from offset 0 (as
/// overlayfs caches a merged directory per open file), so a reader of one
/// entry at a time costs one merge, not one per entry. It lives in frames
/// charged to the container (its size is the container's choice).
type Listing = Arc<OpenDir>;

/// An open directory of a layered view: which directory it is (its number
/// in the view when opened, as fstat shows it) and the merged listing its
/// reads serve. Its path may later name something else (the directory
/// removed, another made in its place); then the descriptor still means
/// the directory it opened, which has no entries any more (as on the
/// host, where it holds the inode).
pub struct OpenDir {
    id: u32,
    cache: SleepLock<Option<PageBuf>>,
}

/// A file or directory as a view names it: a current directory, the inode
/// of an open file, a view's root.
#[derive(Clone)]
pub enum Node {
    /// An inode of the host file system, seen as it is.
    Host(InodeRef),
    /// A name in a container's view: its path there (what lookups start
    /// from), the inode its I/O goes to (the upper copy once written), and
    /// for an open directory the merged listing its reads serve.
    Layered {
        path: OvPath,
        ip: InodeRef,
        listing: Option<Listing>,
    },
}

/// A container's view: the host tree below, a layer above, made at the
/// first change (a container that only reads costs no disk work).
struct Layered {
    /// Its name in the layer area.
    name: Vec<u8>,
    /// Where its listings are charged (its container's account).
    account: Arc<MemAccount>,
    layer: SleepLock<Option<Arc<Layer>>>,
}

enum Kind {
    /// The host's: paths from `root`.
    Host {
        root: InodeRef,
    },
    Layered(Layered),
}

/// What a process's paths resolve in: a file system and the directory `/`
/// names (where `..` stops), seen as it is (the host) or through a
/// container's copy-on-write layer.
pub struct View {
    fs: &'static FileSystem,
    kind: Kind,
}

impl View {
    /// The host's view: the mounted file system from its root; `None`
    /// without one.
    pub fn host() -> Result<Option<View>, Errno> {
        let Some(fs) = super::mount::root_fs() else {
            return Ok(None);
        };
        Ok(Some(View {
            fs,
            kind: Kind::Host { root: fs.root()? },
        }))
    }

    /// A container's view whose layer, once made, is `name` in the layer
    /// area, its listings charged to `account`; `None` without a file system.
    pub fn layered(name: &[u8], account: Arc<MemAccount>) -> Option<View> {
        let fs = super::mount::root_fs()?;
        Some(View {
            fs,
            kind: Kind::Layered(Layered {
                name: Vec::from(name),
                account,
                layer: SleepLock::new("view layer", None),
            }),
        })
    }

    /// The node `/` names.
    fn root_node(&self) -> Result<Node, Errno> {
        Ok(match &self.kind {
            Kind::Host { root } => Node::Host(root.clone()),
            Kind::Layered(_) => Node::Layered {
                path: OvPath::root(),
                ip: self.fs.root()?,
                listing: None,
            },
        })
    }

    /// The inode reads and writes of `node` go to.
    fn inode(node: &Node) -> &InodeRef {
        match node {
            Node::Host(ip) | Node::Layered { ip, .. } => ip,
        }
    }

    /// The layer, if one was made.
    fn layer(l: &Layered) -> Option<Arc<Layer>> {
        l.layer.lock().clone()
    }

    /// The layer, made now if this is the view's first change.
    fn layer_for_change(&self, l: &Layered) -> Result<Arc<Layer>, Errno> {
        let mut g = l.layer.lock();
        if let Some(layer) = g.as_ref() {
            return Ok(layer.clone());
        }
        let layer = Arc::new(self.fs.create_layer(&l.name)?);
        *g = Some(layer.clone());
        Ok(layer)
    }

    /// The inode `path` names from `cwd` in a layered view, and its path
    /// there. Before any change the view is the host tree itself, resolved
    /// lexically as the layer resolves (`..` at `/` stays there).
    fn layered_lookup(
        &self,
        l: &Layered,
        cwd: &Node,
        path: &[u8],
    ) -> Result<(InodeRef, OvPath), Errno> {
        let cwd = layered_path(cwd)?;
        match Self::layer(l) {
            Some(layer) => {
                let p = layer.resolve(cwd, path)?;
                Ok((layer.namei(cwd, path)?, p))
            }
            None => {
                let p = self.host_resolve(cwd, path)?;
                Ok((self.host_walk(&p)?, p))
            }
        }
    }

    /// `path` from `cwd` in a layered view before its first change (the
    /// host tree), resolved as the layer resolves.
    fn host_resolve(&self, cwd: &OvPath, path: &[u8]) -> Result<OvPath, Errno> {
        OvPath::resolve_checked(cwd, path, |p| self.host_is_dir(p))
    }

    /// Whether a view path names a host directory (a name gone meanwhile
    /// passes: `..` still leaves a removed directory). A method of its own,
    /// not a closure locking the inode inline: built that way, the kernel
    /// ran every system call ~25x slower under TCG (getpid 20,000 cycles
    /// instead of 800), though this code never runs on those paths; the
    /// cause (code generation or TCG) is not understood yet.
    fn host_is_dir(&self, p: &OvPath) -> Result<bool, Errno> {
        match self.host_walk(p) {
            Ok(ip) => Ok(self.fs.stat(&ip)?.kind == T_DIR),
            Err(Errno::ENOENT) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// The host inode a resolved view path names, one component at a time
    /// (a view path may be longer than any one path argument).
    fn host_walk(&self, p: &OvPath) -> Result<InodeRef, Errno> {
        let mut ip = self.fs.root()?;
        for name in p.components() {
            let next = self.fs.namei(At::new(&ip, &ip), name.as_bytes())?;
            ip = next;
        }
        Ok(ip)
    }

    /// `open(path, flags)` from `cwd` (flags as `FileSystem::open_inode`
    /// takes them). A device inode opens its device-table entry (`ENODEV`
    /// for an unknown major); anything else a file of this view.
    pub fn open(
        self: &Arc<Self>,
        cwd: &Node,
        path: &[u8],
        flags: u32,
        charge: FileCharge,
    ) -> Result<Arc<File>, Errno> {
        let node = match (&self.kind, cwd) {
            (Kind::Host { root }, Node::Host(cwd)) => {
                Node::Host(self.fs.open_inode(At::new(root, cwd), path, flags)?)
            }
            (Kind::Layered(l), _) => {
                let changes = flags & (O_WRONLY | O_RDWR | O_CREATE | O_TRUNC) != 0;
                let (ip, path) = match Self::layer(l) {
                    None if !changes => {
                        let p = self.host_resolve(layered_path(cwd)?, path)?;
                        let ip = match p.split_last() {
                            Some((dir, name)) => {
                                let dir = self.host_walk(&dir)?;
                                self.fs
                                    .open_inode(At::new(&dir, &dir), name.as_bytes(), flags)?
                            }
                            None => {
                                let root = self.fs.root()?;
                                self.fs.open_inode(At::new(&root, &root), b"/", flags)?
                            }
                        };
                        (ip, p)
                    }
                    _ => self.layer_for_change_if(l, changes)?.open(
                        layered_path(cwd)?,
                        path,
                        flags,
                    )?,
                };
                let listing = if ip.lock()?.kind() == T_DIR {
                    Some(Arc::new(OpenDir {
                        id: self.dir_id(l, &path, &ip)?,
                        cache: SleepLock::new("merged listing", None),
                    }))
                } else {
                    None
                };
                Node::Layered { path, ip, listing }
            }
            (Kind::Host { .. }, Node::Layered { .. }) => return Err(Errno::EIO),
        };
        let readable = flags & O_WRONLY == 0;
        let writable = flags & (O_WRONLY | O_RDWR) != 0;
        let (kind, major, minor) = {
            let g = Self::inode(&node).lock()?;
            (g.kind(), g.major(), g.minor())
        };
        if kind == T_DEVICE {
            drop(node);
            return File::device(major, minor, readable, writable, charge);
        }
        Ok(Arc::new(File {
            kind: FileKind::Inode {
                view: self.clone(),
                node,
                offset: SleepLock::new("file offset", 0),
                append: flags & O_APPEND != 0,
            },
            readable,
            writable,
            charge,
        }))
    }

    /// The layer for an open: made for a change, else the one there is.
    fn layer_for_change_if(&self, l: &Layered, change: bool) -> Result<Arc<Layer>, Errno> {
        match (change, Self::layer(l)) {
            (false, Some(layer)) => Ok(layer),
            _ => self.layer_for_change(l),
        }
    }

    /// The directory `chdir(path)` from `cwd` moves to; `ENOTDIR` if `path`
    /// names something else.
    pub fn chdir(&self, cwd: &Node, path: &[u8]) -> Result<Node, Errno> {
        match (&self.kind, cwd) {
            (Kind::Host { root }, Node::Host(cwd)) => {
                Ok(Node::Host(self.fs.chdir_lookup(At::new(root, cwd), path)?))
            }
            (Kind::Layered(l), _) => {
                let (ip, path) = self.layered_lookup(l, cwd, path)?;
                if ip.lock()?.kind() != T_DIR {
                    return Err(Errno::ENOTDIR);
                }
                Ok(Node::Layered {
                    path,
                    ip,
                    listing: None,
                })
            }
            (Kind::Host { .. }, Node::Layered { .. }) => Err(Errno::EIO),
        }
    }

    /// Runs a change in a layered view (making its layer if need be).
    fn change(
        &self,
        l: &Layered,
        cwd: &Node,
        f: impl FnOnce(&Layer, &OvPath) -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let cwd = layered_path(cwd)?;
        f(&*self.layer_for_change(l)?, cwd)
    }

    pub fn mkdir(&self, cwd: &Node, path: &[u8]) -> Result<(), Errno> {
        match (&self.kind, cwd) {
            (Kind::Host { root }, Node::Host(cwd)) => self.fs.mkdir(At::new(root, cwd), path),
            (Kind::Layered(l), _) => self.change(l, cwd, |layer, cwd| layer.mkdir(cwd, path)),
            (Kind::Host { .. }, Node::Layered { .. }) => Err(Errno::EIO),
        }
    }

    pub fn mknod(&self, cwd: &Node, path: &[u8], major: i16, minor: i16) -> Result<(), Errno> {
        match (&self.kind, cwd) {
            (Kind::Host { root }, Node::Host(cwd)) => {
                self.fs.mknod(At::new(root, cwd), path, major, minor)
            }
            (Kind::Layered(l), _) => {
                self.change(l, cwd, |layer, cwd| layer.mknod(cwd, path, major, minor))
            }
            (Kind::Host { .. }, Node::Layered { .. }) => Err(Errno::EIO),
        }
    }

    pub fn unlink(&self, cwd: &Node, path: &[u8]) -> Result<(), Errno> {
        match (&self.kind, cwd) {
            (Kind::Host { root }, Node::Host(cwd)) => self.fs.unlink(At::new(root, cwd), path),
            (Kind::Layered(l), _) => self.change(l, cwd, |layer, cwd| layer.unlink(cwd, path)),
            (Kind::Host { .. }, Node::Layered { .. }) => Err(Errno::EIO),
        }
    }

    pub fn link(&self, cwd: &Node, old: &[u8], new: &[u8]) -> Result<(), Errno> {
        match (&self.kind, cwd) {
            (Kind::Host { root }, Node::Host(cwd)) => self.fs.link(At::new(root, cwd), old, new),
            (Kind::Layered(l), _) => self.change(l, cwd, |layer, cwd| layer.link(cwd, old, new)),
            (Kind::Host { .. }, Node::Layered { .. }) => Err(Errno::EIO),
        }
    }

    /// Runs `f` on the program `path` names from `cwd`, locked until `f`
    /// returns (as xv6's exec); `EACCES` unless it is a regular file.
    pub fn exec_reader<R>(
        &self,
        cwd: &Node,
        path: &[u8],
        f: impl FnOnce(&dyn ReadAt) -> Result<R, Errno>,
    ) -> Result<R, Errno> {
        let ip = match (&self.kind, cwd) {
            (Kind::Host { root }, Node::Host(cwd)) => self.fs.namei(At::new(root, cwd), path)?,
            (Kind::Layered(l), _) => self.layered_lookup(l, cwd, path)?.0,
            (Kind::Host { .. }, Node::Layered { .. }) => return Err(Errno::EIO),
        };
        let file = ip.lock()?;
        if file.stat().kind != T_FILE {
            return Err(Errno::EACCES);
        }
        f(&file)
    }

    /// Reads up to `dst.len()` bytes of `node` at `off`; short (or 0) at
    /// end of file. A directory of a layered view reads as its merged
    /// listing (xv6 dirents), so programs see the view with no flag.
    pub fn read<S: Sink + ?Sized>(
        &self,
        node: &Node,
        off: u64,
        dst: &mut S,
    ) -> Result<usize, Errno> {
        match (&self.kind, node) {
            (
                Kind::Layered(l),
                Node::Layered {
                    path,
                    listing: Some(listing),
                    ..
                },
            ) => {
                let mut cache = listing.cache.lock();
                if off == 0 || cache.is_none() {
                    // The old one goes first: its pages count against the new.
                    *cache = None;
                    let ip = Self::inode(node);
                    // Removed from the view (before the listing, or while
                    // it was made: then it may be another's): no entries.
                    let listed = if self.still_names(l, path, ip, listing.id) {
                        match self.merged_listing(l, path, ip) {
                            Ok(b) => Some(b),
                            Err(Errno::ENOENT | Errno::ENOTDIR) => None,
                            Err(e) => return Err(e),
                        }
                    } else {
                        None
                    };
                    *cache = Some(match listed {
                        Some(b) if self.still_names(l, path, ip, listing.id) => b,
                        _ => PageBuf::new(l.account.clone()),
                    });
                }
                cache
                    .as_ref()
                    .map_or(Ok(0), |b| b.read_at(off as usize, dst))
            }
            _ => self.fs.read_file_to(Self::inode(node), off, dst),
        }
    }

    /// The directory `path` of a layered view as xv6 dirents: merged by
    /// the layer, or (before any change) the host directory `ip` as it is.
    fn merged_listing(&self, l: &Layered, path: &OvPath, ip: &InodeRef) -> Result<PageBuf, Errno> {
        let mut out = PageBuf::new(l.account.clone());
        let Some(layer) = Self::layer(l) else {
            let mut chunk = [0u8; 1024];
            let mut off = 0u64;
            loop {
                let n = self.fs.read_file(ip, off, &mut chunk)?;
                if n == 0 {
                    return Ok(out);
                }
                out.extend(&chunk[..n])?;
                off += n as u64;
            }
        };
        for e in &layer.read_dir(path)? {
            out.extend(&e.to_bytes())?;
        }
        Ok(out)
    }

    /// Writes `data` to `node` at `off` (see `FileSystem::write_file`).
    pub fn write<S: Source + ?Sized>(
        &self,
        node: &Node,
        off: u64,
        data: &S,
    ) -> Result<usize, Errno> {
        self.fs.write_file_from(Self::inode(node), off, data)
    }

    /// Writes `data` at the end of `node`; the count and the offset past it.
    pub fn append<S: Source + ?Sized>(&self, node: &Node, data: &S) -> Result<(usize, u64), Errno> {
        self.fs.append_file_from(Self::inode(node), data)
    }

    /// `fstat` of `node`. In a layered view a directory merged over a host
    /// one reports the host one's number (`/` is inode 1 in every view).
    /// An open directory that its path no longer names keeps its number
    /// and has no links (as a removed directory on the host).
    pub fn stat(&self, node: &Node) -> Result<Stat, Errno> {
        let mut st = self.fs.stat(Self::inode(node))?;
        if let (Kind::Layered(l), Node::Layered { path, ip, listing }) = (&self.kind, node) {
            if st.kind == T_DIR {
                match listing {
                    Some(open) => {
                        if !self.still_names(l, path, ip, open.id) {
                            st.nlink = 0;
                        }
                        st.ino = open.id;
                    }
                    None => st.ino = self.dir_id(l, path, ip)?,
                }
            }
        }
        Ok(st)
    }

    /// A directory's number in a layered view: the layer's (a merged
    /// directory reports the host one's), or before any change the host
    /// inode's own.
    fn dir_id(&self, l: &Layered, path: &OvPath, ip: &InodeRef) -> Result<u32, Errno> {
        match Self::layer(l) {
            Some(layer) => layer.stat_ino(path),
            None => Ok(ip.inum()),
        }
    }

    /// Whether `path` still names the directory numbered `id` in the view.
    fn still_names(&self, l: &Layered, path: &OvPath, ip: &InodeRef, id: u32) -> bool {
        self.dir_id(l, path, ip).is_ok_and(|now| now == id)
            && (Self::layer(l).is_some() || self.host_walk(path).is_ok_and(|h| h.inum() == id))
    }

    /// The changes a layered view made to the host tree, one `A path`,
    /// `C path` or `D path` line each (`docker diff`); none for the host's.
    pub fn diff(&self) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        if let Kind::Layered(l) = &self.kind {
            if let Some(layer) = Self::layer(l) {
                for (what, path) in layer.diff()? {
                    out.push(what);
                    out.push(b' ');
                    // Names may hold any byte but `/` and NUL: a newline or
                    // a control byte is written `\xNN`, so no name can
                    // forge a line or drive the reader's terminal.
                    for &b in &path {
                        if b.is_ascii_graphic() || b == b' ' {
                            out.push(b);
                        } else {
                            out.extend_from_slice(alloc::format!("\\x{b:02x}").as_bytes());
                        }
                    }
                    out.push(b'\n');
                }
            }
        }
        Ok(out)
    }

    /// Discards a layered view's layer (its container is destroyed): every
    /// inode and block of it is freed. If something outside still holds
    /// the layer (an open file of the view carried out of the container),
    /// it stays, and the next mount removes it.
    pub fn discard_layer(&self) -> Result<(), Errno> {
        let Kind::Layered(l) = &self.kind else {
            return Ok(());
        };
        let Some(layer) = l.layer.lock().take() else {
            return Ok(());
        };
        match Arc::try_unwrap(layer) {
            Ok(layer) => layer.destroy(),
            Err(shared) => {
                drop(shared);
                Ok(())
            }
        }
    }
}

/// The path of a node of a layered view (`EIO` for a host node: a process
/// never holds one of those in a layered view).
fn layered_path(node: &Node) -> Result<&OvPath, Errno> {
    match node {
        Node::Layered { path, .. } => Ok(path),
        Node::Host(_) => Err(Errno::EIO),
    }
}

/// A process's place in the file system: its view and its current directory
/// (under the view's root). `fork` copies it.
#[derive(Clone)]
pub struct ProcFs {
    pub view: Arc<View>,
    pub cwd: Node,
}

impl ProcFs {
    /// At the root of `view`.
    pub fn at_root(view: Arc<View>) -> Result<ProcFs, Errno> {
        let cwd = view.root_node()?;
        Ok(ProcFs { view, cwd })
    }

    /// The host's view at its root (init's); `None` without a file system.
    pub fn host() -> Result<Option<ProcFs>, Errno> {
        View::host()?
            .map(|v| ProcFs::at_root(Arc::new(v)))
            .transpose()
    }
}

impl ReadAt for InodeGuard<'_> {
    fn size(&self) -> u64 {
        self.stat().size
    }

    fn read_at(&self, off: u64, dst: &mut [u8]) -> Result<usize, Errno> {
        self.read(off, dst)
    }
}
