//! A read-only view of a checked image: blocks, inodes, bitmap bits and
//! file contents.
//!
//! A view is only made from a [`Geometry`] that passed the superblock
//! checks, so block numbers below `size` and inode numbers below `ninodes`
//! are inside the bytes. Addresses read from inodes and indirect tables are
//! not trusted: [`Fs::slot`] sorts them into holes, valid data blocks, and
//! bad ones.

use crate::superblock::Geometry;
use berth_abi::fs::{
    Dinode, Dirent, BPB, BSIZE, DINODE_SIZE, DIRENT_SIZE, IPB, MAXFILE, NDIRECT, NINDIRECT,
};
use std::borrow::Cow;

/// Where one file block lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Address 0: never written, reads as zeros.
    Hole,
    /// A block in the data area.
    Block(u32),
    /// An address outside the data area (or past `MAXFILE`).
    Bad,
}

/// The image, possibly with the log replayed into a private copy.
pub(crate) struct Fs<'a> {
    bytes: Cow<'a, [u8]>,
    pub g: Geometry,
}

impl<'a> Fs<'a> {
    pub fn new(bytes: Cow<'a, [u8]>, g: Geometry) -> Fs<'a> {
        Fs { bytes, g }
    }

    /// Block `b`, which must be below `g.size`.
    pub fn block(&self, b: u32) -> &[u8] {
        let off = b as usize * BSIZE;
        &self.bytes[off..off + BSIZE]
    }

    /// Word `i` of block `b` (an indirect table entry).
    pub fn word(&self, b: u32, i: usize) -> u32 {
        let blk = self.block(b);
        u32::from_le_bytes([blk[4 * i], blk[4 * i + 1], blk[4 * i + 2], blk[4 * i + 3]])
    }

    /// Inode `inum`, which must be below `g.ninodes`.
    pub fn inode(&self, inum: u32) -> Dinode {
        let off = (inum as usize % IPB) * DINODE_SIZE;
        Dinode::from_bytes(
            &self.block(self.g.inodestart + inum / IPB as u32)[off..off + DINODE_SIZE],
        )
    }

    /// Whether the bitmap marks block `b` in use (bit `b % 8` of byte `b / 8`, as xv6).
    pub fn marked(&self, b: u32) -> bool {
        let bit = b as usize % BPB;
        self.block(self.g.bmapstart + b / BPB as u32)[bit / 8] & (1 << (bit % 8)) != 0
    }

    pub fn in_data(&self, b: u32) -> bool {
        b >= self.g.data_start && b < self.g.size
    }

    /// Classifies a block address found in an inode or a table.
    pub fn slot(&self, addr: u32) -> Slot {
        match addr {
            0 => Slot::Hole,
            a if self.in_data(a) => Slot::Block(a),
            _ => Slot::Bad,
        }
    }

    /// Entry `i` of the table at `table`, following a valid table only.
    fn entry(&self, table: u32, i: usize) -> Slot {
        match self.slot(table) {
            Slot::Block(t) => self.slot(self.word(t, i)),
            other => other,
        }
    }

    /// Where file block `fbn` of `d` lives (xv6's `bmap`, without allocating).
    pub fn bmap(&self, d: &Dinode, fbn: usize) -> Slot {
        if fbn < NDIRECT {
            return self.slot(d.addrs[fbn]);
        }
        let fbn = fbn - NDIRECT;
        if fbn < NINDIRECT {
            return self.entry(d.addrs[NDIRECT], fbn);
        }
        let fbn = fbn - NINDIRECT;
        if fbn >= MAXFILE - NDIRECT - NINDIRECT {
            return Slot::Bad;
        }
        match self.entry(d.addrs[NDIRECT + 1], fbn / NINDIRECT) {
            Slot::Block(t) => self.slot(self.word(t, fbn % NINDIRECT)),
            other => other,
        }
    }

    /// The first `len` bytes of `d`'s contents. Holes read as zeros; a bad
    /// address makes the read fail when `strict`, and reads as zeros
    /// otherwise (the checker has reported it already).
    pub fn read(&self, d: &Dinode, len: usize, strict: bool) -> Option<Vec<u8>> {
        let mut out = vec![0u8; len];
        for (fbn, chunk) in out.chunks_mut(BSIZE).enumerate() {
            match self.bmap(d, fbn) {
                Slot::Block(b) => chunk.copy_from_slice(&self.block(b)[..chunk.len()]),
                Slot::Hole => {}
                Slot::Bad if strict => return None,
                Slot::Bad => {}
            }
        }
        Some(out)
    }
}

/// Splits directory contents into `(slot, entry)` pairs, free slots included.
pub(crate) fn dirents(content: &[u8]) -> impl Iterator<Item = (u32, Dirent)> + '_ {
    content
        .chunks_exact(DIRENT_SIZE)
        .enumerate()
        .map(|(i, c)| (i as u32, Dirent::from_bytes(c)))
}
