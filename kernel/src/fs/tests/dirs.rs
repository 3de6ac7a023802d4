//! Directory operations, link counts and their errors.

use berth_abi::errno::Errno::*;
use berth_abi::fcntl::*;
use berth_abi::fs::*;

use super::*;

#[test]
fn link_counts_follow_the_rule() {
    let t = fresh(2000, 200);
    t.fs.mkdir(&t.root, b"/a").unwrap();
    assert_eq!((t.nlink("/"), t.nlink("/a")), (2, 1));
    t.fs.mkdir(&t.root, b"/a/b").unwrap();
    t.fs.mkdir(&t.root, b"/a/c").unwrap();
    assert_eq!((t.nlink("/a"), t.nlink("/a/b")), (3, 1));
    t.put("/a/f", b"x").unwrap();
    assert_eq!(t.nlink("/a"), 3, "a file does not count for its directory");
    t.fs.link(&t.root, b"/a/f", b"/g").unwrap();
    t.fs.link(&t.root, b"/g", b"/a/b/h").unwrap();
    assert_eq!(t.nlink("/a/f"), 3);
    t.assert_consistent(false);
    t.fs.unlink(&t.root, b"/a/f").unwrap();
    assert_eq!(t.nlink("/g"), 2);
    assert_eq!(t.get("/a/b/h").unwrap(), b"x");
    t.fs.unlink(&t.root, b"/a/c").unwrap();
    assert_eq!(t.nlink("/a"), 2);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn creation_errors() {
    let t = fresh(2000, 200);
    t.fs.mkdir(&t.root, b"/a").unwrap();
    t.put("/a/f", b"").unwrap();
    assert_eq!(t.fs.mkdir(&t.root, b"/a"), Err(EEXIST));
    assert_eq!(t.fs.mkdir(&t.root, b"/a/f"), Err(EEXIST));
    assert_eq!(t.fs.mkdir(&t.root, b"/"), Err(EEXIST));
    assert_eq!(t.fs.mkdir(&t.root, b"/a/."), Err(EEXIST));
    assert_eq!(t.fs.mkdir(&t.root, b"/a/.."), Err(EEXIST));
    assert_eq!(t.fs.mknod(&t.root, b"/a", 1, 0), Err(EEXIST));
    assert_eq!(t.fs.mkdir(&t.root, b"/nope/x"), Err(ENOENT));
    assert_eq!(t.fs.mkdir(&t.root, b"/a/f/x"), Err(ENOTDIR));
    assert_eq!(t.fs.mkdir(&t.root, b""), Err(ENOENT));
    assert_eq!(
        t.fs.mkdir(&t.root, b"/a/abcdefghijklmno"),
        Err(ENAMETOOLONG)
    );
    // Exactly DIRSIZ bytes fits, with no terminator on disk.
    t.put("/a/abcdefghijklmn", b"14").unwrap();
    assert_eq!(t.get("/a/abcdefghijklmn").unwrap(), b"14");
    assert_eq!(t.get("/a/abcdefghijklm"), Err(ENOENT), "no prefix match");
    assert_eq!(t.get("/a/abcdefghijklmnX"), Err(ENAMETOOLONG));
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn unlink_rules_and_errors() {
    let t = fresh(2000, 200);
    t.fs.mkdir(&t.root, b"/d").unwrap();
    t.fs.mkdir(&t.root, b"/d/e").unwrap();
    t.put("/d/e/f", b"data").unwrap();
    assert_eq!(t.fs.unlink(&t.root, b"/d/."), Err(EINVAL));
    assert_eq!(t.fs.unlink(&t.root, b"/d/.."), Err(EINVAL));
    assert_eq!(t.fs.unlink(&t.root, b"."), Err(EINVAL));
    assert_eq!(t.fs.unlink(&t.root, b"/"), Err(EBUSY));
    assert_eq!(t.fs.unlink(&t.root, b"/d/e"), Err(ENOTEMPTY));
    assert_eq!(t.fs.unlink(&t.root, b"/d/x"), Err(ENOENT));
    assert_eq!(t.fs.unlink(&t.root, b"/d/e/f/g"), Err(ENOTDIR));
    t.assert_consistent(false);
    let free = (t.free_blocks(), t.free_inodes());
    t.fs.unlink(&t.root, b"/d/e/f").unwrap();
    t.fs.unlink(&t.root, b"/d/e").unwrap(); // empty directories go too, like xv6
    assert_eq!(t.nlink("/d"), 1);
    assert_eq!(t.get("/d/e"), Err(ENOENT));
    let (fb, fi) = (t.free_blocks(), t.free_inodes());
    assert_eq!(
        (fb - free.0, fi - free.1),
        (2, 2),
        "file and directory blocks and inodes freed"
    );
    t.fs.unlink(&t.root, b"/d").unwrap();
    assert_eq!(t.nlink("/"), 1);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn link_errors() {
    let t = fresh(2000, 200);
    t.fs.mkdir(&t.root, b"/d").unwrap();
    t.put("/f", b"1").unwrap();
    t.put("/g", b"2").unwrap();
    assert_eq!(t.fs.link(&t.root, b"/d", b"/d2"), Err(EPERM));
    assert_eq!(t.fs.link(&t.root, b"/f", b"/g"), Err(EEXIST));
    assert_eq!(t.fs.link(&t.root, b"/f", b"/d/."), Err(EEXIST));
    assert_eq!(t.fs.link(&t.root, b"/f", b"/"), Err(EEXIST));
    assert_eq!(t.fs.link(&t.root, b"/none", b"/h"), Err(ENOENT));
    assert_eq!(t.fs.link(&t.root, b"/f", b"/none/h"), Err(ENOENT));
    assert_eq!(t.fs.link(&t.root, b"/f", b"/g/h"), Err(ENOTDIR));
    assert_eq!(
        t.fs.link(&t.root, b"/f", b"/d/abcdefghijklmnopq"),
        Err(ENAMETOOLONG)
    );
    assert_eq!(t.nlink("/f"), 1, "failed links leave the count alone");
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn free_slots_are_reused_and_big_directories_work() {
    let t = fresh(3000, 1000);
    t.fs.mkdir(&t.root, b"/big").unwrap();
    for i in 0..800 {
        t.put(&format!("/big/file{i}"), format!("{i}").as_bytes())
            .unwrap();
    }
    let size =
        t.fs.stat(&t.fs.namei(&t.root, b"/big").unwrap())
            .unwrap()
            .size;
    assert_eq!(size, 802 * DIRENT_SIZE as u64);
    assert!(size > (NDIRECT * BSIZE) as u64, "spans the indirect block");
    for i in (0..800).step_by(7) {
        assert_eq!(
            t.get(&format!("/big/file{i}")).unwrap(),
            format!("{i}").as_bytes()
        );
    }
    for i in 0..400 {
        t.fs.unlink(&t.root, format!("/big/file{i}").as_bytes())
            .unwrap();
    }
    for i in 0..400 {
        t.put(&format!("/big/new{i}"), b"n").unwrap();
    }
    let again =
        t.fs.stat(&t.fs.namei(&t.root, b"/big").unwrap())
            .unwrap()
            .size;
    assert_eq!(again, size, "freed entries were reused");
    assert_eq!(t.fs.unlink(&t.root, b"/big"), Err(ENOTEMPTY));
    t.assert_consistent(false);
    for i in 0..400 {
        t.fs.unlink(&t.root, format!("/big/new{i}").as_bytes())
            .unwrap();
        t.fs.unlink(&t.root, format!("/big/file{}", 400 + i).as_bytes())
            .unwrap();
    }
    t.fs.unlink(&t.root, b"/big").unwrap();
    t.assert_consistent(false);
    assert_eq!(
        t.free_inodes(),
        1000 - 3,
        "all but 0, the root and the layer area"
    );
    t.assert_quiet();
}

#[test]
fn chdir_and_relative_paths() {
    let t = fresh(2000, 200);
    t.fs.mkdir(&t.root, b"/a").unwrap();
    t.fs.mkdir(&t.root, b"/a/b").unwrap();
    t.put("/a/b/f", b"deep").unwrap();
    assert_eq!(t.fs.chdir_lookup(&t.root, b"/a/b/f").unwrap_err(), ENOTDIR);
    assert_eq!(t.fs.chdir_lookup(&t.root, b"/zz").unwrap_err(), ENOENT);
    let cwd = t.fs.chdir_lookup(&t.root, b"a/b").unwrap();
    let ip = t.fs.open_inode(&cwd, b"f", O_RDONLY).unwrap();
    assert_eq!(read_all(&t.fs, &ip).unwrap(), b"deep");
    let up = t.fs.chdir_lookup(&cwd, b"..").unwrap();
    t.fs.mkdir(&up, b"c").unwrap();
    assert!(t.fs.namei(&t.root, b"/a/c").is_ok());
    drop((ip, up, cwd));
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn removed_directory_accepts_no_new_entries() {
    let t = fresh(2000, 200);
    t.fs.mkdir(&t.root, b"/gone").unwrap();
    let cwd = t.fs.chdir_lookup(&t.root, b"/gone").unwrap();
    t.fs.unlink(&t.root, b"/gone").unwrap();
    assert_eq!(
        t.fs.open_inode(&cwd, b"x", O_CREATE | O_RDWR).unwrap_err(),
        ENOENT
    );
    assert_eq!(t.fs.mkdir(&cwd, b"y"), Err(ENOENT));
    t.put("/f", b"f").unwrap();
    assert_eq!(t.fs.link(&t.root, b"/f", b"/gone/f"), Err(ENOENT));
    assert_eq!(t.fs.stat(&cwd).unwrap().nlink, 0);
    t.assert_consistent(true);
    let inodes = t.free_inodes();
    drop(cwd); // the last reference: the directory is freed now
    assert_eq!(t.free_inodes(), inodes + 1);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn open_unlinked_file_lives_until_the_last_reference() {
    let t = fresh(2000, 200);
    let before = (t.free_blocks(), t.free_inodes());
    let data = pattern(5, 50_000);
    t.put("/tmp", &data).unwrap();
    let ip = t.fs.open_inode(&t.root, b"/tmp", O_RDWR).unwrap();
    let other = ip.clone();
    t.fs.unlink(&t.root, b"/tmp").unwrap();
    assert_eq!(t.get("/tmp"), Err(ENOENT));
    assert_eq!(read_all(&t.fs, &ip).unwrap(), data);
    assert_eq!(t.fs.write_file(&ip, 50_000, b"more"), Ok(4));
    assert_eq!(t.fs.stat(&ip).unwrap().nlink, 0);
    t.assert_consistent(true);
    assert!(t.free_blocks() < before.0);
    drop(ip);
    assert!(t.free_blocks() < before.0, "another reference remains");
    drop(other);
    assert_eq!((t.free_blocks(), t.free_inodes()), before);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn orphans_are_freed_at_mount() {
    let t = fresh(2000, 200);
    let before = (t.free_blocks(), t.free_inodes());
    t.put("/keep", b"k").unwrap();
    let kept = (t.free_blocks(), t.free_inodes());
    t.put("/tmp", &pattern(6, 300_000)).unwrap();
    let ip = t.fs.open_inode(&t.root, b"/tmp", O_RDWR).unwrap();
    t.fs.unlink(&t.root, b"/tmp").unwrap();
    // "Crash" with the file open: the image holds an orphan.
    let img = t.image();
    assert!(check::check_image(&img, true).is_empty());
    assert!(
        !check::check_image(&img, false).is_empty(),
        "the orphan is visible"
    );
    drop(ip);
    drop(t);
    let t = mount_image(img, NBUF, 64);
    assert_eq!(t.fs.mount_info().orphans_freed, 1);
    assert_eq!((t.free_blocks(), t.free_inodes()), kept);
    assert!(kept.0 < before.0);
    t.assert_consistent(false);
}

#[test]
#[should_panic(expected = "inode reference dropped inside an operation")]
fn dropping_a_reference_inside_an_operation_is_caught_in_tests() {
    let t = fresh(2000, 200);
    let ip = t.fs.root().unwrap();
    let _tx = t.fs.fs.begin_op().unwrap();
    drop(ip);
}

#[test]
#[should_panic(expected = "operation begun while holding an inode lock")]
fn beginning_an_operation_under_an_inode_lock_is_caught_in_tests() {
    let t = fresh(2000, 200);
    let _g = t.root.lock().unwrap();
    let _tx = t.fs.fs.begin_op();
}
