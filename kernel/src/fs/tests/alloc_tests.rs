//! Block and inode allocation: big files, truncation, exhaustion.

use berth_abi::errno::Errno::*;
use berth_abi::fcntl::*;
use berth_abi::fs::*;

use super::*;
use crate::fs::FileSystem;

/// Blocks (data and indirect) a file of `n` data blocks uses.
fn blocks_for(n: usize) -> u32 {
    let mut total = n;
    if n > NDIRECT {
        total += 1;
    }
    if n > NDIRECT + NINDIRECT {
        total += 1 + (n - NDIRECT - NINDIRECT).div_ceil(NINDIRECT);
    }
    total as u32
}

#[test]
fn big_file_through_the_doubly_indirect_block() {
    let t = fresh(8000, 100);
    let free = t.free_blocks();
    let data = pattern(11, 3 << 20); // 3 MiB: 3072 blocks, 2805 of them doubly indirect
    let commits = t.fs.commits();
    t.put("/big", &data).unwrap();
    assert!(
        t.fs.commits() - commits > 50,
        "the write was split into many operations"
    );
    assert_eq!(free - t.free_blocks(), blocks_for(3072));
    assert_eq!(t.get("/big").unwrap(), data);
    t.assert_consistent(false);
    // Survives a remount, then O_TRUNC gives every block back.
    let t = mount_image(t.image(), NBUF, 64);
    assert_eq!(t.get("/big").unwrap(), data);
    drop(t.fs.open_inode(&t.root, b"/big", O_RDWR | O_TRUNC).unwrap());
    assert_eq!(t.free_blocks(), free);
    assert_eq!(t.get("/big").unwrap(), b"");
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn sparse_writes_deep_in_the_file() {
    let t = fresh(4000, 100);
    let ip = t.fs.create(&t.root, b"s", T_FILE, 0, 0).unwrap();
    let free = t.free_blocks();
    let offs = [
        (NDIRECT + NINDIRECT + 5 * NINDIRECT + 3) * BSIZE,
        3 * BSIZE,
        (NDIRECT + 7) * BSIZE + 1000,
    ];
    for (i, &off) in offs.iter().enumerate() {
        assert_eq!(
            t.fs.write_file(&ip, off as u64, &pattern(i as u64, 100)),
            Ok(100)
        );
    }
    // Data: 4 blocks (one write straddles two); indirect, doubly-indirect and one second-level block.
    assert_eq!(free - t.free_blocks(), 4 + 3);
    let all = read_all(&t.fs, &ip).unwrap();
    assert_eq!(all.len(), offs[0] + 100);
    let mut expect = vec![0u8; all.len()];
    for (i, &off) in offs.iter().enumerate() {
        expect[off..off + 100].copy_from_slice(&pattern(i as u64, 100));
    }
    assert!(all == expect);
    t.assert_consistent(false);
    t.fs.truncate(&ip).unwrap();
    assert_eq!(t.free_blocks(), free);
    assert_eq!(t.fs.truncate(&t.root), Err(EISDIR));
    drop(ip);
    t.assert_consistent(false);
}

#[test]
fn truncate_and_unlink_free_every_block() {
    let t = fresh(4000, 100);
    let free = t.free_blocks();
    for (i, size) in [
        0usize,
        1,
        1024,
        11 * 1024,
        11 * 1024 + 1,
        300 * 1024,
        700 * 1024,
    ]
    .into_iter()
    .enumerate()
    {
        let path = format!("/f{i}");
        t.put(&path, &pattern(i as u64, size)).unwrap();
        assert_eq!(
            free - t.free_blocks(),
            blocks_for(size.div_ceil(BSIZE)),
            "size {size}"
        );
        t.put(&path, b"short").unwrap(); // O_TRUNC then a small write
        assert_eq!(free - t.free_blocks(), 1);
        assert_eq!(t.get(&path).unwrap(), b"short");
        t.fs.unlink(&t.root, path.as_bytes()).unwrap();
        assert_eq!(t.free_blocks(), free);
        t.assert_consistent(false);
    }
    t.assert_quiet();
}

#[test]
fn running_out_of_blocks_is_enospc_and_consistent() {
    let t = fresh(700, 100);
    let free = t.free_blocks();
    let inodes = t.free_inodes();
    t.fs.mkdir(&t.root, b"/d").unwrap();
    let ip = t.fs.create(&t.root, b"/d/fill", T_FILE, 0, 0).unwrap();
    let data = pattern(1, 2 << 20);
    let n = t.fs.write_file(&ip, 0, &data).unwrap();
    assert!(n < data.len() && n > 400 * BSIZE, "short write of {n}");
    assert_eq!(t.free_blocks(), 0);
    assert_eq!(t.fs.write_file(&ip, n as u64, b"more"), Err(ENOSPC));
    assert_eq!(t.fs.stat(&ip).unwrap().size, n as u64);
    assert_eq!(read_all(&t.fs, &ip).unwrap(), &data[..n]);
    t.assert_consistent(false);
    // Creating a directory needs a block: refused, and the inode it took is given back.
    assert_eq!(t.fs.mkdir(&t.root, b"/d/sub"), Err(ENOSPC));
    assert_eq!(t.free_inodes(), inodes - 2);
    // An empty file needs no block.
    t.put("/d/empty", b"").unwrap();
    assert_eq!(t.put("/d/one", b"x"), Err(ENOSPC));
    t.assert_consistent(false);
    drop(ip);
    t.fs.unlink(&t.root, b"/d/fill").unwrap();
    t.fs.unlink(&t.root, b"/d/empty").unwrap();
    t.fs.unlink(&t.root, b"/d/one").unwrap();
    t.fs.unlink(&t.root, b"/d").unwrap();
    assert_eq!((t.free_blocks(), t.free_inodes()), (free, inodes));
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn running_out_of_inodes_is_enospc_and_consistent() {
    let t = fresh(2000, 40);
    let mut made = 0;
    let err = loop {
        match t.put(&format!("/f{made}"), b"x") {
            Ok(()) => made += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err, ENOSPC);
    assert_eq!(
        made,
        40 - 3,
        "inode 0 is never used, 1 is the root, 2 the layer area"
    );
    assert_eq!(t.fs.mkdir(&t.root, b"/d"), Err(ENOSPC));
    t.assert_consistent(false);
    t.fs.unlink(&t.root, b"/f7").unwrap();
    t.fs.mkdir(&t.root, b"/d").unwrap();
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn freed_inode_numbers_are_reused_lowest_first() {
    let t = fresh(2000, 60);
    let ino = |path: &str| {
        let ip = t.fs.namei(&t.root, path.as_bytes()).unwrap();
        t.fs.stat(&ip).unwrap().ino
    };
    for i in 0..6 {
        t.put(&format!("/f{i}"), b"x").unwrap();
    }
    let (two, four) = (ino("/f2"), ino("/f4"));
    t.fs.unlink(&t.root, b"/f4").unwrap();
    t.fs.unlink(&t.root, b"/f2").unwrap();
    t.put("/g", b"y").unwrap();
    assert_eq!(ino("/g"), two, "first fit takes the lowest free inode");
    t.put("/h", b"y").unwrap();
    assert_eq!(ino("/h"), four);
    t.put("/k", b"y").unwrap();
    assert_eq!(
        ino("/k"),
        ino("/f5") + 1,
        "then the allocation goes on above"
    );
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn full_inode_table_is_enfile() {
    let t = fresh_with(2000, 100, NBUF, 4);
    t.fs.mkdir(&t.root, b"/d").unwrap();
    // The root (held by `t`) and three open files fill the table.
    let a = t.fs.create(&t.root, b"/a", T_FILE, 0, 0).unwrap();
    let b = t.fs.create(&t.root, b"/b", T_FILE, 0, 0).unwrap();
    let c = t.fs.create(&t.root, b"/c", T_FILE, 0, 0).unwrap();
    assert_eq!(t.fs.namei(&t.root, b"/d").unwrap_err(), ENFILE);
    let inodes = t.free_inodes();
    assert_eq!(
        t.fs.create(&t.root, b"/e", T_FILE, 0, 0).unwrap_err(),
        ENFILE
    );
    assert_eq!(
        t.free_inodes(),
        inodes,
        "the ENFILE attempt allocated nothing"
    );
    drop(c);
    t.fs.create(&t.root, b"/e", T_FILE, 0, 0).unwrap();
    assert_eq!(t.free_inodes(), inodes - 1);
    drop((a, b));
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn tiny_cache_still_works() {
    let t = fresh_with(4000, 100, crate::fs::MIN_NBUF, 16);
    let data = pattern(4, 600 * 1024);
    t.put("/f", &data).unwrap();
    assert_eq!(t.get("/f").unwrap(), data);
    let (hits, misses) = t.fs.cache_stats();
    assert!(
        misses > crate::fs::MIN_NBUF as u64,
        "{hits} hits, {misses} misses: buffers were recycled"
    );
    t.assert_consistent(false);
    let fs: &FileSystem = &t.fs;
    fs.unlink(&t.root, b"/f").unwrap();
    t.assert_consistent(false);
}
