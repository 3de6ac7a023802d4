//! Random damage: fsck and the readers must never panic, whatever the bytes.
//!
//! A fixed-seed xorshift generator keeps the runs reproducible; a failure
//! message includes the iteration to replay.

use super::util::{sample, Img};
use crate::{check_image, list_dir, read_file, read_path};
use berth_abi::fs::{BSIZE, NADDRS};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A block number that is often on an edge of a region.
    fn block(&mut self, img: &Img) -> u32 {
        let sb = img.sb;
        let edges = [
            0,
            1,
            2,
            sb.inodestart,
            sb.bmapstart,
            sb.data_start() - 1,
            sb.data_start(),
            sb.size - 1,
            sb.size,
            u32::MAX,
        ];
        match self.below(3) {
            0 => edges[self.below(edges.len() as u64) as usize],
            1 => sb.data_start() + self.below(64) as u32,
            _ => self.next() as u32,
        }
    }
}

fn exercise(bytes: &[u8]) {
    let r = check_image(bytes);
    for p in r.errors.iter().chain(&r.warnings) {
        assert!(!p.to_string().contains('\n'));
    }
    let _ = read_file(bytes, "a");
    let _ = read_file(bytes, "big");
    let _ = read_path(bytes, "/d/e/../f");
    let _ = list_dir(bytes, "/d");
}

#[test]
fn random_bytes_in_metadata_never_panic() {
    let (img, _) = sample();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let hot = (img.sb.data_start() as usize + 16) * BSIZE;
    for _ in 0..600 {
        let mut bytes = img.bytes.clone();
        for _ in 0..1 + rng.below(16) {
            let at = if rng.below(4) == 0 {
                BSIZE + rng.below(32) as usize
            } else {
                rng.below(hot as u64) as usize
            };
            bytes[at] = rng.next() as u8;
        }
        exercise(&bytes);
    }
}

#[test]
fn random_inode_and_entry_fields_never_panic() {
    let (img, s) = sample();
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let inodes = [0, 1, s.a, s.two, s.big, s.d, s.f, s.e, s.console];
    for _ in 0..600 {
        let mut bad = img.clone();
        // Entries first: the helper finds a directory's block through its
        // inode, which the field damage below may scramble.
        for _ in 0..rng.below(3) {
            let dir = [1, s.d, s.e][rng.below(3) as usize];
            let slot = rng.below(8) as usize;
            let target = [0, 1, s.d, s.e, s.a, rng.next() as u16 as u32][rng.below(6) as usize];
            bad.set_dirent(
                dir,
                slot,
                target,
                [b"x".as_slice(), b".", b"..", b"", b"\n"][rng.below(5) as usize],
            );
        }
        for _ in 0..1 + rng.below(4) {
            let inum = inodes[rng.below(inodes.len() as u64) as usize];
            let block = rng.block(&bad);
            let which = rng.below(5);
            bad.edit_inode(inum, |d| match which {
                0 => d.addrs[rng.below(NADDRS as u64) as usize] = block,
                1 => d.size = rng.next() as u32 >> rng.below(32),
                2 => d.kind = rng.below(6) as i16 - 1,
                3 => d.nlink = rng.next() as i16,
                _ => d.addrs = [block; NADDRS],
            });
        }
        exercise(&bad.bytes);
    }
}

#[test]
fn random_superblocks_and_lengths_never_panic() {
    let (img, _) = sample();
    let mut rng = Rng(42);
    for _ in 0..400 {
        let mut bad = img.clone();
        let mut sb = bad.sb;
        let field = rng.below(8);
        let value = match rng.below(3) {
            0 => rng.next() as u32,
            1 => rng.block(&img),
            _ => [0, 1, 2, u32::MAX, u32::MAX / 2][rng.below(5) as usize],
        };
        match field {
            0 => sb.size = value,
            1 => sb.nblocks = value,
            2 => sb.ninodes = value,
            3 => sb.nlog = value,
            4 => sb.logstart = value,
            5 => sb.inodestart = value,
            6 => sb.bmapstart = value,
            _ => {
                // A log header with random entries.
                let start = img.sb.logstart;
                let n = rng.below(8) as u32;
                bad.block_mut(start)[..4].copy_from_slice(&n.to_le_bytes());
                for i in 0..n as usize {
                    let t = rng.block(&img);
                    bad.block_mut(start)[4 + 4 * i..8 + 4 * i].copy_from_slice(&t.to_le_bytes());
                }
            }
        }
        bad.set_superblock(sb);
        let len = match rng.below(4) {
            0 => rng.below(bad.bytes.len() as u64 + 1) as usize,
            _ => bad.bytes.len(),
        };
        exercise(&bad.bytes[..len]);
    }
}
