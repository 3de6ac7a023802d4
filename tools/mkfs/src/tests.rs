//! Images built here are checked with the real fsck and read back with its
//! readers; the layout details mkfs promises (bitmap prefix, zero log
//! header, link counts) are checked byte by byte.

use crate::{build_image, Builder, MkfsError, MAX_FILE_BYTES};
use berth_abi::fs::{
    layout, Dinode, SuperBlock, BPB, BSIZE, DEFAULT_FSSIZE, DEFAULT_NINODES, DINODE_SIZE, IPB,
    LAYERS_INO, NDIRECT, NINDIRECT, ROOTINO, T_DEVICE, T_DIR, T_FILE,
};
use berth_fsck::{check_image, list_dir, read_file, read_path};

fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

fn superblock(img: &[u8]) -> SuperBlock {
    SuperBlock::from_bytes(&img[BSIZE..]).unwrap()
}

fn inode(img: &[u8], inum: u32) -> Dinode {
    let sb = superblock(img);
    let off =
        (sb.inodestart + inum / IPB as u32) as usize * BSIZE + (inum as usize % IPB) * DINODE_SIZE;
    Dinode::from_bytes(&img[off..off + DINODE_SIZE])
}

fn marked(img: &[u8], b: u32) -> bool {
    let sb = superblock(img);
    let bit = b as usize % BPB;
    img[(sb.bmapstart as usize + b as usize / BPB) * BSIZE + bit / 8] & (1 << (bit % 8)) != 0
}

#[track_caller]
fn assert_clean(img: &[u8]) -> berth_fsck::Report {
    let r = check_image(img);
    assert!(r.is_clean(), "{:#?}", r.errors);
    assert!(r.warnings.is_empty(), "{:#?}", r.warnings);
    r
}

#[test]
fn default_image_with_no_files_is_clean() {
    let img = build_image(DEFAULT_FSSIZE, DEFAULT_NINODES, vec![]).unwrap();
    assert_eq!(img.len(), DEFAULT_FSSIZE as usize * BSIZE);
    assert_eq!(superblock(&img), layout(DEFAULT_FSSIZE, DEFAULT_NINODES));
    let r = assert_clean(&img);
    // The root and the layer area, one block each.
    assert_eq!((r.inodes_in_use, r.data_blocks_in_use), (2, 2));
    assert_eq!(list_dir(&img, "/").unwrap(), Vec::<String>::new());
    let layers = inode(&img, LAYERS_INO);
    assert_eq!((layers.kind, layers.nlink, layers.size), (T_DIR, 1, 32));
    let sb = superblock(&img);
    assert_eq!(
        layers.addrs[0],
        sb.data_start() + 1,
        "right after the root's block"
    );
    let blk = &img[layers.addrs[0] as usize * BSIZE..];
    let dot = berth_abi::fs::Dirent::from_bytes(&blk[..16]);
    let dotdot = berth_abi::fs::Dirent::from_bytes(&blk[16..32]);
    assert_eq!((dot.name_bytes(), dot.inum), (&b"."[..], 2));
    assert_eq!((dotdot.name_bytes(), dotdot.inum), (&b".."[..], 2));
}

#[test]
fn files_of_every_shape_round_trip() {
    let sizes = [
        0,
        1,
        BSIZE,
        NDIRECT * BSIZE,
        NDIRECT * BSIZE + 1,
        (NDIRECT + NINDIRECT) * BSIZE,
        (NDIRECT + NINDIRECT) * BSIZE + 1,
        (NDIRECT + 3 * NINDIRECT) * BSIZE + 17,
    ];
    let files: Vec<_> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| (format!("f{i}").into_bytes(), pattern(i as u8, n)))
        .collect();
    let img = build_image(4096, 64, files.clone()).unwrap();
    let r = assert_clean(&img);
    let blocks: u64 = sizes
        .iter()
        .map(|&n| crate::blocks_for(n as u64))
        .sum::<u64>()
        + 2;
    assert_eq!(r.data_blocks_in_use as u64, blocks);
    for (name, data) in &files {
        assert_eq!(
            read_file(&img, std::str::from_utf8(name).unwrap()).as_ref(),
            Some(data)
        );
    }
}

#[test]
fn superblock_bitmap_and_log_are_exact() {
    let mut b = Builder::new(3000, 200).unwrap();
    b.add_file(ROOTINO, b"x", pattern(1, 40 * BSIZE)).unwrap();
    let used = b.blocks_used();
    let img = b.finish().unwrap();
    let sb = superblock(&img);
    assert_eq!(sb, layout(3000, 200));
    // Marked: exactly the metadata and the used data blocks, as one prefix.
    let end = sb.data_start() + used as u32;
    for blk in 0..sb.size {
        assert_eq!(marked(&img, blk), blk < end, "block {blk}");
    }
    // The log header says no transaction is pending.
    assert!(
        img[sb.logstart as usize * BSIZE..(sb.logstart as usize + 1) * BSIZE]
            .iter()
            .all(|&x| x == 0)
    );
    // Nothing past the last used block was written.
    assert!(img[end as usize * BSIZE..].iter().all(|&x| x == 0));
}

#[test]
fn link_counts_follow_the_kernel_rule() {
    let mut b = Builder::new(3000, 200).unwrap();
    let f = b.add_file(ROOTINO, b"f", b"data".to_vec()).unwrap();
    let d1 = b.mkdir(ROOTINO, b"d1").unwrap();
    let d2 = b.mkdir(ROOTINO, b"d2").unwrap();
    let d3 = b.mkdir(d1, b"d3").unwrap();
    b.link(d3, b"f-again", f).unwrap();
    b.link(ROOTINO, b"f-thrice", f).unwrap();
    let dev = b.mknod(ROOTINO, b"console", 1, 0).unwrap();
    let img = b.finish().unwrap();
    assert_clean(&img);
    // Root: implicit 1 + d1 + d2. d1: its entry + d3. d2, d3: their entries.
    let nlink = |i| inode(&img, i).nlink;
    assert_eq!(nlink(ROOTINO), 3);
    assert_eq!((nlink(d1), nlink(d2), nlink(d3)), (2, 1, 1));
    assert_eq!(nlink(f), 3);
    assert_eq!(nlink(dev), 1);
    let kinds: Vec<_> = [ROOTINO, f, d1, dev]
        .iter()
        .map(|&i| inode(&img, i).kind)
        .collect();
    assert_eq!(kinds, [T_DIR, T_FILE, T_DIR, T_DEVICE]);
    assert_eq!((inode(&img, dev).major, inode(&img, dev).minor), (1, 0));
    assert_eq!(
        read_path(&img, "/d1/d3/f-again").as_deref(),
        Some(&b"data"[..])
    );
    assert_eq!(
        list_dir(&img, "/").unwrap(),
        ["f", "d1", "d2", "f-thrice", "console"]
    );
}

#[test]
fn fills_the_image_exactly() {
    let b = Builder::new(1000, 32).unwrap();
    let room = b.superblock().nblocks as u64 - b.blocks_used();
    // The largest file that fits: find n with blocks_for(n * BSIZE) == room.
    let mut n = room;
    while crate::blocks_for(n * BSIZE as u64) > room {
        n -= 1;
    }
    let mut full = b.clone();
    full.add_file(ROOTINO, b"full", pattern(9, n as usize * BSIZE))
        .unwrap();
    assert_eq!(full.blocks_used(), full.superblock().nblocks as u64);
    let img = full.finish().unwrap();
    assert_clean(&img);
    assert!(marked(&img, 999));

    let mut over = b.clone();
    let err = over
        .add_file(ROOTINO, b"full", pattern(9, n as usize * BSIZE + 1))
        .unwrap_err();
    assert!(matches!(err, MkfsError::OutOfBlocks { .. }), "{err}");
}

#[test]
fn fills_the_inodes_exactly() {
    let mut b = Builder::new(2000, 40).unwrap();
    // Inode 0 is reserved, 1 is the root, 2 the layer area: 37 files fit.
    for i in 0..37 {
        b.add_file(ROOTINO, format!("f{i}").as_bytes(), vec![])
            .unwrap();
    }
    assert_eq!(b.inodes_used(), 39);
    assert!(matches!(
        b.add_file(ROOTINO, b"one-more", vec![]),
        Err(MkfsError::OutOfInodes { .. })
    ));
    let img = b.finish().unwrap();
    assert_eq!(check_image(&img).inodes_in_use, 39);
    assert_clean(&img);
}

#[test]
fn most_inodes_a_dirent_can_name() {
    let mut b = Builder::new(8000, 1 << 16).unwrap();
    let d = b.mkdir(ROOTINO, b"d").unwrap();
    assert_eq!(d, 3, "the first inode after the layer area");
    let img = b.finish().unwrap();
    assert_clean(&img);
}

#[test]
fn largest_file() {
    // MAXFILE blocks plus the tables: the file reaches the last doubly-indirect entry.
    let size = 70_000;
    let data = pattern(5, MAX_FILE_BYTES as usize);
    let img = build_image(size, 16, vec![(b"max".to_vec(), data.clone())]).unwrap();
    assert_clean(&img);
    assert!(read_file(&img, "max").as_ref() == Some(&data));
}
