//! Directories and paths: mkdir, nesting, removal rules, `.` and `..`,
//! chdir and relative paths, links, and the errno of every path error.

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR};
use ulib::abi::fs::{MAXPATH, ROOTINO};
use ulib::abi::stat::T_DEVICE;
use ulib::fd;
use ulib::prelude::*;
use ulib::process;
use ulib::test::TestResult;
use ulib::{ensure, ensure_eq};

use crate::util::{names_in, ok, read_file, stat, unlink, want_err, write_file};

/// Nested directories, files in them, listing, removal bottom-up.
pub fn mkdir_nested() -> TestResult {
    ok("mkdir a", fd::mkdir("a"))?;
    ok("mkdir a/b", fd::mkdir("a/b"))?;
    ok("mkdir a/b/c", fd::mkdir("a/b/c"))?;
    write_file("a/b/c/f", b"nested")?;
    write_file("a/b/g", b"g")?;
    ensure_eq!(
        read_file("a/./b/../b/c/f")?,
        b"nested",
        "contents through . and .."
    );
    ensure_eq!(
        read_file("./a//b///c/f")?,
        b"nested",
        "contents through repeated slashes"
    );
    let mut names = names_in("a/b")?;
    names.sort();
    ensure_eq!(
        names,
        vec!["c".to_string(), "g".to_string()],
        "entries of a/b"
    );
    let ab = stat("a/b")?;
    ensure_eq!(stat("a/b/c/..")?.ino, ab.ino, "inode of a/b/c/..");
    want_err(
        "unlink of a non-empty a/b/c",
        fd::unlink("a/b/c"),
        Errno::ENOTEMPTY,
    )?;
    want_err("unlink of a non-empty a", fd::unlink("a"), Errno::ENOTEMPTY)?;
    unlink("a/b/c/f")?;
    unlink("a/b/c")?;
    unlink("a/b/g")?;
    unlink("a/b")?;
    want_err(
        "open of a removed directory",
        fd::open("a/b", O_RDONLY),
        Errno::ENOENT,
    )?;
    unlink("a")
}

/// Link counts of directories: 1 for the entry in the parent, plus one
/// per subdirectory (its `..`); `.` does not count.
pub fn directory_links() -> TestResult {
    ok("mkdir", fd::mkdir("dl"))?;
    ensure_eq!(stat("dl")?.nlink, 1, "links of an empty directory");
    ok("mkdir sub", fd::mkdir("dl/s1"))?;
    ok("mkdir sub", fd::mkdir("dl/s2"))?;
    write_file("dl/f", b"")?;
    ensure_eq!(
        stat("dl")?.nlink,
        3,
        "links with two subdirectories and a file"
    );
    unlink("dl/s1")?;
    unlink("dl/f")?;
    ensure_eq!(stat("dl")?.nlink, 2, "links after removing one");
    unlink("dl/s2")?;
    ensure_eq!(stat("dl")?.nlink, 1, "links after removing both");
    unlink("dl")
}

/// What unlink refuses: `.`, `..`, non-empty directories, the root.
pub fn rmdir_rules() -> TestResult {
    ok("mkdir", fd::mkdir("rd"))?;
    ok("mkdir", fd::mkdir("rd/sub"))?;
    want_err("unlink .", fd::unlink("."), Errno::EINVAL)?;
    want_err("unlink ..", fd::unlink(".."), Errno::EINVAL)?;
    want_err("unlink rd/.", fd::unlink("rd/."), Errno::EINVAL)?;
    want_err("unlink rd/..", fd::unlink("rd/.."), Errno::EINVAL)?;
    want_err("unlink rd/sub/..", fd::unlink("rd/sub/.."), Errno::EINVAL)?;
    want_err("unlink non-empty rd", fd::unlink("rd"), Errno::ENOTEMPTY)?;
    ensure!(fd::unlink("/").is_err(), "unlink / succeeded");
    ensure_eq!(stat("/")?.ino, ROOTINO, "the root after unlink /");
    unlink("rd/sub")?;
    unlink("rd")?;
    want_err(
        "unlink of a removed directory",
        fd::unlink("rd"),
        Errno::ENOENT,
    )
}

/// `..` climbs, and stops at the root.
pub fn dot_dot() -> TestResult {
    ok("mkdir", fd::mkdir("dd"))?;
    ok("mkdir", fd::mkdir("dd/e"))?;
    write_file("top", b"top")?;
    ensure_eq!(
        read_file("dd/e/../../top")?,
        b"top",
        "contents through ../.."
    );
    ensure_eq!(stat("/..")?.ino, ROOTINO, "inode of /..");
    ensure_eq!(stat("/../../..")?.ino, ROOTINO, "inode of /../../..");
    let here = stat(".")?.ino;
    ok("chdir", fd::chdir("dd/e"))?;
    ensure_eq!(stat("../..")?.ino, here, "inode of ../.. from dd/e");
    ensure_eq!(read_file("../../top")?, b"top", "relative read from dd/e");
    ok("chdir ..", fd::chdir(".."))?;
    ok("chdir ..", fd::chdir(".."))?;
    ensure_eq!(stat(".")?.ino, here, "back where we started");
    unlink("top")?;
    unlink("dd/e")?;
    unlink("dd")
}

/// chdir changes where relative paths start, only in the calling process.
pub fn chdir_relative() -> TestResult {
    let scratch = stat(".")?.ino;
    ok("mkdir", fd::mkdir("cd"))?;
    ok("chdir", fd::chdir("cd"))?;
    write_file("inner", b"in")?;
    crate::util::fork_child(|| {
        ok("child chdir", fd::chdir(".."))?;
        ensure_eq!(read_file("cd/inner")?, b"in", "the child's view from ..");
        Ok(())
    })?;
    crate::util::wait_ok(1)?;
    // The child's chdir did not move the parent.
    ensure_eq!(
        read_file("inner")?,
        b"in",
        "the parent's view after the child's chdir"
    );
    ok("chdir /", fd::chdir("/"))?;
    want_err(
        "open relative to / now",
        fd::open("inner", O_RDONLY),
        Errno::ENOENT,
    )?;
    ok("chdir back", fd::chdir(crate::harness::SCRATCH))?;
    ensure_eq!(
        read_file("cd/inner")?,
        b"in",
        "contents through the absolute chdir"
    );
    write_file("cf", b"")?;
    want_err("chdir to a file", fd::chdir("cf"), Errno::ENOTDIR)?;
    want_err(
        "chdir to a missing directory",
        fd::chdir("nowhere"),
        Errno::ENOENT,
    )?;
    unlink("cf")?;
    unlink("cd/inner")?;
    // Removing the current directory: it must stay usable enough to leave.
    ok("chdir", fd::chdir("cd"))?;
    ok("unlink the current directory", fd::unlink("../cd"))?;
    ensure!(
        fd::open("new", O_CREATE | O_RDWR).is_err(),
        "created a file in a removed directory"
    );
    ok("chdir out of it", fd::chdir(".."))?;
    ensure_eq!(
        stat(".")?.ino,
        scratch,
        "inode of . after leaving a removed directory"
    );
    Ok(())
}

/// A file used as a directory is ENOTDIR, whatever the call (xv6's dirfile).
pub fn not_a_directory() -> TestResult {
    write_file("nd", b"file")?;
    want_err("open nd/x", fd::open("nd/x", O_RDONLY), Errno::ENOTDIR)?;
    want_err(
        "create nd/x",
        fd::open("nd/x", O_CREATE | O_RDWR),
        Errno::ENOTDIR,
    )?;
    want_err("mkdir nd/x", fd::mkdir("nd/x"), Errno::ENOTDIR)?;
    want_err("mknod nd/x", fd::mknod("nd/x", 1, 0), Errno::ENOTDIR)?;
    want_err("unlink nd/x", fd::unlink("nd/x"), Errno::ENOTDIR)?;
    want_err("link to nd/x", fd::link("nd", "nd/x"), Errno::ENOTDIR)?;
    want_err("link from nd/x", fd::link("nd/x", "y"), Errno::ENOTDIR)?;
    want_err("chdir nd", fd::chdir("nd"), Errno::ENOTDIR)?;
    want_err("open nd/.", fd::open("nd/.", O_RDONLY), Errno::ENOTDIR)?;
    want_err(
        "exec nd/x",
        Err::<(), _>(process::exec("nd/x", &["x"])),
        Errno::ENOTDIR,
    )?;
    unlink("nd")
}

/// A missing component is ENOENT, whatever the call.
pub fn missing_paths() -> TestResult {
    want_err("open", fd::open("nope", O_RDONLY), Errno::ENOENT)?;
    want_err(
        "open in a missing directory",
        fd::open("nod/f", O_RDONLY),
        Errno::ENOENT,
    )?;
    want_err(
        "create in a missing directory",
        fd::open("nod/f", O_CREATE | O_RDWR),
        Errno::ENOENT,
    )?;
    want_err(
        "mkdir in a missing directory",
        fd::mkdir("nod/d"),
        Errno::ENOENT,
    )?;
    want_err(
        "mknod in a missing directory",
        fd::mknod("nod/d", 1, 0),
        Errno::ENOENT,
    )?;
    want_err("unlink", fd::unlink("nope"), Errno::ENOENT)?;
    want_err(
        "link from a missing file",
        fd::link("nope", "x"),
        Errno::ENOENT,
    )?;
    write_file("mp", b"")?;
    want_err(
        "link into a missing directory",
        fd::link("mp", "nod/x"),
        Errno::ENOENT,
    )?;
    want_err("chdir", fd::chdir("nope"), Errno::ENOENT)?;
    want_err(
        "exec",
        Err::<(), _>(process::exec("nope", &["nope"])),
        Errno::ENOENT,
    )?;
    want_err(
        "open of an empty path",
        fd::open("", O_RDONLY),
        Errno::ENOENT,
    )?;
    unlink("mp")
}

/// Names longer than DIRSIZ and paths of MAXPATH bytes or more are ENAMETOOLONG.
pub fn long_names() -> TestResult {
    let long = "abcdefghijklmnop"; // 16 bytes
    want_err("open", fd::open(long, O_RDONLY), Errno::ENAMETOOLONG)?;
    want_err(
        "create",
        fd::open(long, O_CREATE | O_RDWR),
        Errno::ENAMETOOLONG,
    )?;
    want_err("mkdir", fd::mkdir(long), Errno::ENAMETOOLONG)?;
    want_err("mknod", fd::mknod(long, 1, 0), Errno::ENAMETOOLONG)?;
    want_err("unlink", fd::unlink(long), Errno::ENAMETOOLONG)?;
    want_err("chdir", fd::chdir(long), Errno::ENAMETOOLONG)?;
    write_file("ln", b"x")?;
    want_err(
        "link to a long name",
        fd::link("ln", long),
        Errno::ENAMETOOLONG,
    )?;
    // The longest path: MAXPATH - 1 bytes; one more is too long, even if
    // every component is fine. `./` repeated (and one `//`) reaches any length.
    let path_of = |len: usize| {
        let mut p = String::new();
        if len % 2 == 1 {
            p.push_str(".//");
        }
        while p.len() + 2 < len {
            p.push_str("./");
        }
        p.push_str("ln");
        p
    };
    let max = path_of(MAXPATH - 1);
    ensure_eq!(max.len(), MAXPATH - 1, "length of the test path");
    ensure_eq!(
        read_file(&max)?,
        b"x",
        "contents through a path of MAXPATH - 1 bytes"
    );
    let over = path_of(MAXPATH);
    ensure_eq!(over.len(), MAXPATH, "length of the test path");
    want_err(
        "open of a MAXPATH-byte path",
        fd::open(&over, O_RDONLY),
        Errno::ENAMETOOLONG,
    )?;
    let huge = "a/".repeat(2000);
    want_err(
        "open of a 4000-byte path",
        fd::open(&huge, O_RDONLY),
        Errno::ENAMETOOLONG,
    )?;
    unlink("ln")
}

/// Creating what exists is EEXIST (but O_CREATE opens an existing file).
pub fn already_exists() -> TestResult {
    ok("mkdir", fd::mkdir("ex"))?;
    write_file("ef", b"keep")?;
    want_err("mkdir of a directory", fd::mkdir("ex"), Errno::EEXIST)?;
    want_err("mkdir of a file", fd::mkdir("ef"), Errno::EEXIST)?;
    want_err("mkdir /", fd::mkdir("/"), Errno::EEXIST)?;
    want_err("mkdir .", fd::mkdir("."), Errno::EEXIST)?;
    want_err("mkdir ex/..", fd::mkdir("ex/.."), Errno::EEXIST)?;
    want_err("mknod of a file", fd::mknod("ef", 1, 0), Errno::EEXIST)?;
    want_err("link onto a file", fd::link("ef", "ef"), Errno::EEXIST)?;
    want_err("link onto a directory", fd::link("ef", "ex"), Errno::EEXIST)?;
    let f = ok(
        "open O_CREATE of an existing file",
        fd::open("ef", O_CREATE | O_RDWR),
    )?;
    ok("close", fd::close(f))?;
    ensure_eq!(read_file("ef")?, b"keep", "contents after O_CREATE");
    unlink("ef")?;
    unlink("ex")
}

/// xv6's linktest: names come and go, the data stays while one is left.
pub fn link_unlink() -> TestResult {
    write_file("l1", b"hello")?;
    ok("link", fd::link("l1", "l2"))?;
    unlink("l1")?;
    want_err(
        "open of the removed name",
        fd::open("l1", O_RDONLY),
        Errno::ENOENT,
    )?;
    ensure_eq!(
        read_file("l2")?,
        b"hello",
        "contents through the second name"
    );
    ok("mkdir", fd::mkdir("ld"))?;
    ok("link into a subdirectory", fd::link("l2", "ld/l3"))?;
    ensure_eq!(stat("l2")?.nlink, 2, "links");
    unlink("l2")?;
    ensure_eq!(
        read_file("ld/l3")?,
        b"hello",
        "contents through the third name"
    );
    want_err("link of a directory", fd::link("ld", "ld2"), Errno::EPERM)?;
    want_err("link of .", fd::link(".", "dot"), Errno::EPERM)?;
    want_err("link of /", fd::link("/", "root"), Errno::EPERM)?;
    unlink("ld/l3")?;
    unlink("ld")
}

/// mknod makes a device file that opens as the device (`ENODEV` for a
/// major number no device has).
pub fn device_files() -> TestResult {
    ok("mknod", fd::mknod("cons", 1, 0))?;
    let st = stat("cons")?;
    ensure_eq!(st.kind, T_DEVICE, "type of the device file");
    let f = ok("open the device for writing", fd::open("cons", O_RDWR))?;
    ok("write an empty line to the console", fd::write_all(f, b""))?;
    ok("close", fd::close(f))?;
    unlink("cons")?;
    for major in [0, 7, 9999, -1] {
        ok("mknod of an unknown major", fd::mknod("nodev", major, 0))?;
        want_err(
            "open of a device no driver serves",
            fd::open("nodev", O_RDONLY),
            Errno::ENODEV,
        )?;
        unlink("nodev")?;
    }
    Ok(())
}
