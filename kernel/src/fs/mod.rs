//! The file system: xv6's design and on-disk format (`berth_abi::fs`) on
//! any [`BlockDevice`], usable from several CPUs at once, unit-tested on
//! the host on a [`RamDisk`].
//!
//! Layers, bottom up (one file each):
//! - `device.rs`: the block-device trait and the RAM disk (with crash injection);
//! - `bio.rs`: buffer cache (LRU, one sleep lock per buffer, pins for the log);
//! - `log.rs`: write-ahead log with group commit; recovery at mount;
//! - `balloc.rs`: the free-block bitmap;
//! - `inode.rs`: inode table, `InodeRef` (refcounted) / `InodeGuard` (locked),
//!   block map with indirect and doubly-indirect blocks, read, write, truncate;
//! - `dir.rs`: directory entries; `path.rs`: path resolution;
//! - `ops.rs`: the operations the system calls use, each running its own
//!   transaction(s) and returning `Result<_, Errno>`;
//! - `format.rs`: writes an empty file system (tests, RAM disks);
//! - `overlay/`: containers' copy-on-write views (overlayfs semantics),
//!   their upper trees kept in the layer area (inode 2, no path reaches it).
//!
//! Lock order (outermost first), and what may sleep:
//! 1. a log operation (`begin_op`, may sleep waiting for the log); a thread
//!    has at most one open, and opens it before locking any inode;
//! 2. inode sleep locks, a directory before an entry in it; never an
//!    ancestor while holding a descendant (`..` is unlocked-then-locked);
//! 3. one buffer sleep lock at a time (I/O happens under it);
//! 4. spinlocks (buffer-cache and inode-table bookkeeping, log state, the
//!    RAM disk) innermost, never held across a sleep or I/O.
//!
//! Dropping an [`InodeRef`] may free the inode and so run transactions:
//! drop references only while holding no inode lock and no transaction
//! (`inode.rs` explains; host tests check it on every drop).
//!
//! Link counts (shared with mkfs and fsck): a file's `nlink` is the number
//! of directory entries naming it other than `.` and `..`; a directory's is
//! 1 (its entry in its parent; the root's is implicit) plus its
//! subdirectories (their `..`). `.` never counts. Directories cannot be
//! hard-linked.

mod balloc;
pub mod bio;
pub mod device;
pub mod dir;
pub mod format;
pub mod inode;
pub mod io;
pub mod log;
pub mod ops;
pub mod overlay;
pub mod path;

#[cfg(test)]
mod tests;

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use berth_abi::errno::Errno;
use berth_abi::fs::{
    SuperBlock, BPB, DINODE_SIZE, FSMAGIC, IPB, LAYERS_INO, LOGSIZE, ROOTINO, SUPERBLOCK, T_DIR,
};

use bio::BufCache;
use inode::InodeCache;
use log::{Log, Transaction};

pub use berth_abi::fs::MAXOPBLOCKS;
pub use device::{BlockDevice, RamDisk};
pub use format::format;
pub use inode::{InodeGuard, InodeRef};
pub use path::{At, Name};

/// Device number `stat` reports for this file system (xv6 `ROOTDEV`).
pub const ROOTDEV: i32 = 1;
/// Fewest buffers `mount` accepts: the log may pin `LOGSIZE` of them and
/// every thread needs one more (see `bio.rs`).
pub const MIN_NBUF: usize = LOGSIZE + 4;
/// Size of the inode table when `mount` is not told otherwise.
pub const DEFAULT_NINODE: usize = 512;

/// One mounted file system's shared state.
pub(crate) struct Fs {
    sb: SuperBlock,
    cache: BufCache,
    log: Log,
    icache: InodeCache,
    /// Every data block below this was in use when last looked at (balloc.rs).
    alloc_hint: core::sync::atomic::AtomicU32,
    /// Every inode numbered below this was in use when last looked at (inode.rs).
    inode_hint: core::sync::atomic::AtomicU32,
}

impl Fs {
    fn begin_op(&self) -> Result<Transaction<'_>, Errno> {
        self.log.begin_op(&self.cache)
    }
}

/// A mounted file system; cloning gives another handle to the same one.
#[derive(Clone)]
pub struct FileSystem {
    fs: Arc<Fs>,
    info: MountInfo,
}

/// What mounting had to repair.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MountInfo {
    /// Blocks installed from a committed log.
    pub replayed_blocks: usize,
    /// Allocated inodes with no links (open and unlinked at a crash) freed.
    pub orphans_freed: usize,
    /// Container layers (left by the last boot) removed from the layer area.
    pub layers_removed: usize,
}

/// Why a device could not be mounted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountError {
    /// Fewer buffers than the log needs.
    TooFewBuffers { nbuf: usize, min: usize },
    /// An inode table too small to hold the root and one more inode.
    TooFewInodes { ninode: usize },
    /// The device failed.
    Io { blockno: u32, errno: Errno },
    /// Block 1 is not a berth superblock.
    BadMagic(u32),
    /// The superblock describes more blocks than the device has.
    TooBig { size: u32, disk: u32 },
    /// Regions out of order, overlapping or of impossible sizes.
    BadLayout(String),
    /// The log header is corrupt.
    CorruptLog(String),
    /// The root inode is not a directory.
    BadRoot(String),
    /// The layer area (inode `LAYERS_INO`) is missing or not a directory.
    BadLayers(String),
}

impl fmt::Display for MountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MountError::TooFewBuffers { nbuf, min } => {
                write!(
                    f,
                    "{nbuf} buffers are too few: the log needs at least {min}"
                )
            }
            MountError::TooFewInodes { ninode } => {
                write!(f, "an inode table of {ninode} entries is too small")
            }
            MountError::Io { blockno, errno } => {
                write!(f, "i/o error on block {blockno}: {}", errno.description())
            }
            MountError::BadMagic(m) => write!(f, "bad magic {m:#x} (not a berth file system)"),
            MountError::TooBig { size, disk } => {
                write!(f, "superblock says {size} blocks but the disk has {disk}")
            }
            MountError::BadLayout(why) => write!(f, "bad layout: {why}"),
            MountError::CorruptLog(why) => write!(f, "corrupt log: {why}"),
            MountError::BadRoot(why) => write!(f, "bad root directory: {why}"),
            MountError::BadLayers(why) => write!(f, "bad layer area: {why}"),
        }
    }
}

/// Checks that the regions of `sb` are in order, do not overlap and fit the disk.
fn validate(sb: &SuperBlock, disk: u32) -> Result<(), MountError> {
    if sb.magic != FSMAGIC {
        return Err(MountError::BadMagic(sb.magic));
    }
    if sb.size > disk {
        return Err(MountError::TooBig {
            size: sb.size,
            disk,
        });
    }
    let bad = |why: String| Err(MountError::BadLayout(why));
    if sb.ninodes < 2 || sb.ninodes > u16::MAX as u32 + 1 {
        return bad(alloc::format!(
            "{} inodes (directory entries hold 2..=65536)",
            sb.ninodes
        ));
    }
    if (sb.nlog as usize) < MAXOPBLOCKS + 1 {
        return bad(alloc::format!(
            "a log of {} blocks cannot hold one operation ({} blocks and the header)",
            sb.nlog,
            MAXOPBLOCKS
        ));
    }
    let inode_blocks = sb.ninodes.div_ceil(IPB as u32) as u64;
    let bitmap_blocks = sb.size.div_ceil(BPB as u32) as u64;
    let (logstart, nlog, inodestart, bmapstart) = (
        sb.logstart as u64,
        sb.nlog as u64,
        sb.inodestart as u64,
        sb.bmapstart as u64,
    );
    if logstart <= SUPERBLOCK as u64 {
        return bad(alloc::format!(
            "log starts at block {logstart}, over the superblock"
        ));
    }
    if logstart + nlog > inodestart {
        return bad(alloc::format!(
            "log (blocks {logstart}..{}) runs into the inodes at {inodestart}",
            logstart + nlog
        ));
    }
    if inodestart + inode_blocks > bmapstart {
        return bad(alloc::format!(
            "inodes (blocks {inodestart}..{}) run into the bitmap at {bmapstart}",
            inodestart + inode_blocks
        ));
    }
    // Computed wide: a corrupt superblock must not overflow `data_start()`.
    let data_start = bmapstart + (sb.size / BPB as u32) as u64 + 1;
    if bmapstart + bitmap_blocks > data_start || data_start >= sb.size as u64 {
        return bad(alloc::format!(
            "bitmap at {bmapstart} ({bitmap_blocks} blocks) leaves no data blocks before {}",
            sb.size
        ));
    }
    if sb.nblocks as u64 != sb.size as u64 - data_start {
        return bad(alloc::format!(
            "{} data blocks recorded but {} lie between block {data_start} and the end",
            sb.nblocks,
            sb.size as u64 - data_start
        ));
    }
    Ok(())
}

impl FileSystem {
    /// Mounts the file system on `dev` with a cache of `nbuf` buffers and
    /// an inode table of [`DEFAULT_NINODE`] entries.
    pub fn mount(dev: Arc<dyn BlockDevice>, nbuf: usize) -> Result<FileSystem, MountError> {
        FileSystem::mount_with(dev, nbuf, DEFAULT_NINODE)
    }

    /// Mounts: validates the superblock, replays a committed log, checks the
    /// root and the layer area, frees orphan inodes (allocated with no
    /// links), then removes every container layer (`clean_layers`).
    pub fn mount_with(
        dev: Arc<dyn BlockDevice>,
        nbuf: usize,
        ninode: usize,
    ) -> Result<FileSystem, MountError> {
        let mut fs = FileSystem::mount_keeping_layers(dev, nbuf, ninode)?;
        fs.info.layers_removed = fs.clean_layers().map_err(|e| {
            MountError::BadLayers(alloc::format!("removing layers: {}", e.description()))
        })?;
        Ok(fs)
    }

    /// [`FileSystem::mount_with`] without removing the container layers:
    /// for inspecting what a crash left (tests, tools).
    pub fn mount_keeping_layers(
        dev: Arc<dyn BlockDevice>,
        nbuf: usize,
        ninode: usize,
    ) -> Result<FileSystem, MountError> {
        if nbuf < MIN_NBUF {
            return Err(MountError::TooFewBuffers {
                nbuf,
                min: MIN_NBUF,
            });
        }
        if ninode < 2 {
            return Err(MountError::TooFewInodes { ninode });
        }
        let io = |blockno: u32| move |errno| MountError::Io { blockno, errno };
        let mut block = [0u8; berth_abi::fs::BSIZE];
        dev.read_block(SUPERBLOCK, &mut block)
            .map_err(io(SUPERBLOCK))?;
        let sb = SuperBlock::from_bytes(&block).ok_or(MountError::BadMagic(0))?;
        validate(&sb, dev.block_count())?;
        let replayed_blocks = log::recover(&*dev, &sb)?;

        let fs = Arc::new(Fs {
            sb,
            cache: BufCache::new(dev, nbuf),
            log: Log::new(&sb),
            icache: InodeCache::new(ninode),
            alloc_hint: core::sync::atomic::AtomicU32::new(0),
            inode_hint: core::sync::atomic::AtomicU32::new(0),
        });
        top_dir(&fs, ROOTINO).map_err(MountError::BadRoot)?;
        top_dir(&fs, LAYERS_INO).map_err(MountError::BadLayers)?;
        let orphans_freed = free_orphans(&fs)?;
        Ok(FileSystem {
            fs,
            info: MountInfo {
                replayed_blocks,
                orphans_freed,
                layers_removed: 0,
            },
        })
    }

    /// What mounting repaired.
    pub fn mount_info(&self) -> MountInfo {
        self.info
    }

    /// The superblock.
    pub fn superblock(&self) -> SuperBlock {
        self.fs.sb
    }

    /// A reference to the root directory.
    pub fn root(&self) -> Result<InodeRef, Errno> {
        self.fs.iget(ROOTINO)
    }

    /// Buffer-cache hits and misses since mount.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.fs.cache.stats()
    }

    /// Log groups committed since mount.
    /// In-memory inodes with a reference (open files, current directories,
    /// lookups in progress).
    pub fn inodes_referenced(&self) -> usize {
        self.fs.icache.referenced()
    }

    pub fn commits(&self) -> u64 {
        self.fs.log.commits()
    }
}

/// Checks that inode `inum` (the root or the layer area) is a linked directory.
fn top_dir(fs: &Arc<Fs>, inum: u32) -> Result<(), String> {
    if inum >= fs.sb.ninodes {
        return Err(alloc::format!(
            "inode {inum} is past the last inode ({})",
            fs.sb.ninodes - 1
        ));
    }
    let ip = fs.iget(inum).map_err(|e| alloc::format!("{e:?}"))?;
    let g = ip
        .lock()
        .map_err(|e| alloc::format!("inode {inum} unreadable: {}", e.description()))?;
    if g.kind() != T_DIR {
        return Err(alloc::format!("inode {inum} has type {}", g.kind()));
    }
    if g.nlink() < 1 {
        return Err(alloc::format!("inode {inum} has {} links", g.nlink()));
    }
    Ok(())
}

/// Frees every allocated inode with no links (except the root): files that
/// were open and unlinked when the system stopped, or whose freeing was cut short.
fn free_orphans(fs: &Arc<Fs>) -> Result<usize, MountError> {
    let sb = &fs.sb;
    let mut orphans = Vec::new();
    for blk in 0..sb.ninodes.div_ceil(IPB as u32) {
        let blockno = sb.inodestart + blk;
        let buf = fs
            .cache
            .bread(blockno)
            .map_err(|errno| MountError::Io { blockno, errno })?;
        for (slot, bytes) in buf.as_chunks::<DINODE_SIZE>().0.iter().enumerate() {
            let inum = blk * IPB as u32 + slot as u32;
            let (kind, nlink) = berth_abi::fs::Dinode::kind_and_nlink(bytes);
            if inum > LAYERS_INO && inum < sb.ninodes && (1..=3).contains(&kind) && nlink == 0 {
                orphans.push(inum);
            }
        }
    }
    for &inum in &orphans {
        let blockno = berth_abi::fs::inode_block(inum, sb);
        let ip = fs
            .iget(inum)
            .map_err(|errno| MountError::Io { blockno, errno })?;
        // Loading it records "no links", so dropping the only reference frees it.
        drop(
            ip.lock()
                .map_err(|errno| MountError::Io { blockno, errno })?,
        );
        drop(ip);
    }
    Ok(orphans.len())
}

/// Per-thread checks of the lock-order rules, in host tests only: no
/// nested operations, no operation begun while holding an inode lock, no
/// inode reference dropped while holding either.
#[cfg(test)]
mod held {
    use std::cell::Cell;

    std::thread_local! {
        static TX: Cell<usize> = const { Cell::new(0) };
        static INODES: Cell<usize> = const { Cell::new(0) };
    }

    pub fn begin_tx() {
        assert_eq!(TX.get(), 0, "fs: operation begun inside another operation");
        assert_eq!(
            INODES.get(),
            0,
            "fs: operation begun while holding an inode lock"
        );
        TX.set(1);
    }
    pub fn end_tx() {
        TX.set(0);
    }
    pub fn lock_inode() {
        INODES.set(INODES.get() + 1);
    }
    pub fn unlock_inode() {
        INODES.set(INODES.get() - 1);
    }
    pub fn put_inode() {
        assert_eq!(
            TX.get(),
            0,
            "fs: inode reference dropped inside an operation"
        );
        assert_eq!(
            INODES.get(),
            0,
            "fs: inode reference dropped while holding an inode lock"
        );
    }
}

#[cfg(not(test))]
mod held {
    #[inline]
    pub fn begin_tx() {}
    #[inline]
    pub fn end_tx() {}
    #[inline]
    pub fn lock_inode() {}
    #[inline]
    pub fn unlock_inode() {}
    #[inline]
    pub fn put_inode() {}
}
