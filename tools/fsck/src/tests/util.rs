//! A sample image and byte-level tools for damaging it.

use crate::{check_image, Problem, Report};
use berth_abi::fs::{
    layout, Dinode, Dirent, SuperBlock, BPB, BSIZE, DINODE_SIZE, DIRENT_SIZE, IPB, ROOTINO,
};
use berth_mkfs::Builder;

pub const SIZE: u32 = 2048;
pub const NINODES: u32 = 128;
/// 300 blocks: past the direct and single-indirect blocks, into the doubly-indirect ones.
pub const BIG_BLOCKS: usize = 300;

/// Inode numbers of the sample image's contents.
#[allow(dead_code)]
pub struct Sample {
    /// `/a`, 100 bytes, also named `/d/alias`.
    pub a: u32,
    /// `/two`, two blocks.
    pub two: u32,
    /// `/big`, `BIG_BLOCKS` blocks.
    pub big: u32,
    /// `/d`, holding `f`, `e` and `alias`.
    pub d: u32,
    /// `/d/f`, 10 bytes.
    pub f: u32,
    /// `/d/e`, an empty directory.
    pub e: u32,
    /// `/console`, a device.
    pub console: u32,
}

/// Recognisable contents for file `seed`.
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Builds the sample image.
pub fn sample() -> (Img, Sample) {
    let mut b = Builder::new(SIZE, NINODES).unwrap();
    let a = b.add_file(ROOTINO, b"a", pattern(1, 100)).unwrap();
    let two = b.add_file(ROOTINO, b"two", pattern(2, 2 * BSIZE)).unwrap();
    let big = b
        .add_file(ROOTINO, b"big", pattern(3, BIG_BLOCKS * BSIZE - 7))
        .unwrap();
    let d = b.mkdir(ROOTINO, b"d").unwrap();
    let f = b.add_file(d, b"f", pattern(4, 10)).unwrap();
    let e = b.mkdir(d, b"e").unwrap();
    b.link(d, b"alias", a).unwrap();
    let console = b.mknod(ROOTINO, b"console", 1, 0).unwrap();
    (
        Img::new(b.finish().unwrap()),
        Sample {
            a,
            two,
            big,
            d,
            f,
            e,
            console,
        },
    )
}

/// An image with accessors for damaging it.
#[derive(Clone)]
pub struct Img {
    pub bytes: Vec<u8>,
    pub sb: SuperBlock,
}

impl Img {
    pub fn new(bytes: Vec<u8>) -> Img {
        let sb = SuperBlock::from_bytes(&bytes[BSIZE..]).unwrap();
        Img { bytes, sb }
    }

    pub fn report(&self) -> Report {
        check_image(&self.bytes)
    }

    pub fn block(&self, b: u32) -> &[u8] {
        &self.bytes[b as usize * BSIZE..(b as usize + 1) * BSIZE]
    }

    pub fn block_mut(&mut self, b: u32) -> &mut [u8] {
        &mut self.bytes[b as usize * BSIZE..(b as usize + 1) * BSIZE]
    }

    fn inode_range(&self, inum: u32) -> std::ops::Range<usize> {
        let off = (self.sb.inodestart + inum / IPB as u32) as usize * BSIZE
            + (inum as usize % IPB) * DINODE_SIZE;
        off..off + DINODE_SIZE
    }

    pub fn inode(&self, inum: u32) -> Dinode {
        Dinode::from_bytes(&self.bytes[self.inode_range(inum)])
    }

    /// Changes inode `inum` with `f`.
    pub fn edit_inode(&mut self, inum: u32, f: impl FnOnce(&mut Dinode)) {
        let mut d = self.inode(inum);
        f(&mut d);
        let r = self.inode_range(inum);
        self.bytes[r].copy_from_slice(&d.to_bytes());
    }

    pub fn marked(&self, b: u32) -> bool {
        let bit = b as usize % BPB;
        self.block(self.sb.bmapstart + b / BPB as u32)[bit / 8] & (1 << (bit % 8)) != 0
    }

    pub fn set_mark(&mut self, b: u32, on: bool) {
        let bit = b as usize % BPB;
        let blk = self.sb.bmapstart + b / BPB as u32;
        let byte = &mut self.block_mut(blk)[bit / 8];
        if on {
            *byte |= 1 << (bit % 8);
        } else {
            *byte &= !(1 << (bit % 8));
        }
    }

    /// Byte offset of slot `slot` of a small directory (first block only).
    fn dirent_offset(&self, dir: u32, slot: usize) -> usize {
        assert!(slot < BSIZE / DIRENT_SIZE);
        self.inode(dir).addrs[0] as usize * BSIZE + slot * DIRENT_SIZE
    }

    pub fn dirent(&self, dir: u32, slot: usize) -> Dirent {
        let off = self.dirent_offset(dir, slot);
        Dirent::from_bytes(&self.bytes[off..off + DIRENT_SIZE])
    }

    /// Writes slot `slot` of `dir`, growing the directory's size to cover it.
    pub fn set_dirent(&mut self, dir: u32, slot: usize, inum: u32, name: &[u8]) {
        let mut e = Dirent {
            inum: inum as u16,
            name: [0; 14],
        };
        e.name[..name.len()].copy_from_slice(name);
        let off = self.dirent_offset(dir, slot);
        self.bytes[off..off + DIRENT_SIZE].copy_from_slice(&e.to_bytes());
        let end = ((slot + 1) * DIRENT_SIZE) as u32;
        self.edit_inode(dir, |d| d.size = d.size.max(end));
    }

    /// Slot of `name` in `dir`.
    pub fn slot_of(&self, dir: u32, name: &[u8]) -> usize {
        let n = self.inode(dir).size as usize / DIRENT_SIZE;
        (0..n)
            .find(|&s| self.dirent(dir, s).inum != 0 && self.dirent(dir, s).name_bytes() == name)
            .unwrap()
    }

    pub fn set_superblock(&mut self, sb: SuperBlock) {
        self.sb = sb;
        self.bytes[BSIZE..BSIZE + 32].copy_from_slice(&sb.to_bytes());
    }

    /// Writes a log header committing `targets`, with `blocks` as the logged contents.
    pub fn commit_log(&mut self, targets: &[u32], blocks: &[Vec<u8>]) {
        let start = self.sb.logstart;
        let mut header = vec![0u8; BSIZE];
        header[..4].copy_from_slice(&(targets.len() as u32).to_le_bytes());
        for (i, t) in targets.iter().enumerate() {
            header[4 + 4 * i..8 + 4 * i].copy_from_slice(&t.to_le_bytes());
        }
        self.block_mut(start).copy_from_slice(&header);
        for (i, data) in blocks.iter().enumerate() {
            self.block_mut(start + 1 + i as u32).copy_from_slice(data);
        }
    }
}

/// The sample's layout, for tests that need it without an image.
#[allow(dead_code)]
pub fn sample_layout() -> SuperBlock {
    layout(SIZE, NINODES)
}

/// Asserts the report holds an error for which `want` is true, showing all errors otherwise.
#[track_caller]
pub fn assert_error(r: &Report, what: &str, want: impl Fn(&Problem) -> bool) {
    assert!(
        r.errors.iter().any(want),
        "expected {what}; errors: {:#?}",
        r.errors
    );
    for e in &r.errors {
        let line = e.to_string();
        assert!(
            !line.is_empty() && !line.contains('\n'),
            "message {line:?} is not one line"
        );
    }
}

/// Asserts the report is clean, showing all errors otherwise.
#[track_caller]
pub fn assert_clean(r: &Report) {
    assert!(r.is_clean(), "expected clean; errors: {:#?}", r.errors);
}
