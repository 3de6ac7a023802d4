//! An independent consistency check of an image, written against the
//! on-disk format only (none of the file system's own code), so a bug in
//! the file system cannot hide itself.
//!
//! Checks: superblock and empty log; every inode address is a data block,
//! used once, within the file size (indirect blocks too: the first file
//! block under them must be inside); the bitmap marks exactly the metadata
//! and the used blocks; the directory trees from the two tops, the root and
//! the layer area (inode 2, `LAYERS_INO`, whose `.` and `..` name itself):
//! `.` and `..` right, entries name allocated inodes, no duplicate names,
//! no directory named twice, no entry naming the layer area; link counts
//! per the rule in `fs/mod.rs` (a whiteout marker, linked from every
//! whiteout of its layer, is counted like any file); every allocated inode
//! reachable (unreachable ones with no links are orphans, accepted only
//! when asked); whiteout markers (devices of `WHITEOUT_MAJOR`) only in the
//! layer area; a directory's `major` 0, or `DIR_OPAQUE` in the layer area.

use std::collections::{HashMap, HashSet, VecDeque};
use std::string::String;
use std::vec::Vec;

use berth_abi::fs::*;

fn block(img: &[u8], b: u32) -> &[u8] {
    &img[b as usize * BSIZE..(b as usize + 1) * BSIZE]
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[4 * i..4 * i + 4].try_into().unwrap())
}

/// Problems found in `img` (empty when consistent).
pub fn check_image(img: &[u8], allow_orphans: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(sb) = SuperBlock::from_bytes(block(img, SUPERBLOCK)) else {
        return vec!["no superblock".into()];
    };
    if sb.magic != FSMAGIC {
        return vec![format!("bad magic {:#x}", sb.magic)];
    }
    if sb.size as usize * BSIZE > img.len() {
        return vec![format!("size {} larger than image", sb.size)];
    }
    let n = u32_at(block(img, sb.logstart), 0);
    if n != 0 {
        problems.push(format!("log header holds {n} blocks"));
    }
    let data_start = sb.data_start();
    let inode = |inum: u32| -> Dinode {
        let b = block(img, inode_block(inum, &sb));
        let off = (inum as usize % IPB) * DINODE_SIZE;
        Dinode::from_bytes(&b[off..off + DINODE_SIZE])
    };

    // Blocks of each inode: (first file block number it holds or leads to, address).
    let mut owner: HashMap<u32, u32> = HashMap::new();
    for inum in 1..sb.ninodes {
        let d = inode(inum);
        if d.kind == T_FREE {
            continue;
        }
        if !matches!(d.kind, T_DIR | T_FILE | T_DEVICE) {
            problems.push(format!("inode {inum}: bad type {}", d.kind));
            continue;
        }
        let in_data = |b: u32| b >= data_start && b < sb.size;
        let mut claims: Vec<(usize, u32)> = Vec::new();
        for (bn, &b) in d.addrs[..NDIRECT].iter().enumerate() {
            claims.push((bn, b));
        }
        let ind = d.addrs[NDIRECT];
        claims.push((NDIRECT, ind));
        if ind != 0 && in_data(ind) {
            for i in 0..NINDIRECT {
                claims.push((NDIRECT + i, u32_at(block(img, ind), i)));
            }
        }
        let dind = d.addrs[NDIRECT + 1];
        claims.push((NDIRECT + NINDIRECT, dind));
        if dind != 0 && in_data(dind) {
            for i in 0..NINDIRECT {
                let l2 = u32_at(block(img, dind), i);
                claims.push((NDIRECT + NINDIRECT + i * NINDIRECT, l2));
                if l2 != 0 && in_data(l2) {
                    for j in 0..NINDIRECT {
                        claims.push((
                            NDIRECT + NINDIRECT + i * NINDIRECT + j,
                            u32_at(block(img, l2), j),
                        ));
                    }
                }
            }
        }
        let nfile = (d.size as usize).div_ceil(BSIZE);
        for (bn, b) in claims {
            if b == 0 {
                continue;
            }
            if !in_data(b) {
                problems.push(format!("inode {inum}: address {b} outside the data area"));
                continue;
            }
            if let Some(other) = owner.insert(b, inum) {
                problems.push(format!("block {b} used by inodes {other} and {inum}"));
            }
            if bn >= nfile {
                problems.push(format!(
                    "inode {inum}: block {b} (file block {bn}) beyond size {}",
                    d.size
                ));
            }
        }
    }

    // Bitmap.
    for b in 0..sb.size {
        let bits = block(img, bitmap_block(b, &sb));
        let bit = b as usize % BPB;
        let marked = bits[bit / 8] & (1 << (bit % 8)) != 0;
        let used = b < data_start || owner.contains_key(&b);
        if marked && !used {
            problems.push(format!("block {b} marked in use but unreferenced"));
        } else if !marked && used {
            problems.push(format!("block {b} in use but marked free"));
        }
    }

    // Directory tree.
    let read_file = |d: &Dinode| -> Vec<u8> {
        let mut out = Vec::new();
        for bn in 0..(d.size as usize).div_ceil(BSIZE) {
            let b = if bn < NDIRECT {
                d.addrs[bn]
            } else if bn < NDIRECT + NINDIRECT {
                match d.addrs[NDIRECT] {
                    0 => 0,
                    ind => u32_at(block(img, ind), bn - NDIRECT),
                }
            } else {
                let k = bn - NDIRECT - NINDIRECT;
                match d.addrs[NDIRECT + 1] {
                    0 => 0,
                    dind => match u32_at(block(img, dind), k / NINDIRECT) {
                        0 => 0,
                        l2 => u32_at(block(img, l2), k % NINDIRECT),
                    },
                }
            };
            if b == 0 || b >= sb.size {
                out.extend_from_slice(&[0; BSIZE]);
            } else {
                out.extend_from_slice(block(img, b));
            }
        }
        out.truncate(d.size as usize);
        out
    };
    let mut links: HashMap<u32, i32> = HashMap::new();
    let mut subdirs: HashMap<u32, i32> = HashMap::new();
    let mut seen_dirs: HashSet<u32> = HashSet::from([ROOTINO, LAYERS_INO]);
    // (directory, its parent, in the layer area)
    let mut queue = VecDeque::new();
    for (top, what) in [(ROOTINO, "root"), (LAYERS_INO, "layer area")] {
        if inode(top).kind == T_DIR {
            queue.push_back((top, top, top == LAYERS_INO));
        } else {
            problems.push(format!("{what} is not a directory"));
        }
    }
    while let Some((dir, parent, in_layers)) = queue.pop_front() {
        let d = inode(dir);
        let allowed = if in_layers { DIR_OPAQUE } else { 0 };
        if d.major & !allowed != 0 {
            problems.push(format!("directory {dir}: flags {:#x}", d.major));
        }
        if !(d.size as usize).is_multiple_of(DIRENT_SIZE) {
            problems.push(format!(
                "directory {dir}: size {} not a multiple of {DIRENT_SIZE}",
                d.size
            ));
        }
        let bytes = read_file(&d);
        let mut names = HashSet::new();
        let (mut dot, mut dotdot) = (0, 0);
        for raw in bytes.chunks_exact(DIRENT_SIZE) {
            let de = Dirent::from_bytes(raw);
            if de.inum == 0 {
                continue;
            }
            let name = de.name_bytes().to_vec();
            let shown = String::from_utf8_lossy(&name).into_owned();
            if name.is_empty() {
                problems.push(format!("directory {dir}: entry with an empty name"));
            }
            if !names.insert(name.clone()) {
                problems.push(format!("directory {dir}: name {shown:?} twice"));
            }
            let inum = de.inum as u32;
            match &name[..] {
                b"." => {
                    dot += 1;
                    if inum != dir {
                        problems.push(format!("directory {dir}: . names {inum}"));
                    }
                    continue;
                }
                b".." => {
                    dotdot += 1;
                    if inum != parent {
                        problems.push(format!(
                            "directory {dir}: .. names {inum}, parent is {parent}"
                        ));
                    }
                    continue;
                }
                _ => {}
            }
            if inum == LAYERS_INO {
                problems.push(format!("directory {dir}: {shown:?} names the layer area"));
                continue;
            }
            if inum >= sb.ninodes || inode(inum).kind == T_FREE {
                problems.push(format!(
                    "directory {dir}: {shown:?} names free inode {inum}"
                ));
                continue;
            }
            *links.entry(inum).or_default() += 1;
            let child = inode(inum);
            if child.kind == T_DEVICE && child.major == WHITEOUT_MAJOR && !in_layers {
                problems.push(format!(
                    "directory {dir}: {shown:?} is a whiteout outside the layer area"
                ));
            }
            if child.kind == T_DIR {
                *subdirs.entry(dir).or_default() += 1;
                if seen_dirs.insert(inum) {
                    queue.push_back((inum, dir, in_layers));
                } else {
                    problems.push(format!(
                        "directory {inum} named twice (last as {shown:?} in {dir})"
                    ));
                }
            }
        }
        if dot != 1 || dotdot != 1 {
            problems.push(format!(
                "directory {dir}: {dot} '.' and {dotdot} '..' entries"
            ));
        }
    }

    // Link counts and reachability.
    for inum in 1..sb.ninodes {
        let d = inode(inum);
        if !matches!(d.kind, T_DIR | T_FILE | T_DEVICE) {
            continue;
        }
        let reachable = inum == ROOTINO || inum == LAYERS_INO || links.contains_key(&inum);
        if !reachable {
            if !(allow_orphans && d.nlink == 0) {
                problems.push(format!(
                    "inode {inum} (type {}, nlink {}) unreachable",
                    d.kind, d.nlink
                ));
            }
            continue;
        }
        let expected = if d.kind == T_DIR {
            1 + subdirs.get(&inum).copied().unwrap_or(0)
        } else {
            links[&inum]
        };
        if d.nlink as i32 != expected {
            problems.push(format!(
                "inode {inum}: nlink {} but {expected} expected",
                d.nlink
            ));
        }
    }
    problems
}

/// Free data blocks according to the bitmap.
pub fn free_blocks(img: &[u8]) -> u32 {
    let sb = SuperBlock::from_bytes(block(img, SUPERBLOCK)).unwrap();
    (sb.data_start()..sb.size)
        .filter(|&b| {
            let bit = b as usize % BPB;
            block(img, bitmap_block(b, &sb))[bit / 8] & (1 << (bit % 8)) == 0
        })
        .count() as u32
}

/// Free inodes on disk.
pub fn free_inodes(img: &[u8]) -> u32 {
    let sb = SuperBlock::from_bytes(block(img, SUPERBLOCK)).unwrap();
    (1..sb.ninodes)
        .filter(|&inum| {
            let off = (inum as usize % IPB) * DINODE_SIZE;
            Dinode::from_bytes(&block(img, inode_block(inum, &sb))[off..off + DINODE_SIZE]).kind
                == T_FREE
        })
        .count() as u32
}
