//! Mounting, reading and writing files, open flags.

use std::sync::Arc;

use berth_abi::errno::Errno::{self, *};
use berth_abi::fcntl::*;
use berth_abi::fs::*;

use super::*;
use crate::fs::{BlockDevice, MountError, MIN_NBUF};

#[test]
fn formatted_image_mounts_and_is_consistent() {
    let t = fresh(2000, 200);
    t.assert_consistent(false);
    assert_eq!(t.fs.mount_info(), Default::default());
    let st = t.fs.stat(&t.root).unwrap();
    assert_eq!(
        (st.ino, st.kind, st.nlink, st.size),
        (ROOTINO, T_DIR, 1, 32)
    );
    let sb = t.fs.superblock();
    assert_eq!(sb, layout(2000, 200));
    t.assert_quiet();
}

fn mount_err(img: Vec<u8>, nbuf: usize) -> MountError {
    let disk = Arc::new(RamDisk::from_bytes(img).unwrap());
    match FileSystem::mount(disk, nbuf) {
        Ok(_) => panic!("mounted a bad image"),
        Err(e) => e,
    }
}

fn set_sb(img: &mut [u8], f: impl FnOnce(&mut SuperBlock)) {
    let mut sb = SuperBlock::from_bytes(&img[BSIZE..]).unwrap();
    f(&mut sb);
    img[BSIZE..BSIZE + 32].copy_from_slice(&sb.to_bytes());
}

#[test]
fn bad_images_are_refused_with_a_clear_reason() {
    let e = mount_err(vec![0; 100 * BSIZE], NBUF);
    assert_eq!(e, MountError::BadMagic(0));
    assert_eq!(e.to_string(), "bad magic 0x0 (not a berth file system)");

    let mut img = formatted_image(2000, 200);
    img.truncate(1000 * BSIZE);
    let e = mount_err(img, NBUF);
    assert_eq!(
        e.to_string(),
        "superblock says 2000 blocks but the disk has 1000"
    );

    let mut img = formatted_image(2000, 200);
    set_sb(&mut img, |sb| sb.inodestart = sb.logstart + 3);
    let e = mount_err(img, NBUF);
    assert!(matches!(e, MountError::BadLayout(_)), "{e}");
    assert!(e.to_string().contains("runs into the inodes"), "{e}");

    let mut img = formatted_image(2000, 200);
    set_sb(&mut img, |sb| sb.nblocks += 1);
    assert!(matches!(mount_err(img, NBUF), MountError::BadLayout(_)));

    let mut img = formatted_image(2000, 200);
    set_sb(&mut img, |sb| sb.ninodes = 100_000);
    assert!(matches!(mount_err(img, NBUF), MountError::BadLayout(_)));

    let e = mount_err(formatted_image(2000, 200), MIN_NBUF - 1);
    assert!(matches!(e, MountError::TooFewBuffers { .. }), "{e}");

    // A log header counting more blocks than the log has.
    let mut img = formatted_image(2000, 200);
    img[2 * BSIZE..2 * BSIZE + 4].copy_from_slice(&1000u32.to_le_bytes());
    let e = mount_err(img, NBUF);
    assert!(matches!(e, MountError::CorruptLog(_)), "{e}");

    // A log header naming the superblock.
    let mut img = formatted_image(2000, 200);
    img[2 * BSIZE..2 * BSIZE + 8].copy_from_slice(&[1, 0, 0, 0, 1, 0, 0, 0]);
    assert!(matches!(mount_err(img, NBUF), MountError::CorruptLog(_)));

    // A root that is not a directory.
    let mut img = formatted_image(2000, 200);
    let sb = layout(2000, 200);
    let off = inode_block(ROOTINO, &sb) as usize * BSIZE + (ROOTINO as usize % IPB) * DINODE_SIZE;
    img[off..off + 2].copy_from_slice(&T_FILE.to_le_bytes());
    assert!(matches!(mount_err(img, NBUF), MountError::BadRoot(_)));

    // A layer area that is a file, free, unlinked, or past the last inode.
    let off =
        inode_block(LAYERS_INO, &sb) as usize * BSIZE + (LAYERS_INO as usize % IPB) * DINODE_SIZE;
    for (what, bytes, at) in [
        ("type 2", T_FILE.to_le_bytes(), 0),
        ("free", T_FREE.to_le_bytes(), 0),
        ("0 links", 0i16.to_le_bytes(), 6),
    ] {
        let mut img = formatted_image(2000, 200);
        img[off + at..off + at + 2].copy_from_slice(&bytes);
        let e = mount_err(img, NBUF);
        assert!(matches!(e, MountError::BadLayers(_)), "{e}");
        // A free inode reads as unreadable (EIO); the others say what they are.
        assert!(
            e.to_string().starts_with("bad layer area: inode 2 ")
                && (what == "free" || e.to_string().contains(what)),
            "{e}"
        );
    }
    let mut img = formatted_image(2000, 200);
    set_sb(&mut img, |sb| sb.ninodes = 2);
    let e = mount_err(img, NBUF);
    assert!(e.to_string().contains("past the last inode"), "{e}");
}

#[test]
fn format_refuses_tiny_disks() {
    assert_eq!(format(&RamDisk::new(50), 16), Err(EINVAL));
    assert_eq!(format(&RamDisk::new(2000), 1), Err(EINVAL));
    assert_eq!(
        format(&RamDisk::new(2000), 2),
        Err(EINVAL),
        "no room for inode 2"
    );
}

#[test]
fn committed_log_is_replayed_at_mount() {
    // Build a log by hand: block `target` gets new contents in a committed group.
    let mut img = formatted_image(2000, 200);
    let sb = layout(2000, 200);
    let target = sb.data_start() + 10;
    img[(sb.logstart as usize + 1) * BSIZE..(sb.logstart as usize + 2) * BSIZE].fill(0xab);
    let h = sb.logstart as usize * BSIZE;
    img[h..h + 4].copy_from_slice(&1u32.to_le_bytes());
    img[h + 4..h + 8].copy_from_slice(&target.to_le_bytes());
    let t = mount_image(img, NBUF, 64);
    assert_eq!(t.fs.mount_info().replayed_blocks, 1);
    let img = t.image();
    assert!(img[target as usize * BSIZE..(target as usize + 1) * BSIZE]
        .iter()
        .all(|&b| b == 0xab));
    assert_eq!(&img[h..h + 4], &[0, 0, 0, 0], "header cleared after replay");
}

#[test]
fn write_then_read_back_with_short_reads_at_eof() {
    let t = fresh(2000, 200);
    let data = pattern(1, 5000);
    t.put("/f", &data).unwrap();
    assert_eq!(t.get("/f").unwrap(), data);
    let ip = t.fs.namei(&t.root, b"/f").unwrap();
    let st = t.fs.stat(&ip).unwrap();
    assert_eq!((st.kind, st.nlink, st.size), (T_FILE, 1, 5000));
    let mut buf = [0u8; 100];
    assert_eq!(t.fs.read_file(&ip, 4950, &mut buf).unwrap(), 50);
    assert_eq!(&buf[..50], &data[4950..]);
    assert_eq!(t.fs.read_file(&ip, 5000, &mut buf).unwrap(), 0);
    assert_eq!(t.fs.read_file(&ip, 1 << 40, &mut buf).unwrap(), 0);
    // Overwrite in the middle, across a block boundary.
    assert_eq!(t.fs.write_file(&ip, 1000, &[7; 100]).unwrap(), 100);
    let mut expect = data.clone();
    expect[1000..1100].fill(7);
    drop(ip);
    assert_eq!(t.get("/f").unwrap(), expect);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn writing_past_the_end_leaves_a_hole_of_zeros() {
    let t = fresh(2000, 200);
    let ip = t.fs.create(&t.root, b"sparse", T_FILE, 0, 0).unwrap();
    let off = 40 * BSIZE as u64 + 5;
    assert_eq!(t.fs.write_file(&ip, off, b"tail").unwrap(), 4);
    let all = read_all(&t.fs, &ip).unwrap();
    assert_eq!(all.len() as u64, off + 4);
    assert!(all[..off as usize].iter().all(|&b| b == 0));
    assert_eq!(&all[off as usize..], b"tail");
    drop(ip);
    t.assert_consistent(false);
}

#[test]
fn append_writes_at_the_end() {
    let t = fresh(2000, 200);
    t.put("/log", b"abc").unwrap();
    let ip =
        t.fs.open_inode(&t.root, b"/log", O_WRONLY | O_APPEND)
            .unwrap();
    assert_eq!(t.fs.append_file(&ip, b"defg").unwrap(), (4, 7));
    let big = pattern(3, 40_000);
    assert_eq!(t.fs.append_file(&ip, &big).unwrap(), (40_000, 40_007));
    drop(ip);
    let all = t.get("/log").unwrap();
    assert_eq!(&all[..7], b"abcdefg");
    assert_eq!(&all[7..], &big[..]);
    t.assert_consistent(false);
}

#[test]
fn write_beyond_the_largest_file_is_efbig() {
    let t = fresh(2000, 200);
    let ip = t.fs.create(&t.root, b"f", T_FILE, 0, 0).unwrap();
    let max = (MAXFILE * BSIZE) as u64;
    assert_eq!(t.fs.write_file(&ip, max - 10, &[1; 20]), Err(EFBIG));
    assert_eq!(t.fs.write_file(&ip, max, &[1]), Err(EFBIG));
    assert_eq!(t.fs.write_file(&ip, u64::MAX, &[1]), Err(EFBIG));
    assert_eq!(
        t.fs.stat(&ip).unwrap().size,
        0,
        "a refused write changes nothing"
    );
    // The very last byte is writable (through the doubly-indirect block).
    assert_eq!(t.fs.write_file(&ip, max - 1, &[9]), Ok(1));
    let mut b = [0u8; 2];
    assert_eq!(t.fs.read_file(&ip, max - 1, &mut b), Ok(1));
    assert_eq!(b[0], 9);
    drop(ip);
    t.assert_consistent(false);
}

#[test]
fn open_flags() {
    let t = fresh(2000, 200);
    let open = |p: &str, f: u32| {
        t.fs.open_inode(&t.root, p.as_bytes(), f)
            .map(|ip| ip.inum())
    };
    assert_eq!(open("/nope", O_RDONLY), Err(ENOENT));
    assert_eq!(open("/f", 0x4000), Err(EINVAL));
    assert_eq!(open("/f", O_WRONLY | O_RDWR), Err(EINVAL));
    assert_eq!(open("/f", O_CREATE | O_DIRECTORY), Err(EINVAL));
    let f = open("/f", O_CREATE | O_WRONLY).unwrap();
    assert_eq!(
        open("/f", O_CREATE | O_RDWR),
        Ok(f),
        "O_CREATE returns the existing file"
    );
    t.put("/g", b"contents").unwrap();
    assert_eq!(open("/g", O_CREATE | O_RDWR), open("/g", O_RDONLY));
    assert_eq!(
        t.get("/g").unwrap(),
        b"contents",
        "O_CREATE alone keeps the contents"
    );
    open("/g", O_WRONLY | O_TRUNC).unwrap();
    assert_eq!(t.get("/g").unwrap(), b"", "O_TRUNC empties");

    t.fs.mkdir(&t.root, b"/d").unwrap();
    assert!(open("/d", O_RDONLY).is_ok());
    assert!(open("/d", O_RDONLY | O_DIRECTORY).is_ok());
    assert_eq!(open("/d", O_WRONLY), Err(EISDIR));
    assert_eq!(open("/d", O_RDWR), Err(EISDIR));
    assert_eq!(open("/d", O_RDONLY | O_TRUNC), Err(EISDIR));
    assert_eq!(open("/d", O_CREATE | O_RDONLY), Err(EISDIR));
    assert_eq!(open("/", O_CREATE | O_RDONLY), Err(EISDIR));
    assert_eq!(open("/f", O_RDONLY | O_DIRECTORY), Err(ENOTDIR));
    assert_eq!(open("/f/x", O_CREATE | O_RDWR), Err(ENOTDIR));
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn device_nodes() {
    let t = fresh(2000, 200);
    t.fs.mknod(&t.root, b"console", CONSOLE_MAJOR, 0).unwrap();
    assert_eq!(t.fs.mknod(&t.root, b"console", 1, 0), Err(EEXIST));
    let ip =
        t.fs.open_inode(&t.root, b"console", O_CREATE | O_RDWR)
            .unwrap();
    let g = ip.lock().unwrap();
    assert_eq!(
        (g.kind(), g.major(), g.minor(), g.nlink()),
        (T_DEVICE, CONSOLE_MAJOR, 0, 1)
    );
    drop(g);
    // O_TRUNC does not touch a device.
    drop(
        t.fs.open_inode(&t.root, b"console", O_RDWR | O_TRUNC)
            .unwrap(),
    );
    drop(ip);
    assert_eq!(t.fs.create(&t.root, b"x", 7, 0, 0).unwrap_err(), EINVAL);
    t.assert_consistent(false);
}

#[test]
fn data_survives_a_remount() {
    let t = fresh(3000, 200);
    t.fs.mkdir(&t.root, b"dir").unwrap();
    let data = pattern(9, 123_456);
    t.put("/dir/file", &data).unwrap();
    let img = t.image();
    drop(t);
    let t = mount_image(img, NBUF, 64);
    assert_eq!(t.get("/dir/file").unwrap(), data);
    assert_eq!(t.fs.mount_info(), Default::default());
    t.assert_consistent(false);
}

#[test]
fn device_errors_surface_as_eio() {
    /// A disk whose reads of one block fail.
    struct Flaky(RamDisk, u32);
    impl BlockDevice for Flaky {
        fn read_block(&self, b: u32, buf: &mut [u8; BSIZE]) -> Result<(), Errno> {
            if b == self.1 {
                return Err(EIO);
            }
            self.0.read_block(b, buf)
        }
        fn write_block(&self, b: u32, buf: &[u8; BSIZE]) -> Result<(), Errno> {
            self.0.write_block(b, buf)
        }
        fn block_count(&self) -> u32 {
            self.0.block_count()
        }
    }
    let t = fresh(2000, 200);
    t.put("/f", &pattern(2, 3000)).unwrap();
    let ip = t.fs.namei(&t.root, b"/f").unwrap();
    let second = {
        // The file's second block: read it through the inode's address.
        let img = t.image();
        let sb = t.fs.superblock();
        let off =
            inode_block(ip.inum(), &sb) as usize * BSIZE + (ip.inum() as usize % IPB) * DINODE_SIZE;
        Dinode::from_bytes(&img[off..off + DINODE_SIZE]).addrs[1]
    };
    drop(ip);
    let img = t.image();
    drop(t);
    let disk = Arc::new(Flaky(RamDisk::from_bytes(img).unwrap(), second));
    let fs = FileSystem::mount(disk, NBUF).unwrap();
    let root = fs.root().unwrap();
    let ip = fs.namei(&root, b"f").unwrap();
    let mut buf = vec![0u8; 3000];
    assert_eq!(
        fs.read_file(&ip, 0, &mut buf),
        Ok(1024),
        "short read up to the bad block"
    );
    assert_eq!(fs.read_file(&ip, 1024, &mut buf), Err(EIO));
}

#[test]
fn corrupt_superblocks_never_panic() {
    let good = formatted_image(2000, 200);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut accepted = 0;
    for _ in 0..300 {
        let mut img = good.clone();
        // Change one to three of the eight fields, to small, nearby or extreme values.
        for _ in 0..1 + next() % 3 {
            let field = (next() % 8) as usize;
            let old = u32::from_le_bytes(
                img[BSIZE + 4 * field..BSIZE + 4 * field + 4]
                    .try_into()
                    .unwrap(),
            );
            let new = match next() % 4 {
                0 => next() as u32,
                1 => old.wrapping_add((next() % 7) as u32).wrapping_sub(3),
                2 => [0, 1, u32::MAX, u32::MAX / 2][(next() % 4) as usize],
                _ => (next() % 3000) as u32,
            };
            img[BSIZE + 4 * field..BSIZE + 4 * field + 4].copy_from_slice(&new.to_le_bytes());
        }
        let disk = Arc::new(RamDisk::from_bytes(img).unwrap());
        if let Ok(fs) = FileSystem::mount(disk, NBUF) {
            // Whatever was accepted must still work.
            let root = fs.root().unwrap();
            let _ = fs.mkdir(&root, b"d");
            let _ = fs.namei(&root, b"d");
            accepted += 1;
        }
    }
    // Changes that keep the layout valid (the same value, or an unused field) mount.
    assert!(accepted > 0 && accepted < 300, "{accepted} of 300 accepted");
}
