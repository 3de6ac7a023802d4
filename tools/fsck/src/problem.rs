//! What fsck can find wrong, and the report it returns.
//!
//! Problems are typed so tests (and the kernel's host tests) can assert on
//! the class of damage; `Display` gives the one-line text the binary prints.

use berth_abi::fs::{BSIZE, LOGSIZE, MAXFILE};
use std::fmt;

/// Which part of an inode's block tree an address sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRole {
    /// Data block with this file block number.
    Data(u32),
    /// The single-indirect table.
    Indirect,
    /// The doubly-indirect table.
    DoubleIndirect,
    /// The k-th table below the doubly-indirect one.
    Table(u32),
}

impl fmt::Display for BlockRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockRole::Data(n) => write!(f, "file block {n}"),
            BlockRole::Indirect => write!(f, "indirect block"),
            BlockRole::DoubleIndirect => write!(f, "doubly-indirect block"),
            BlockRole::Table(k) => write!(f, "indirect table {k} of the doubly-indirect block"),
        }
    }
}

/// A directory, named for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirRef {
    pub inum: u32,
    /// Path from the root by the first route fsck found.
    pub path: String,
}

impl fmt::Display for DirRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "directory {} (inode {})", self.path, self.inum)
    }
}

/// One thing wrong (or, among warnings, merely notable) in an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    // ---- image and superblock: fatal, nothing further is checked ----
    /// Too short to hold a boot block and a superblock.
    TooSmall {
        len: u64,
    },
    BadMagic {
        magic: u32,
    },
    /// Shorter than the superblock's size.
    Truncated {
        len: u64,
        size: u32,
    },
    /// A geometry field is inconsistent; the text says which.
    BadSuperblock {
        detail: String,
    },
    /// Warning: bytes past the file system's last block.
    TrailingBytes {
        len: u64,
        size: u32,
    },

    // ---- log ----
    LogTooLong {
        n: u32,
    },
    /// A log entry targets a block no transaction may write (outside inodes, bitmap and data).
    LogTarget {
        index: u32,
        block: u32,
        first: u32,
        end: u32,
    },

    // ---- inodes ----
    /// Inode 0 is never allocated (a directory entry with inum 0 is a free slot).
    InodeZeroInUse {
        kind: i16,
    },
    BadType {
        inum: u32,
        kind: i16,
    },
    TooBig {
        inum: u32,
        size: u32,
    },
    /// A directory whose size is not a whole number of entries.
    DirSize {
        inum: u32,
        size: u32,
    },
    /// Block addresses outside the data area (`count` of them; the first is shown).
    BadAddress {
        inum: u32,
        role: BlockRole,
        block: u32,
        count: u32,
        data_start: u32,
        end: u32,
    },
    /// A block claimed by two inodes, or twice by one (`first == second`).
    DuplicateBlock {
        block: u32,
        first: u32,
        second: u32,
        role: BlockRole,
    },
    /// Blocks mapped past the end the size implies (`count`; the first is shown).
    BeyondSize {
        inum: u32,
        size: u32,
        role: BlockRole,
        block: u32,
        count: u32,
    },

    // ---- bitmap ----
    /// Blocks in use (as metadata or by an inode) but free in the bitmap.
    NotMarked {
        first: u32,
        last: u32,
        metadata: bool,
    },
    /// Data blocks marked in use that nothing uses.
    Leaked {
        first: u32,
        last: u32,
    },
    /// Warning: bitmap bits set for blocks past the end of the image.
    MarkedPastEnd {
        count: u32,
    },

    // ---- directories and links ----
    RootNotDir {
        kind: i16,
    },
    /// The layer area (inode `LAYERS_INO`) is missing or not a directory.
    LayersNotDir {
        kind: i16,
    },
    /// An entry names the layer area, which no path may reach.
    LayersLinked {
        dir: DirRef,
        name: String,
    },
    /// A whiteout marker (a device with the whiteout major) named outside the layer area.
    StrayWhiteout {
        path: String,
    },
    /// A directory whose `major` holds flags it may not have: any outside
    /// the layer area, anything but the opaque bit inside it.
    BadDirFlags {
        dir: DirRef,
        major: i16,
    },
    /// An entry whose name is empty, not NUL-padded, or holds a `/`.
    BadName {
        dir: DirRef,
        slot: u32,
        reason: &'static str,
    },
    EntryOutOfRange {
        dir: DirRef,
        name: String,
        inum: u32,
    },
    /// An entry naming a free inode.
    Dangling {
        dir: DirRef,
        name: String,
        inum: u32,
    },
    /// Slot 0 is not a `.` entry.
    MissingDot {
        dir: DirRef,
    },
    BadDot {
        dir: DirRef,
        found: u32,
    },
    /// Slot 1 is not a `..` entry.
    MissingDotDot {
        dir: DirRef,
    },
    BadDotDot {
        dir: DirRef,
        found: u32,
        expected: u32,
    },
    /// A `.` or `..` entry beyond the first two slots.
    StrayDot {
        dir: DirRef,
        slot: u32,
    },
    DuplicateName {
        dir: DirRef,
        name: String,
    },
    /// A directory named by two entries: a hard link to a directory, or a loop.
    DirReachableTwice {
        inum: u32,
        first: String,
        second: String,
    },
    /// Directories together span more bytes than the image (shared blocks or
    /// holes); the walk stops here.
    DirectoriesTooLarge {
        dir: DirRef,
    },
    BadLinkCount {
        inum: u32,
        path: String,
        nlink: i16,
        expected: u32,
    },
    /// Warning: allocated, `nlink` 0, named by no directory.
    Orphan {
        inum: u32,
        kind: i16,
    },
    /// Allocated, `nlink` > 0, but named by no reachable directory.
    Unreachable {
        inum: u32,
        kind: i16,
        nlink: i16,
    },
}

fn blocks(first: u32, last: u32) -> String {
    if first == last {
        format!("block {first}")
    } else {
        format!("blocks {first}-{last}")
    }
}

fn kind_name(kind: i16) -> &'static str {
    match kind {
        berth_abi::fs::T_DIR => "directory",
        berth_abi::fs::T_FILE => "file",
        berth_abi::fs::T_DEVICE => "device",
        _ => "inode",
    }
}

fn more(count: u32) -> String {
    if count > 1 {
        format!(" (and {} more)", count - 1)
    } else {
        String::new()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Problem::*;
        match self {
            TooSmall { len } => write!(f, "image is {len} bytes, too small to hold a superblock"),
            BadMagic { magic } => write!(f, "bad magic {magic:#010x} in the superblock (expected {:#010x})", berth_abi::fs::FSMAGIC),
            Truncated { len, size } => {
                write!(f, "image is {len} bytes, superblock says {size} blocks ({} bytes)", *size as u64 * BSIZE as u64)
            }
            BadSuperblock { detail } => write!(f, "bad superblock: {detail}"),
            TrailingBytes { len, size } => write!(
                f,
                "image is {len} bytes, {} more than the {size} blocks the superblock describes",
                len.saturating_sub(*size as u64 * BSIZE as u64)
            ),
            LogTooLong { n } => write!(f, "log header says {n} blocks, more than the log holds ({LOGSIZE})"),
            LogTarget { index, block, first, end } => write!(
                f,
                "log entry {index} targets block {block}, outside the inode, bitmap and data blocks ({first}-{})",
                end.saturating_sub(1)
            ),
            InodeZeroInUse { kind } => write!(f, "inode 0 is allocated (type {kind}) but inode 0 is never used"),
            BadType { inum, kind } => write!(f, "inode {inum} has unknown type {kind}"),
            TooBig { inum, size } => {
                write!(f, "inode {inum} has size {size}, more than the largest file ({} bytes)", MAXFILE * BSIZE)
            }
            DirSize { inum, size } => write!(f, "directory inode {inum} has size {size}, not a multiple of 16"),
            BadAddress { inum, role, block, count, data_start, end } => write!(
                f,
                "inode {inum}: {role} is block {block}, outside the data area ({data_start}-{}){}",
                end.saturating_sub(1),
                more(*count)
            ),
            DuplicateBlock { block, first, second, role } if first == second => {
                write!(f, "block {block} is used twice by inode {first} (again as its {role})")
            }
            DuplicateBlock { block, first, second, role } => {
                write!(f, "block {block} is used twice: by inode {first} and by inode {second} (as its {role})")
            }
            BeyondSize { inum, size, role, block, count } => write!(
                f,
                "inode {inum}: {role} (block {block}) lies beyond its size of {size} bytes{}",
                more(*count)
            ),
            NotMarked { first, last, metadata: true } => {
                write!(f, "metadata {} free in the bitmap", blocks(*first, *last))
            }
            NotMarked { first, last, metadata: false } => {
                write!(f, "{} in use by inodes but free in the bitmap", blocks(*first, *last))
            }
            Leaked { first, last } => {
                write!(f, "leaked {}: marked in use in the bitmap, used by no inode", blocks(*first, *last))
            }
            MarkedPastEnd { count } => write!(f, "bitmap marks {count} blocks past the end of the image"),
            RootNotDir { kind } => write!(f, "root inode {} is not a directory (type {kind})", berth_abi::fs::ROOTINO),
            LayersNotDir { kind } => {
                write!(f, "layer area inode {} is not a directory (type {kind})", berth_abi::fs::LAYERS_INO)
            }
            LayersLinked { dir, name } => write!(
                f,
                "{dir}: entry '{name}' names the layer area (inode {}), which no path may reach",
                berth_abi::fs::LAYERS_INO
            ),
            StrayWhiteout { path } => write!(f, "{path} is a whiteout marker outside the layer area"),
            BadDirFlags { dir, major } => write!(
                f,
                "{dir}: flags {major:#x} in its major field (only the layer area's directories may be opaque, {:#x})",
                berth_abi::fs::DIR_OPAQUE
            ),
            BadName { dir, slot, reason } => write!(f, "{dir}: entry {slot} has a bad name: {reason}"),
            EntryOutOfRange { dir, name, inum } => {
                write!(f, "{dir}: entry '{name}' names inode {inum}, past the last inode")
            }
            Dangling { dir, name, inum } => write!(f, "{dir}: entry '{name}' names free inode {inum}"),
            MissingDot { dir } => write!(f, "{dir}: first entry is not '.'"),
            BadDot { dir, found } => write!(f, "{dir}: '.' names inode {found}, not itself"),
            MissingDotDot { dir } => write!(f, "{dir}: second entry is not '..'"),
            BadDotDot { dir, found, expected } => {
                write!(f, "{dir}: '..' names inode {found}, but its parent is inode {expected}")
            }
            StrayDot { dir, slot } => write!(f, "{dir}: entry {slot} is another '.' or '..'"),
            DuplicateName { dir, name } => write!(f, "{dir}: name '{name}' appears twice"),
            DirReachableTwice { inum, first, second } => write!(
                f,
                "directory inode {inum} is reachable twice, as {first} and as {second} (hard link to a directory, or a loop)"
            ),
            DirectoriesTooLarge { dir } => write!(
                f,
                "{dir}: directories span more bytes than the image (shared blocks or holes); directory walk stopped"
            ),
            BadLinkCount { inum, path, nlink, expected } => {
                write!(f, "inode {inum} ({path}) has nlink {nlink}, expected {expected}")
            }
            Orphan { inum, kind } => {
                write!(f, "orphan inode {inum} ({}, nlink 0, no name), the kernel frees it at mount", kind_name(*kind))
            }
            Unreachable { inum, kind, nlink } => write!(
                f,
                "inode {inum} ({}, nlink {nlink}) is allocated but no directory names it",
                kind_name(*kind)
            ),
        }
    }
}

/// The outcome of [`check_image`](crate::check_image).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Damage: the image is not clean if there is any.
    pub errors: Vec<Problem>,
    /// Worth saying but consistent (orphans the kernel frees at mount, trailing bytes).
    pub warnings: Vec<Problem>,
    /// `Some(n)`: the log held a committed transaction of `n` blocks, and the
    /// checks ran on the image as it will be after the kernel replays it.
    pub log_replayed: Option<u32>,
    /// Allocated inodes (the root included).
    pub inodes_in_use: u32,
    /// Data-area blocks used by inodes (data and indirect tables).
    pub data_blocks_in_use: u32,
}

impl Report {
    /// True when no errors were found (warnings allowed).
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}
