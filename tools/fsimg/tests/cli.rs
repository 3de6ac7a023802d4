//! The `fsimg` binary: files written where asked, listings on stdout, and
//! every failure one `fsimg: ...` line on stderr with exit status 1 (usage
//! errors: clap's, exit 2), never a panic.

use berth_abi::fs::ROOTINO;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fsimg-cli-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(13).wrapping_add(seed))
        .collect()
}

/// Writes `fs.img` into `dir`: `/small`, `/big` (300 KiB), `/d/inner`.
fn write_image(dir: &Path) {
    let mut b = berth_mkfs::Builder::new(2048, 64).unwrap();
    b.add_file(ROOTINO, b"small", b"small file\n".to_vec())
        .unwrap();
    b.add_file(ROOTINO, b"big", pattern(1, 300 * 1024)).unwrap();
    let d = b.mkdir(ROOTINO, b"d").unwrap();
    b.add_file(d, b"inner", pattern(2, 4000)).unwrap();
    fs::write(dir.join("fs.img"), b.finish().unwrap()).unwrap();
}

/// Runs fsimg in `dir`: (exit status, stdout, stderr).
fn fsimg(dir: &Path, args: &[&str]) -> (Option<i32>, Vec<u8>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fsimg"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        out.stdout,
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Asserts a runtime failure: exit 1, one `fsimg: ` line containing `needle`.
#[track_caller]
fn assert_fails(dir: &Path, args: &[&str], needle: &str) {
    let (code, out, err) = fsimg(dir, args);
    assert_eq!(code, Some(1), "{args:?}: {err}");
    assert!(out.is_empty(), "{args:?}");
    assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.starts_with("fsimg: ") && err.contains(needle),
        "{args:?}: wanted {needle:?} in {err}"
    );
}

#[test]
fn get_copies_files_out() {
    let dir = scratch("get");
    write_image(&dir);
    // Default output: the base name, in the current directory.
    let (code, _, err) = fsimg(&dir, &["get", "fs.img", "/big"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(fs::read(dir.join("big")).unwrap(), pattern(1, 300 * 1024));
    let (code, _, err) = fsimg(&dir, &["get", "fs.img", "d/inner"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(fs::read(dir.join("inner")).unwrap(), pattern(2, 4000));
    // -o OUT, and -o - for stdout.
    let (code, _, err) = fsimg(&dir, &["get", "fs.img", "/small", "-o", "copy"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(fs::read(dir.join("copy")).unwrap(), b"small file\n");
    let (code, out, err) = fsimg(&dir, &["get", "fs.img", "/big", "-o", "-"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, pattern(1, 300 * 1024));
    assert_eq!(err, "");
}

#[test]
fn ls_lists_a_directory() {
    let dir = scratch("ls");
    write_image(&dir);
    let (code, out, err) = fsimg(&dir, &["ls", "fs.img"]);
    assert_eq!(code, Some(0), "{err}");
    let out = String::from_utf8(out).unwrap();
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows[0], ["NAME", "TYPE", "INODE", "SIZE"]);
    let names: Vec<&str> = rows[1..].iter().map(|r| r[0]).collect();
    assert_eq!(names, [".", "..", "small", "big", "d"]);
    let big = rows.iter().find(|r| r[0] == "big").unwrap();
    assert_eq!((big[1], big[3]), ("file", "307200"));
    assert_eq!(rows.iter().find(|r| r[0] == "d").unwrap()[1], "dir");

    let (code, out, _) = fsimg(&dir, &["ls", "fs.img", "/d"]);
    assert_eq!(code, Some(0));
    assert!(String::from_utf8(out).unwrap().contains("inner"));
}

#[test]
fn failures_are_one_line_and_exit_1() {
    let dir = scratch("errors");
    write_image(&dir);
    let img = fs::read(dir.join("fs.img")).unwrap();
    fs::write(dir.join("short.img"), &img[..300_000]).unwrap();
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let random: Vec<u8> = (0..200 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    fs::write(dir.join("random.img"), random).unwrap();

    assert_fails(
        &dir,
        &["get", "fs.img", "/missing"],
        "fs.img: /missing: no such file or directory",
    );
    assert_fails(&dir, &["get", "fs.img", "/d"], "fs.img: /d: a directory");
    assert_fails(&dir, &["ls", "fs.img", "/nope"], "no such file");
    assert_fails(
        &dir,
        &["ls", "short.img"],
        "short.img: not a usable berth image",
    );
    assert_fails(
        &dir,
        &["get", "short.img", "/big"],
        "superblock says 2048 blocks",
    );
    assert_fails(&dir, &["ls", "random.img"], "bad magic");
    assert_fails(&dir, &["get", "random.img", "/x"], "bad magic");
    assert_fails(&dir, &["ls", "missing.img"], "cannot read 'missing.img'");
    assert_fails(
        &dir,
        &["get", "fs.img", "/small", "-o", "no/such/dir"],
        "cannot write 'no/such/dir'",
    );
    assert!(!dir.join("missing").exists() && !dir.join("d").exists());
}

#[test]
fn usage_errors_exit_2() {
    let dir = scratch("usage");
    for args in [
        &["get", "fs.img"][..],
        &["ls", "fs.img", "--bogus"],
        &["frob"],
    ] {
        let (code, _, err) = fsimg(&dir, args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
    let (code, out, _) = fsimg(&dir, &["--help"]);
    assert_eq!(code, Some(0));
    let help = String::from_utf8(out).unwrap();
    assert!(help.contains("Usage: fsimg <COMMAND>"), "{help}");
}
