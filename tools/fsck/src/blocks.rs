//! The inode pass: types, sizes, and who owns each data block.
//!
//! Every allocated inode's block tree is walked (reachable or not: an
//! orphan's blocks stay allocated until the kernel frees it), and each
//! address is checked to be in the data area, claimed by nobody else, and
//! within the size. A table (indirect block) is descended only the first
//! time it is claimed: a shared table is already an error, and not following
//! it again bounds the work to one pass over the data area even for a
//! maliciously corrupt image.

use crate::image::Fs;
use crate::problem::{BlockRole, Problem};
use berth_abi::fs::{Dinode, BSIZE, MAXFILE, NDIRECT, NINDIRECT, T_DEVICE, T_DIR, T_FILE, T_FREE};

/// `owner` value of a block no inode uses. Not 0: a corrupt image may have
/// an allocated inode 0, and its blocks must not look free.
pub(crate) const NO_OWNER: u32 = u32::MAX;

/// What the inode pass learned.
pub(crate) struct Inodes {
    /// Type of each inode: `T_FREE` for free inodes and ones of unknown type.
    pub kinds: Vec<i16>,
    /// Owner of each block (`owner[b]`), [`NO_OWNER`] when no inode uses it.
    pub owner: Vec<u32>,
    /// Allocated inodes with a valid type.
    pub in_use: u32,
}

/// Checks every inode and records block ownership.
pub(crate) fn scan(fs: &Fs, errors: &mut Vec<Problem>) -> Inodes {
    let mut out = Inodes {
        kinds: vec![T_FREE; fs.g.ninodes as usize],
        owner: vec![NO_OWNER; fs.g.size as usize],
        in_use: 0,
    };
    for inum in 0..fs.g.ninodes {
        let d = fs.inode(inum);
        match d.kind {
            T_FREE => continue,
            T_DIR | T_FILE | T_DEVICE => {}
            kind => {
                errors.push(Problem::BadType { inum, kind });
                continue;
            }
        }
        if inum == 0 {
            errors.push(Problem::InodeZeroInUse { kind: d.kind });
        } else {
            out.kinds[inum as usize] = d.kind;
            out.in_use += 1;
        }
        if d.size as usize > MAXFILE * BSIZE {
            errors.push(Problem::TooBig { inum, size: d.size });
        }
        if d.kind == T_DIR && !d.size.is_multiple_of(16) {
            errors.push(Problem::DirSize { inum, size: d.size });
        }
        let mut walk = Walk {
            fs,
            inum,
            d: &d,
            owner: &mut out.owner,
            errors,
            bad: None,
            beyond: None,
        };
        walk.run();
        walk.finish();
    }
    out
}

/// First offender and count, so one damaged inode yields one line.
type Tally = Option<(BlockRole, u32, u32)>;

struct Walk<'a, 'f> {
    fs: &'a Fs<'f>,
    inum: u32,
    d: &'a Dinode,
    owner: &'a mut [u32],
    errors: &'a mut Vec<Problem>,
    bad: Tally,
    beyond: Tally,
}

impl Walk<'_, '_> {
    fn run(&mut self) {
        let d = self.d;
        for (i, &a) in d.addrs[..NDIRECT].iter().enumerate() {
            self.visit(a, BlockRole::Data(i as u32), i);
        }
        if let Some(t) = self.visit(d.addrs[NDIRECT], BlockRole::Indirect, NDIRECT) {
            self.table(t, NDIRECT);
        }
        let base = NDIRECT + NINDIRECT;
        if let Some(dt) = self.visit(d.addrs[NDIRECT + 1], BlockRole::DoubleIndirect, base) {
            for k in 0..NINDIRECT {
                let first = base + k * NINDIRECT;
                if let Some(t) = self.visit(self.fs.word(dt, k), BlockRole::Table(k as u32), first)
                {
                    self.table(t, first);
                }
            }
        }
    }

    /// Visits the data blocks listed in table `t`, the first being file block `first`.
    fn table(&mut self, t: u32, first: usize) {
        for j in 0..NINDIRECT {
            let fbn = first + j;
            self.visit(self.fs.word(t, j), BlockRole::Data(fbn as u32), fbn);
        }
    }

    /// Checks one address whose range of file blocks starts at `first_fbn`;
    /// returns the block when it is a valid, newly claimed table to descend.
    fn visit(&mut self, addr: u32, role: BlockRole, first_fbn: usize) -> Option<u32> {
        if addr == 0 {
            return None;
        }
        // Blocks the size does not cover: the kernel truncates by walking
        // the whole tree, so they would not leak, but they mean the size or
        // the tree is wrong.
        let nblocks = (self.d.size as usize).div_ceil(BSIZE);
        if first_fbn >= nblocks {
            tally(&mut self.beyond, role, addr);
        }
        if !self.fs.in_data(addr) {
            tally(&mut self.bad, role, addr);
            return None;
        }
        let owner = &mut self.owner[addr as usize];
        if *owner != NO_OWNER {
            self.errors.push(Problem::DuplicateBlock {
                block: addr,
                first: *owner,
                second: self.inum,
                role,
            });
            return None;
        }
        *owner = self.inum;
        Some(addr)
    }

    fn finish(self) {
        if let Some((role, block, count)) = self.beyond {
            self.errors.push(Problem::BeyondSize {
                inum: self.inum,
                size: self.d.size,
                role,
                block,
                count,
            });
        }
        if let Some((role, block, count)) = self.bad {
            let (data_start, end) = (self.fs.g.data_start, self.fs.g.size);
            self.errors.push(Problem::BadAddress {
                inum: self.inum,
                role,
                block,
                count,
                data_start,
                end,
            });
        }
    }
}

fn tally(t: &mut Tally, role: BlockRole, addr: u32) {
    match t {
        Some((_, _, n)) => *n += 1,
        None => *t = Some((role, addr, 1)),
    }
}
