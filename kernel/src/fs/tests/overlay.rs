//! The overlay's rules on a RAM disk: copy-up, whiteouts, opaque
//! directories, merged reads, confinement of paths, links, and removal of
//! layers (by `destroy` and at mount). Every image is checked by `check.rs`.

use std::string::String;
use std::vec::Vec;

use berth_abi::errno::Errno::{self, *};
use berth_abi::fcntl::*;
use berth_abi::fs::*;

use super::*;
use crate::fs::overlay::{Layer, OvPath};

pub fn root() -> OvPath {
    Layer::root_path()
}

/// The whole file `path` in the view.
pub fn vget(l: &Layer, path: &str) -> Result<Vec<u8>, Errno> {
    let (ip, _) = l.open(&root(), path.as_bytes(), O_RDONLY)?;
    read_all(l.file_system(), &ip)
}

/// Creates or truncates `path` in the view and writes `data`.
pub fn vput(l: &Layer, path: &str, data: &[u8]) -> Result<(), Errno> {
    let (ip, _) = l.open(&root(), path.as_bytes(), O_CREATE | O_WRONLY | O_TRUNC)?;
    assert_eq!(l.file_system().write_file(&ip, 0, data)?, data.len());
    Ok(())
}

/// The names `read_dir` gives, in order.
pub fn names(l: &Layer, path: &str) -> Vec<String> {
    let p = l.resolve(&root(), path.as_bytes()).unwrap();
    l.read_dir(&p)
        .unwrap()
        .iter()
        .map(|d| String::from_utf8_lossy(d.name_bytes()).into_owned())
        .collect()
}

fn host() -> TestFs {
    let t = fresh(4000, 300);
    t.fs.mkdir(&t.root, b"/etc").unwrap();
    t.put("/etc/motd", b"hello from the host").unwrap();
    t.put("/my_file", &pattern(1, 30_000)).unwrap();
    t.fs.mkdir(&t.root, b"/d").unwrap();
    t.fs.mkdir(&t.root, b"/d/sub").unwrap();
    t.put("/d/a", b"a").unwrap();
    t.put("/d/sub/b", b"b").unwrap();
    t
}

#[test]
fn copy_up_on_write_leaves_the_host_and_other_layers_alone() {
    let t = host();
    let (c1, c2) = (
        t.fs.create_layer(b"c1").unwrap(),
        t.fs.create_layer(b"c2").unwrap(),
    );
    let host_ino = t.fs.namei(&t.root, b"/my_file").unwrap().inum();
    // Reading is from the lower inode.
    assert_eq!(c1.namei(&root(), b"/my_file").unwrap().inum(), host_ino);
    assert_eq!(vget(&c1, "/my_file").unwrap(), pattern(1, 30_000));

    // Opening for writing copies up: content identical, new inode.
    let (ip, p) = c1.open(&root(), b"my_file", O_WRONLY).unwrap();
    assert_eq!(p.to_bytes(), b"/my_file");
    assert_ne!(ip.inum(), host_ino);
    assert_eq!(read_all(&t.fs, &ip).unwrap(), pattern(1, 30_000));
    t.fs.write_file(&ip, 0, b"Modified by: 1").unwrap();
    drop(ip);
    let mut want = pattern(1, 30_000);
    want[..14].copy_from_slice(b"Modified by: 1");
    assert_eq!(vget(&c1, "/my_file").unwrap(), want);
    assert_eq!(
        t.get("/my_file").unwrap(),
        pattern(1, 30_000),
        "host unchanged"
    );
    assert_eq!(
        vget(&c2, "/my_file").unwrap(),
        pattern(1, 30_000),
        "c2 unchanged"
    );

    // The second container copies up on its own.
    vput(&c2, "/my_file", b"Modified by: 2").unwrap();
    assert_eq!(vget(&c2, "/my_file").unwrap(), b"Modified by: 2");
    assert_eq!(vget(&c1, "/my_file").unwrap(), want);
    // O_TRUNC copies up without the bytes.
    let (ip, _) = c1.open(&root(), b"/etc/motd", O_RDONLY | O_TRUNC).unwrap();
    assert_eq!(t.fs.stat(&ip).unwrap().size, 0);
    drop(ip);
    assert_eq!(t.get("/etc/motd").unwrap(), b"hello from the host");
    // A copy-up of a file copies its directories up (not their entries).
    assert_eq!(names(&c1, "/etc"), [".", "..", "motd"]);
    // Lower is live: a host change to a name not copied up shows.
    t.put("/d/a", b"changed on the host").unwrap();
    assert_eq!(vget(&c1, "/d/a").unwrap(), b"changed on the host");
    drop((c1, c2));
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn open_flags_and_errors_match_open_inode() {
    let t = host();
    let l = t.fs.create_layer(b"c").unwrap();
    let r = &root();
    assert_eq!(l.open(r, b"/d", O_WRONLY).unwrap_err(), EISDIR);
    assert_eq!(l.open(r, b"/d", O_RDONLY | O_TRUNC).unwrap_err(), EISDIR);
    assert_eq!(l.open(r, b"/d", O_CREATE | O_RDWR).unwrap_err(), EISDIR);
    assert_eq!(l.open(r, b"/", O_CREATE).unwrap_err(), EISDIR);
    assert_eq!(l.open(r, b"/d/a", O_DIRECTORY).unwrap_err(), ENOTDIR);
    assert_eq!(l.open(r, b"/d/a", O_WRONLY | O_RDWR).unwrap_err(), EINVAL);
    assert_eq!(
        l.open(r, b"/d", O_CREATE | O_DIRECTORY).unwrap_err(),
        EINVAL
    );
    assert_eq!(l.open(r, b"/d/a", 1 << 30).unwrap_err(), EINVAL);
    assert_eq!(l.open(r, b"/nope", O_RDONLY).unwrap_err(), ENOENT);
    assert_eq!(l.open(r, b"/nope/x", O_CREATE).unwrap_err(), ENOENT);
    assert_eq!(l.open(r, b"/d/a/x", O_CREATE).unwrap_err(), ENOTDIR);
    assert_eq!(l.open(r, b"/d/a/x", O_RDONLY).unwrap_err(), ENOTDIR);
    assert_eq!(l.open(r, b"", O_RDONLY).unwrap_err(), ENOENT);
    assert_eq!(
        l.open(r, b"/d/abcdefghijklmno", O_CREATE).unwrap_err(),
        ENAMETOOLONG
    );
    let long = [b'a'; MAXPATH];
    assert_eq!(l.open(r, &long, O_RDONLY).unwrap_err(), ENAMETOOLONG);
    // O_DIRECTORY on a directory, O_CREATE of an existing file.
    l.open(r, b"/d", O_DIRECTORY).unwrap();
    let (ip, _) = l.open(r, b"/d/a", O_CREATE).unwrap();
    assert_eq!(
        ip.inum(),
        t.fs.namei(&t.root, b"/d/a").unwrap().inum(),
        "no copy-up"
    );
    drop(ip);
    // chdir and relative paths.
    let cwd = l.chdir_lookup(r, b"/d/sub").unwrap();
    assert_eq!(l.chdir_lookup(r, b"/d/a").unwrap_err(), ENOTDIR);
    assert_eq!(vget(&l, "/d/sub/b").unwrap(), b"b");
    let (ip, p) = l.open(&cwd, b"../a", O_RDONLY).unwrap();
    assert_eq!(
        (ip.inum(), p.to_bytes()),
        (
            t.fs.namei(&t.root, b"/d/a").unwrap().inum(),
            b"/d/a".to_vec()
        )
    );
    drop(ip);
    let (ip, _) = l.open(&cwd, b"new", O_CREATE | O_RDWR).unwrap();
    t.fs.write_file(&ip, 0, b"made in sub").unwrap();
    drop(ip);
    assert_eq!(vget(&l, "/d/sub/new").unwrap(), b"made in sub");
    assert_eq!(t.fs.namei(&t.root, b"/d/sub/new").unwrap_err(), ENOENT);
    // mknod cannot forge a whiteout, through the view or on the host.
    assert_eq!(l.mknod(r, b"/d/w", WHITEOUT_MAJOR, 0), Err(EINVAL));
    assert_eq!(t.fs.mknod(&t.root, b"/w", WHITEOUT_MAJOR, 0), Err(EINVAL));
    l.mknod(r, b"/d/console", 1, 0).unwrap();
    assert_eq!(
        t.fs.stat(&l.stat(r, b"/d/console").unwrap()).unwrap().kind,
        T_DEVICE
    );
    drop(l);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn whiteouts_hide_deleted_lower_names() {
    let t = host();
    let l = t.fs.create_layer(b"c").unwrap();
    let r = &root();
    let free_inodes = t.free_inodes();
    l.unlink(r, b"/d/a").unwrap();
    l.unlink(r, b"/etc/motd").unwrap();
    assert_eq!(
        t.free_inodes(),
        free_inodes - 2,
        "/d and /etc were copied up: whiteouts cost no inode"
    );
    assert_eq!(vget(&l, "/d/a"), Err(ENOENT));
    assert_eq!(l.stat(r, b"/d/a").unwrap_err(), ENOENT);
    assert_eq!(l.unlink(r, b"/d/a"), Err(ENOENT));
    assert_eq!(l.open(r, b"/d/a/x", O_RDONLY).unwrap_err(), ENOENT);
    assert_eq!(t.get("/d/a").unwrap(), b"a", "still on the host");
    assert_eq!(names(&l, "/d"), [".", "..", "sub"]);
    assert_eq!(names(&l, "/etc"), [".", ".."]);
    // Re-create after delete: a new file, not the old one.
    vput(&l, "/d/a", b"again").unwrap();
    assert_eq!(vget(&l, "/d/a").unwrap(), b"again");
    assert_eq!(names(&l, "/d"), [".", "..", "a", "sub"]);
    // Delete the copy: the whiteout comes back.
    l.unlink(r, b"/d/a").unwrap();
    assert_eq!(vget(&l, "/d/a"), Err(ENOENT));
    // A name only the upper layer has leaves no whiteout.
    vput(&l, "/d/mine", b"x").unwrap();
    l.unlink(r, b"/d/mine").unwrap();
    assert_eq!(
        l.diff().unwrap(),
        [
            (b'C', b"/d".to_vec()),
            (b'D', b"/d/a".to_vec()),
            (b'C', b"/etc".to_vec()),
            (b'D', b"/etc/motd".to_vec()),
        ]
    );
    // Errors as FileSystem::unlink's.
    assert_eq!(l.unlink(r, b"/"), Err(EBUSY));
    assert_eq!(l.unlink(r, b"/.."), Err(EINVAL));
    assert_eq!(l.unlink(r, b"/d/."), Err(EINVAL));
    assert_eq!(l.unlink(r, b"/d"), Err(ENOTEMPTY));
    assert_eq!(l.unlink(r, b"/d/sub/b/c"), Err(ENOTDIR));
    drop(l);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn removed_and_remade_directories_are_opaque() {
    let t = host();
    let l = t.fs.create_layer(b"c").unwrap();
    let r = &root();
    assert_eq!(l.unlink(r, b"/d/sub"), Err(ENOTEMPTY));
    l.unlink(r, b"/d/sub/b").unwrap();
    // Empty in the merged view, though its upper copy holds a whiteout.
    assert_eq!(names(&l, "/d/sub"), [".", ".."]);
    l.unlink(r, b"/d/sub").unwrap();
    assert_eq!(l.stat(r, b"/d/sub").unwrap_err(), ENOENT);
    assert_eq!(names(&l, "/d"), [".", "..", "a"]);
    l.mkdir(r, b"/d/sub").unwrap();
    assert_eq!(
        names(&l, "/d/sub"),
        [".", ".."],
        "opaque: the lower b stays hidden"
    );
    assert_eq!(vget(&l, "/d/sub/b"), Err(ENOENT));
    vput(&l, "/d/sub/n", b"n").unwrap();
    assert_eq!(names(&l, "/d/sub"), [".", "..", "n"]);
    // Deleting in an opaque directory leaves no whiteout (nothing below shows).
    l.unlink(r, b"/d/sub/n").unwrap();
    assert_eq!(
        l.diff().unwrap(),
        [(b'C', b"/d".to_vec()), (b'C', b"/d/sub".to_vec())]
    );
    // A whole lower tree removed through the view, then made again.
    l.unlink(r, b"/d/sub").unwrap();
    l.unlink(r, b"/d/a").unwrap();
    l.unlink(r, b"/d").unwrap();
    assert_eq!(names(&l, "/"), [".", "..", "etc", "my_file"]);
    l.mkdir(r, b"/d").unwrap();
    assert_eq!(names(&l, "/d"), [".", ".."]);
    assert_eq!(l.mkdir(r, b"/d"), Err(EEXIST));
    assert_eq!(l.mkdir(r, b"/d/."), Err(EEXIST));
    assert_eq!(l.mkdir(r, b"/"), Err(EEXIST));
    assert_eq!(l.mkdir(r, b"/etc/motd"), Err(EEXIST));
    assert_eq!(l.mkdir(r, b"/x/y"), Err(ENOENT));
    // The host still has it all.
    assert_eq!(t.get("/d/sub/b").unwrap(), b"b");
    drop(l);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn merged_listing_upper_first_no_duplicates() {
    let t = host();
    t.put("/d/c", b"lower only").unwrap();
    let l = t.fs.create_layer(b"c").unwrap();
    let r = &root();
    vput(&l, "/d/zz", b"new").unwrap();
    vput(&l, "/d/a", b"shadowing").unwrap(); // copies up a
    l.unlink(r, b"/d/sub/b").unwrap();
    let p = l.resolve(r, b"/d").unwrap();
    let list = l.read_dir(&p).unwrap();
    let shown: Vec<_> = list.iter().map(|d| d.name_bytes().to_vec()).collect();
    assert_eq!(shown, [&b"."[..], b"..", b"zz", b"a", b"sub", b"c"]);
    // Inode numbers: a directory merged over a host one shows the host
    // one's (`.` is the host /d though /d was copied up, `..` is the root,
    // inode 1, as `stat` reports them); a file its own (c the lower one,
    // a the upper copy).
    let upper_d = l.namei(r, b"/d").unwrap().inum();
    let lower_d = t.fs.namei(&t.root, b"/d").unwrap().inum();
    assert_ne!(upper_d, lower_d);
    assert_eq!(list[0].inum as u32, lower_d);
    assert_eq!(l.stat_ino(&p).unwrap(), lower_d);
    assert_eq!(list[1].inum as u32, berth_abi::fs::ROOTINO);
    assert_eq!(
        list[5].inum as u32,
        t.fs.namei(&t.root, b"/d/c").unwrap().inum()
    );
    assert_eq!(
        list[4].inum as u32,
        t.fs.namei(&t.root, b"/d/sub").unwrap().inum()
    );
    assert_eq!(list[3].inum as u32, l.namei(r, b"/d/a").unwrap().inum());
    assert_eq!(
        l.read_dir(&l.resolve(r, b"/d/a").unwrap()).unwrap_err(),
        ENOTDIR
    );
    // The root: "." and ".." are the upper root.
    let top = l.read_dir(&root()).unwrap();
    assert_eq!(top[0].inum, top[1].inum);
    assert_eq!(names(&l, "/"), [".", "..", "d", "etc", "my_file"]);
    assert_eq!(
        l.diff().unwrap(),
        [
            (b'C', b"/d".to_vec()),
            (b'C', b"/d/a".to_vec()),
            (b'C', b"/d/sub".to_vec()),
            (b'D', b"/d/sub/b".to_vec()),
            (b'A', b"/d/zz".to_vec()),
        ]
    );
    drop(l);
    t.assert_quiet();
}

#[test]
fn no_path_leaves_the_view() {
    let t = host();
    let c1 = t.fs.create_layer(b"c1").unwrap();
    let c2 = t.fs.create_layer(b"c2").unwrap();
    vput(&c1, "/secret", b"c1 only").unwrap();
    let r = &root();
    let view_root = c2.namei(r, b"/").unwrap().inum();
    for p in [
        &b"/.."[..],
        b"../../..",
        b"/../../../../..",
        b"..",
        b"/d/../../..",
        b"/d/sub/../../../../../../..",
        b"./../.././../",
    ] {
        assert_eq!(c2.namei(r, p).unwrap().inum(), view_root, "{p:?}");
        assert_eq!(c2.resolve(r, p).unwrap(), root());
    }
    let deep = c2.chdir_lookup(r, b"/d/sub").unwrap();
    let up: Vec<u8> = b"../".repeat(40);
    assert_eq!(c2.chdir_lookup(&deep, &up).unwrap(), root());
    // The upper tree's root has `..` naming the layer directory on disk: never followed.
    assert_eq!(c2.stat(r, b"/../c1").unwrap_err(), ENOENT);
    assert_eq!(c2.stat(r, b"/../../wh").unwrap_err(), ENOENT);
    assert_eq!(c2.stat(r, b"/../upper").unwrap_err(), ENOENT);
    assert_eq!(vget(&c2, "/../c1/upper/secret"), Err(ENOENT));
    assert_eq!(vget(&c2, "/secret"), Err(ENOENT));
    assert_eq!(vget(&c1, "/secret").unwrap(), b"c1 only");
    // Two layers do not see each other, and the host sees neither.
    vput(&c2, "/file_2", b"2").unwrap();
    assert_eq!(
        names(&c1, "/"),
        [".", "..", "secret", "etc", "my_file", "d"]
    );
    assert_eq!(
        names(&c2, "/"),
        [".", "..", "file_2", "etc", "my_file", "d"]
    );
    assert_eq!(t.fs.namei(&t.root, b"/secret").unwrap_err(), ENOENT);
    // A name that would overflow MAXPATH is refused as fs/path.rs refuses it.
    assert_eq!(c1.resolve(r, &[b'/'; MAXPATH]).unwrap_err(), ENAMETOOLONG);
    assert_eq!(c1.resolve(r, b"").unwrap_err(), ENOENT);
    drop((c1, c2));
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn link_of_a_lower_file_copies_it_up() {
    let t = host();
    let l = t.fs.create_layer(b"c").unwrap();
    let r = &root();
    l.link(r, b"/etc/motd", b"/d/motd2").unwrap();
    let a = l.namei(r, b"/etc/motd").unwrap();
    let b = l.namei(r, b"/d/motd2").unwrap();
    assert_eq!(a.inum(), b.inum());
    assert_ne!(a.inum(), t.fs.namei(&t.root, b"/etc/motd").unwrap().inum());
    assert_eq!(t.fs.stat(&a).unwrap().nlink, 2);
    drop((a, b));
    assert_eq!(vget(&l, "/d/motd2").unwrap(), b"hello from the host");
    assert_eq!(t.nlink("/etc/motd"), 1, "host file untouched");
    assert_eq!(t.fs.namei(&t.root, b"/d/motd2").unwrap_err(), ENOENT);
    // Link over a whiteout, and the errors.
    l.unlink(r, b"/d/a").unwrap();
    l.link(r, b"/my_file", b"/d/a").unwrap();
    assert_eq!(vget(&l, "/d/a").unwrap(), pattern(1, 30_000));
    assert_eq!(l.link(r, b"/d", b"/x"), Err(EPERM));
    assert_eq!(l.link(r, b"/nope", b"/x"), Err(ENOENT));
    assert_eq!(l.link(r, b"/my_file", b"/etc/motd"), Err(EEXIST));
    assert_eq!(l.link(r, b"/my_file", b"/"), Err(EEXIST));
    assert_eq!(l.link(r, b"/my_file", b"/nope/x"), Err(ENOENT));
    drop(l);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn destroy_frees_every_inode_and_block() {
    let t = host();
    let before = (t.free_blocks(), t.free_inodes());
    let l = t.fs.create_layer(b"c").unwrap();
    let r = &root();
    vput(&l, "/my_file", &pattern(5, 300_000)).unwrap(); // copy-up, then a doubly-indirect file
    l.unlink(r, b"/d/sub/b").unwrap();
    l.unlink(r, b"/d/sub").unwrap();
    l.mkdir(r, b"/d/sub").unwrap();
    l.mkdir(r, b"/new").unwrap();
    l.mkdir(r, b"/new/deeper").unwrap();
    vput(&l, "/new/deeper/f", b"f").unwrap();
    l.link(r, b"/new/deeper/f", b"/new/g").unwrap();
    for i in 0..40 {
        vput(&l, &format!("/etc/f{i}"), &pattern(i, 2000)).unwrap();
    }
    for i in 0..40 {
        l.unlink(r, format!("/etc/f{i}").as_bytes()).unwrap();
    }
    l.unlink(r, b"/etc/motd").unwrap();
    t.assert_consistent(false);
    assert!(t.free_blocks() < before.0);
    l.destroy().unwrap();
    assert_eq!((t.free_blocks(), t.free_inodes()), before);
    assert_eq!(t.fs.open_layer(b"c").err(), Some(ENOENT));
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn layers_are_removed_at_mount() {
    let t = host();
    let before = (t.free_blocks(), t.free_inodes());
    for name in [&b"c1"[..], b"c2.17"] {
        let l = t.fs.create_layer(name).unwrap();
        vput(&l, "/my_file", b"changed").unwrap();
        vput(&l, "/etc/new", &pattern(3, 50_000)).unwrap();
        l.unlink(&root(), b"/d/a").unwrap();
    }
    assert_eq!(t.fs.create_layer(b"c1").err(), Some(EEXIST));
    assert_eq!(t.fs.create_layer(b"a/b").err(), Some(EINVAL));
    assert_eq!(t.fs.create_layer(b"..").err(), Some(EINVAL));
    assert_eq!(
        t.fs.create_layer(b"fifteen-chars!!").err(),
        Some(ENAMETOOLONG)
    );
    // An open file of a layer lives on until it is closed.
    let l = t.fs.open_layer(b"c1").unwrap();
    assert_eq!(vget(&l, "/my_file").unwrap(), b"changed");
    drop(l);
    t.assert_consistent(false);
    let img = t.image();
    drop(t);
    let kept = mount_image_keeping(img.clone());
    assert_eq!(kept.fs.mount_info().layers_removed, 0);
    assert!(kept.fs.open_layer(b"c2.17").is_ok());
    drop(kept);
    let t = mount_image(img, NBUF, 64);
    assert_eq!(t.fs.mount_info().layers_removed, 2);
    assert_eq!((t.free_blocks(), t.free_inodes()), before);
    assert_eq!(t.fs.open_layer(b"c1").err(), Some(ENOENT));
    assert_eq!(t.get("/my_file").unwrap(), pattern(1, 30_000));
    t.assert_consistent(false);
    t.assert_quiet();
}

/// Mounts `img` without removing its layers.
pub fn mount_image_keeping(img: Vec<u8>) -> TestFs {
    let disk = std::sync::Arc::new(RamDisk::from_bytes(img).unwrap());
    let fs = crate::fs::FileSystem::mount_keeping_layers(disk.clone(), NBUF, 64).unwrap();
    let root = fs.root().unwrap();
    TestFs { disk, fs, root }
}

#[test]
fn both_checkers_accept_layers_and_name_damage_to_them() {
    let t = host();
    let l = t.fs.create_layer(b"c").unwrap();
    let r = &root();
    l.unlink(r, b"/d/sub/b").unwrap();
    l.unlink(r, b"/d/sub").unwrap();
    l.mkdir(r, b"/d/sub").unwrap(); // opaque
    l.unlink(r, b"/d/a").unwrap(); // whiteout
    vput(&l, "/my_file", b"x").unwrap(); // copy-up
    drop(l);
    let img = t.image();
    assert!(check::check_image(&img, false).is_empty());
    let report = berth_fsck::check_image(&img);
    assert!(report.is_clean(), "{:#?}", report.errors);
    // Damage: the layer area's `..` names the root.
    let sb = SuperBlock::from_bytes(&img[BSIZE..]).unwrap();
    let off =
        inode_block(LAYERS_INO, &sb) as usize * BSIZE + (LAYERS_INO as usize % IPB) * DINODE_SIZE;
    let blk = Dinode::from_bytes(&img[off..off + DINODE_SIZE]).addrs[0] as usize;
    let mut bad = img.clone();
    bad[blk * BSIZE + DIRENT_SIZE..blk * BSIZE + DIRENT_SIZE + 2]
        .copy_from_slice(&(ROOTINO as u16).to_le_bytes());
    assert!(!check::check_image(&bad, false).is_empty());
    assert!(!berth_fsck::check_image(&bad).is_clean());
    // Damage: the root names the layer area.
    let roff = inode_block(ROOTINO, &sb) as usize * BSIZE + (ROOTINO as usize % IPB) * DINODE_SIZE;
    let rblk = Dinode::from_bytes(&img[roff..roff + DINODE_SIZE]).addrs[0] as usize;
    let mut bad = img.clone();
    let slot = rblk * BSIZE + 2 * DIRENT_SIZE; // the first entry after `.` and `..`
    bad[slot..slot + 2].copy_from_slice(&(LAYERS_INO as u16).to_le_bytes());
    let problems = check::check_image(&bad, false);
    assert!(
        problems.iter().any(|p| p.contains("names the layer area")),
        "{problems:?}"
    );
    assert!(berth_fsck::check_image(&bad)
        .errors
        .iter()
        .any(|p| matches!(p, berth_fsck::Problem::LayersLinked { .. })));
    t.assert_quiet();
}
