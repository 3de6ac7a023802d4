//! The `mkfs` command line: what it writes, that every runtime failure is
//! one line on stderr, exit status 1, and no image (old image untouched),
//! and that usage errors are clap's (exit status 2, no image).

use berth_fsck::{check_image, read_file};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("mkfs-cli-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn mkfs(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mkfs"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Asserts a failed run: exit 1, one `mkfs:` line mentioning `needle`, no image, no temp files.
#[track_caller]
fn assert_fails(dir: &Path, args: &[&str], needle: &str) {
    let before: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let out = mkfs(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.starts_with("mkfs: ") && err.contains(needle),
        "{args:?}: wanted {needle:?} in {err}"
    );
    let after: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after, "{args:?} left files behind");
}

#[test]
fn builds_a_clean_image_with_xv6_names() {
    let dir = scratch("ok");
    fs::write(dir.join("_cat"), b"cat program").unwrap();
    fs::write(dir.join("README"), b"read me\n").unwrap();
    let out = mkfs(
        &dir,
        &["--size", "4M", "--inodes=100", "fs.img", "_cat", "README"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("mkfs: fs.img: 4096 blocks"), "{stdout}");

    let img = fs::read(dir.join("fs.img")).unwrap();
    assert_eq!(img.len(), 4 << 20);
    let r = check_image(&img);
    assert!(r.is_clean(), "{:?}", r.errors);
    assert_eq!(r.inodes_in_use, 4, "root, layer area and the two files");
    assert_eq!(read_file(&img, "cat").as_deref(), Some(&b"cat program"[..]));
    assert_eq!(
        read_file(&img, "README").as_deref(),
        Some(&b"read me\n"[..])
    );
    assert_eq!(read_file(&img, "_cat"), None);
}

#[test]
fn default_size_and_no_files() {
    let dir = scratch("default");
    let out = mkfs(&dir, &["fs.img"]);
    assert!(out.status.success());
    let img = fs::read(dir.join("fs.img")).unwrap();
    assert_eq!(img.len(), 64 << 20);
    assert!(check_image(&img).is_clean());
}

#[test]
fn help_and_version() {
    let out = mkfs(Path::new("."), &["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("Usage: mkfs [OPTIONS] <fs.img> [FILE]..."),
        "{help}"
    );
    assert!(help.contains("--inodes <N>"), "{help}");
    let out = mkfs(Path::new("."), &["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("mkfs "));
}

/// Asserts a usage error: exit 2, clap's `error: ...` mentioning `needle`, no files made.
#[track_caller]
fn assert_usage_error(dir: &Path, args: &[&str], needle: &str) {
    let out = mkfs(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{args:?}: wanted {needle:?} in {err}"
    );
    assert!(!dir.join("fs.img").exists(), "{args:?} made an image");
}

#[test]
fn errors_are_one_line_and_leave_no_image() {
    let dir = scratch("errors");
    fs::write(dir.join("a"), b"a").unwrap();
    fs::create_dir(dir.join("sub")).unwrap();
    fs::write(dir.join("sub/_a"), b"other a").unwrap();
    fs::write(dir.join("name-of-15-byte"), b"x").unwrap();
    fs::write(dir.join("big"), vec![1u8; 400 * 1024]).unwrap();
    // A sparse file one byte past MAXFILE: refused from its length, never read.
    let huge = fs::File::create(dir.join("huge")).unwrap();
    huge.set_len(berth_mkfs::MAX_FILE_BYTES + 1).unwrap();
    drop(huge);

    assert_fails(&dir, &["fs.img", "name-of-15-byte"], "longer than DIRSIZ");
    assert_fails(
        &dir,
        &["fs.img", "a", "sub/_a"],
        "duplicate name 'a' (also the name of 'a')",
    );
    assert_fails(&dir, &["fs.img", "huge"], "larger than the largest file");
    assert_fails(&dir, &["--size", "200", "fs.img"], "too small");
    assert_fails(
        &dir,
        &["--size", "300", "--inodes", "64", "fs.img", "big"],
        "image too small for 'big'",
    );
    assert_fails(
        &dir,
        &["--inodes", "3", "fs.img", "a", "big"],
        "out of inodes",
    );
    assert_fails(&dir, &["--inodes", "70000", "fs.img"], "at most 65536");
    assert_fails(&dir, &["fs.img", "missing"], "cannot read 'missing'");
    assert_fails(&dir, &["fs.img", "sub"], "not a regular file");
    assert_usage_error(&dir, &["--size", "12q", "fs.img"], "bad size");
    assert_usage_error(&dir, &["--inodes", "x", "fs.img"], "bad inode count");
    assert_usage_error(&dir, &["--frobnicate", "fs.img"], "unexpected argument");
    assert_usage_error(&dir, &[], "required arguments were not provided");
    assert_usage_error(&dir, &["--size", "200"], "<fs.img>");
}

#[test]
fn failure_keeps_the_old_image() {
    let dir = scratch("keep");
    fs::write(dir.join("fs.img"), b"old image").unwrap();
    assert_fails(&dir, &["fs.img", "missing"], "cannot read");
    assert_eq!(fs::read(dir.join("fs.img")).unwrap(), b"old image");
    // And a successful run replaces it.
    assert!(mkfs(&dir, &["--size", "1M", "fs.img"]).status.success());
    assert_eq!(fs::read(dir.join("fs.img")).unwrap().len(), 1 << 20);
}

#[test]
fn unwritable_destination() {
    let dir = scratch("unwritable");
    let out = mkfs(&dir, &["--size", "1M", "no-such-dir/fs.img"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write 'no-such-dir/fs.img'"));
}
