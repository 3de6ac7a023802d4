//! The `fsck` command line: output lines and exit statuses.

use berth_abi::fs::{SuperBlock, BPB, BSIZE, ROOTINO};
use berth_mkfs::Builder;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fsck-cli-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn fsck(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_fsck"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// An image with two files, and the inode number of `b`.
fn image() -> (Vec<u8>, u32) {
    let mut b = Builder::new(2048, 64).unwrap();
    b.add_file(ROOTINO, b"a", vec![1; 3000]).unwrap();
    let f = b.add_file(ROOTINO, b"b", vec![2; 10]).unwrap();
    (b.finish().unwrap(), f)
}

fn sb(img: &[u8]) -> SuperBlock {
    SuperBlock::from_bytes(&img[BSIZE..]).unwrap()
}

#[test]
fn clean_image() {
    let dir = scratch("clean");
    fs::write(dir.join("fs.img"), image().0).unwrap();
    let (code, out, _) = fsck(&dir, &["fs.img"]);
    assert_eq!(code, Some(0));
    // Root (1 block), layer area (1 block), a (3 blocks), b (1 block).
    assert_eq!(
        out,
        "fsck: fs.img: clean (4 inodes in use, 6 data blocks in use)\n"
    );
}

#[test]
fn damaged_image_lists_problems() {
    let dir = scratch("damaged");
    let (mut img, _) = image();
    let s = sb(&img);
    // Mark the last block in use, and clear the bitmap bit of the first data block (the root's).
    let last = (s.size - 1) as usize;
    let bmap = s.bmapstart as usize * BSIZE;
    img[bmap + last % BPB / 8] |= 1 << (last % 8);
    let first = s.data_start() as usize;
    img[bmap + first / 8] &= !(1 << (first % 8));
    fs::write(dir.join("fs.img"), &img).unwrap();
    let (code, out, _) = fsck(&dir, &["fs.img"]);
    assert_eq!(code, Some(1), "{out}");
    let lines: Vec<_> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(
        lines[0],
        format!("fsck: fs.img: block {first} in use by inodes but free in the bitmap")
    );
    assert_eq!(
        lines[1],
        format!("fsck: fs.img: leaked block {last}: marked in use in the bitmap, used by no inode")
    );
    assert_eq!(lines[2], "fsck: fs.img: 2 problems found");
}

#[test]
fn truncated_and_garbage_images() {
    let dir = scratch("truncated");
    let (img, _) = image();
    fs::write(dir.join("short.img"), &img[..100_000]).unwrap();
    let (code, out, _) = fsck(&dir, &["short.img"]);
    assert_eq!(code, Some(1));
    assert!(
        out.starts_with("fsck: short.img: image is 100000 bytes, superblock says 2048 blocks"),
        "{out}"
    );

    fs::write(dir.join("junk.img"), vec![0x5a; 8192]).unwrap();
    let (code, out, _) = fsck(&dir, &["junk.img"]);
    assert_eq!(code, Some(1));
    assert!(out.starts_with("fsck: junk.img: bad magic"), "{out}");
}

#[test]
fn orphan_warning_keeps_image_clean() {
    let dir = scratch("orphan");
    let (mut img, f) = image();
    let s = sb(&img);
    // Remove b's entry (slot 3 of the root's one block) and drop its link count.
    let root_block = {
        let off = s.inodestart as usize * BSIZE + ROOTINO as usize * 64;
        u32::from_le_bytes(img[off + 12..off + 16].try_into().unwrap()) as usize
    };
    img[root_block * BSIZE + 3 * 16..root_block * BSIZE + 4 * 16].fill(0);
    let ioff = s.inodestart as usize * BSIZE + f as usize * 64;
    img[ioff + 6..ioff + 8].fill(0);
    fs::write(dir.join("fs.img"), &img).unwrap();
    let (code, out, _) = fsck(&dir, &["fs.img"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains(&format!(
            "warning: orphan inode {f} (file, nlink 0, no name), the kernel frees it at mount"
        )),
        "{out}"
    );
    assert!(
        out.lines()
            .last()
            .unwrap()
            .contains("clean (4 inodes in use"),
        "{out}"
    );
}

#[test]
fn says_when_it_replayed_the_log() {
    let dir = scratch("log");
    let (mut img, _) = image();
    let s = sb(&img);
    // A committed transaction rewriting the bitmap block with itself.
    let bmap = s.bmapstart as usize;
    let copy = img[bmap * BSIZE..(bmap + 1) * BSIZE].to_vec();
    let log = s.logstart as usize * BSIZE;
    img[log..log + 4].copy_from_slice(&1u32.to_le_bytes());
    img[log + 4..log + 8].copy_from_slice(&(bmap as u32).to_le_bytes());
    img[log + BSIZE..log + 2 * BSIZE].copy_from_slice(&copy);
    fs::write(dir.join("fs.img"), &img).unwrap();
    let (code, out, _) = fsck(&dir, &["fs.img"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.starts_with("fsck: fs.img: replayed a committed log of 1 block in memory"),
        "{out}"
    );
}

#[test]
fn usage_and_unreadable_files_exit_2() {
    let dir = scratch("usage");
    let (code, _, err) = fsck(&dir, &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("Usage: fsck <fs.img>"), "{err}");
    let (code, _, err) = fsck(&dir, &["a.img", "b.img"]);
    assert_eq!(code, Some(2), "{err}");
    let (code, _, err) = fsck(&dir, &["--bogus", "a.img"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.starts_with("error: unexpected argument '--bogus'"),
        "{err}"
    );
    let (code, _, err) = fsck(&dir, &["missing.img"]);
    assert_eq!(code, Some(2));
    assert!(err.starts_with("fsck: cannot read 'missing.img'"), "{err}");
    let (code, out, _) = fsck(&dir, &["--help"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("Usage: fsck <fs.img>"), "{out}");
    let (code, out, _) = fsck(&dir, &["--version"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("fsck "), "{out}");
}

/// The tree walk lists every path, and the diff names what changed.
#[test]
fn tree_and_tree_diff() {
    let before = image().0;
    let mut b = Builder::new(2048, 64).unwrap();
    b.add_file(ROOTINO, b"a", vec![1; 100]).unwrap();
    b.add_file(ROOTINO, b"c", vec![3; 10]).unwrap();
    let after = b.finish().unwrap();
    let t0 = berth_fsck::Image::open(&before).unwrap().tree().unwrap();
    let t1 = berth_fsck::Image::open(&after).unwrap().tree().unwrap();
    assert_eq!(t0.keys().collect::<Vec<_>>(), ["/", "/a", "/b"]);
    assert_eq!(t0["/a"].size, 3000);
    let diff = berth_fsck::tree_diff(&t0, &t1);
    assert_eq!(diff.len(), 3, "{diff:?}");
    assert!(diff[0].starts_with("/a: kind 2 size 100 "), "{diff:?}");
    assert!(diff[1].starts_with("/b: gone (was 10 bytes"), "{diff:?}");
    assert!(diff[2].starts_with("/c: new (10 bytes"), "{diff:?}");
    assert!(berth_fsck::tree_diff(&t0, &t0).is_empty());
}
