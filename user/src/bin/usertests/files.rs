//! Files: open/read/write/close, small files, fstat, O_TRUNC, O_APPEND,
//! access modes, shared offsets, unlinking an open file.

use ulib::abi::fcntl::{O_APPEND, O_CREATE, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY};
use ulib::abi::stat::{T_DEVICE, T_DIR, T_FILE};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::test::TestResult;
use ulib::{ensure, ensure_eq};

use crate::util::{ok, read_file, stat, unlink, wait_ok, want_err, write_file};

/// Create, write, close, reopen, read back, end of file, close twice.
pub fn open_read_write_close() -> TestResult {
    let f = ok("create", fd::open("basic", O_CREATE | O_RDWR))?;
    ensure_eq!(
        ok("write", fd::write(f, b"hello, file"))?,
        11,
        "bytes written"
    );
    ok("close", fd::close(f))?;
    want_err("second close", fd::close(f), Errno::EBADF)?;
    let f = ok("open", fd::open("basic", O_RDONLY))?;
    let mut buf = [0u8; 64];
    ensure_eq!(ok("read", fd::read(f, &mut buf[..5]))?, 5, "first read");
    ensure_eq!(
        ok("read", fd::read(f, &mut buf[5..]))?,
        6,
        "read of the rest"
    );
    ensure_eq!(&buf[..11], b"hello, file", "contents");
    ensure_eq!(
        ok("read at end", fd::read(f, &mut buf))?,
        0,
        "read at end of file"
    );
    ok("close", fd::close(f))?;
    unlink("basic")?;
    want_err(
        "open after unlink",
        fd::open("basic", O_RDONLY),
        Errno::ENOENT,
    )
}

/// xv6's writetest: many small writes, read back in other-sized pieces.
pub fn small_file() -> TestResult {
    const N: usize = 100;
    let f = ok("create", fd::open("small", O_CREATE | O_RDWR))?;
    for i in 0..N {
        let rec: &[u8; 10] = if i % 2 == 0 {
            b"aaaaaaaaaa"
        } else {
            b"bbbbbbbbbb"
        };
        ensure_eq!(ok("write", fd::write(f, rec))?, 10, "write {i}");
    }
    ok("close", fd::close(f))?;
    let f = ok("open", fd::open("small", O_RDONLY))?;
    let mut buf = [0u8; 20];
    for i in 0..N / 2 {
        ensure_eq!(ok("read", fd::read(f, &mut buf))?, 20, "read {i}");
        ensure!(
            &buf == b"aaaaaaaaaabbbbbbbbbb",
            "record pair {i} reads {:?}",
            String::from_utf8_lossy(&buf)
        );
    }
    ensure_eq!(ok("read", fd::read(f, &mut buf))?, 0, "read past the end");
    ok("close", fd::close(f))?;
    unlink("small")
}

/// fstat fields of a file, a directory, the console and a pipe.
pub fn fstat_fields() -> TestResult {
    write_file("st", b"twelve bytes")?;
    let a = stat("st")?;
    ensure_eq!(a.kind, T_FILE, "type of a file");
    ensure_eq!(a.nlink, 1, "links of a new file");
    ensure_eq!(a.size, 12, "size");
    ensure!(a.ino > 1, "inode number {} (1 is the root)", a.ino);
    ensure_eq!(a.dev, stat("/")?.dev, "device of a file and of the root");
    ok("link", fd::link("st", "st2"))?;
    let b = stat("st2")?;
    ensure_eq!(b.ino, a.ino, "inode of the second name");
    ensure_eq!(b.nlink, 2, "links after link");
    unlink("st2")?;
    ensure_eq!(
        stat("st")?.nlink,
        1,
        "links after unlinking the second name"
    );
    unlink("st")?;

    let root = stat("/")?;
    ensure_eq!((root.kind, root.ino), (T_DIR, 1), "type and inode of /");
    ok("mkdir", fd::mkdir("sd"))?;
    let d = stat("sd")?;
    ensure_eq!(d.kind, T_DIR, "type of a directory");
    ensure_eq!(d.size % 16, 0, "directory size is whole entries");
    ensure!(
        d.size >= 32,
        "a new directory holds . and ..: size {}",
        d.size
    );
    ensure_eq!(stat("sd/.")?.ino, d.ino, "inode of sd/.");
    ensure_eq!(stat("sd/..")?.ino, stat(".")?.ino, "inode of sd/..");
    unlink("sd")?;

    let con = ok("fstat 0", fd::fstat(0))?;
    ensure_eq!(con.kind, T_DEVICE, "type of the console (fd 0)");
    let (r, w) = ok("pipe", fd::pipe())?;
    let p = fd::fstat(r);
    let _ = (fd::close(r), fd::close(w));
    ok("fstat of a pipe", p)?;
    Ok(())
}

/// O_TRUNC empties a file, also under a descriptor opened before.
pub fn truncate() -> TestResult {
    write_file("tr", b"abcdefghij")?;
    let old = ok("open", fd::open("tr", O_RDONLY))?;
    let t = ok("open O_TRUNC", fd::open("tr", O_WRONLY | O_TRUNC))?;
    let size = ok("fstat", fd::fstat(t))?.size;
    let mut buf = [0u8; 32];
    let n = fd::read(old, &mut buf);
    ensure_eq!(size, 0, "size after O_TRUNC");
    ensure_eq!(
        n,
        Ok(0),
        "read through a descriptor opened before the truncation"
    );
    ok("write", fd::write_all(t, b"xyz"))?;
    ok("close", fd::close(t))?;
    ensure_eq!(
        ok("read", fd::read(old, &mut buf))?,
        3,
        "read after the rewrite"
    );
    ensure_eq!(&buf[..3], b"xyz", "new contents");
    ok("close", fd::close(old))?;
    // O_CREATE alone keeps the contents; with O_TRUNC it empties them.
    let f = ok("open O_CREATE", fd::open("tr", O_CREATE | O_RDWR))?;
    ensure_eq!(
        ok("fstat", fd::fstat(f))?.size,
        3,
        "size after O_CREATE of an existing file"
    );
    ok("close", fd::close(f))?;
    let f = ok(
        "open O_CREATE|O_TRUNC",
        fd::open("tr", O_CREATE | O_TRUNC | O_RDWR),
    )?;
    ensure_eq!(
        ok("fstat", fd::fstat(f))?.size,
        0,
        "size after O_CREATE|O_TRUNC"
    );
    ok("close", fd::close(f))?;
    // A big file truncates too (its blocks come back: the size is what we can see).
    write_file("tr", &vec![7u8; 300 * 1024])?;
    write_file("tr", b"")?;
    ensure_eq!(stat("tr")?.size, 0, "size after truncating a 300 KiB file");
    unlink("tr")
}

/// O_APPEND writes at the end whatever else writes meanwhile.
pub fn append() -> TestResult {
    write_file("ap", b"abc")?;
    let a = ok("open O_APPEND", fd::open("ap", O_WRONLY | O_APPEND))?;
    let plain = ok("open", fd::open("ap", O_WRONLY))?;
    ok("append", fd::write_all(a, b"def"))?;
    ok("overwrite at 0", fd::write_all(plain, b"A"))?;
    ok("append", fd::write_all(a, b"ghi"))?;
    ok("close", fd::close(plain))?;
    ensure_eq!(read_file("ap")?, b"Abcdefghi", "contents after appends");
    // Two processes appending through their own descriptors lose nothing.
    ok("close", fd::close(a))?;
    let rounds = 50;
    for c in [b'P', b'Q'] {
        crate::util::fork_child(|| {
            let f = ok("open O_APPEND", fd::open("ap", O_WRONLY | O_APPEND))?;
            for _ in 0..rounds {
                ok("append", fd::write_all(f, &[c; 7]))?;
            }
            ok("close", fd::close(f))
        })?;
    }
    wait_ok(2)?;
    let data = read_file("ap")?;
    ensure_eq!(
        data.len(),
        9 + 2 * rounds * 7,
        "size after concurrent appends"
    );
    for c in [b'P', b'Q'] {
        let n = data.iter().filter(|&&b| b == c).count();
        ensure_eq!(n, rounds * 7, "bytes of {}", c as char);
    }
    unlink("ap")
}

/// Each access mode allows what it says and nothing else.
pub fn access_modes() -> TestResult {
    write_file("am", b"data")?;
    let mut buf = [0u8; 8];
    let r = ok("open O_RDONLY", fd::open("am", O_RDONLY))?;
    want_err(
        "write to an O_RDONLY descriptor",
        fd::write(r, b"x"),
        Errno::EBADF,
    )?;
    ensure_eq!(ok("read", fd::read(r, &mut buf))?, 4, "read from O_RDONLY");
    ok("close", fd::close(r))?;
    let w = ok("open O_WRONLY", fd::open("am", O_WRONLY))?;
    want_err(
        "read from an O_WRONLY descriptor",
        fd::read(w, &mut buf),
        Errno::EBADF,
    )?;
    ok("write", fd::write_all(w, b"D"))?;
    ok("close", fd::close(w))?;
    let rw = ok("open O_RDWR", fd::open("am", O_RDWR))?;
    ok("write", fd::write_all(rw, b"DA"))?;
    ensure_eq!(
        ok("read", fd::read(rw, &mut buf))?,
        2,
        "read after write on O_RDWR"
    );
    ensure_eq!(
        &buf[..2],
        b"ta",
        "O_RDWR shares one offset for reads and writes"
    );
    ok("close", fd::close(rw))?;
    ensure_eq!(read_file("am")?, b"DAta", "contents");
    want_err(
        "open O_WRONLY|O_RDWR",
        fd::open("am", O_WRONLY | O_RDWR),
        Errno::EINVAL,
    )?;
    for bad in [0x4u32, 0x100, 0x8000, 0x8000_0000, u32::MAX] {
        want_err(
            &format!("open with flags {bad:#x}"),
            fd::open("am", bad),
            Errno::EINVAL,
        )?;
    }
    unlink("am")
}

/// A directory opens read-only, never for writing.
pub fn directory_writes() -> TestResult {
    ok("mkdir", fd::mkdir("dw"))?;
    let d = ok("open dir O_RDONLY", fd::open("dw", O_RDONLY))?;
    let w = fd::write(d, b"x");
    ok("close", fd::close(d))?;
    want_err("write to a directory descriptor", w, Errno::EBADF)?;
    want_err("open dir O_WRONLY", fd::open("dw", O_WRONLY), Errno::EISDIR)?;
    want_err("open dir O_RDWR", fd::open("dw", O_RDWR), Errno::EISDIR)?;
    want_err(
        "open dir O_CREATE",
        fd::open("dw", O_CREATE | O_RDWR),
        Errno::EISDIR,
    )?;
    want_err("open dir O_TRUNC", fd::open("dw", O_TRUNC), Errno::EISDIR)?;
    want_err("open . O_RDWR", fd::open(".", O_RDWR), Errno::EISDIR)?;
    want_err("open / O_WRONLY", fd::open("/", O_WRONLY), Errno::EISDIR)?;
    ensure_eq!(
        stat("dw")?.size,
        32,
        "directory size after the refused writes"
    );
    unlink("dw")
}

/// xv6's unlinkread: an unlinked file stays usable through open descriptors.
pub fn unlink_open_file() -> TestResult {
    write_file("uo", b"hello")?;
    let f = ok("open", fd::open("uo", O_RDWR))?;
    unlink("uo")?;
    want_err("open after unlink", fd::open("uo", O_RDONLY), Errno::ENOENT)?;
    write_file("uo", b"yyy")?;
    let mut buf = [0u8; 16];
    ensure_eq!(
        ok("read", fd::read(f, &mut buf))?,
        5,
        "read of the unlinked file"
    );
    ensure_eq!(&buf[..5], b"hello", "its contents");
    ok("write", fd::write_all(f, b"!"))?;
    let st = ok("fstat", fd::fstat(f))?;
    ensure_eq!(
        (st.nlink, st.size),
        (0, 6),
        "links and size of the unlinked file"
    );
    ok("close", fd::close(f))?;
    ensure_eq!(read_file("uo")?, b"yyy", "the new file of the same name");
    unlink("uo")
}

/// dup and fork share one offset; separate opens do not.
pub fn shared_offsets() -> TestResult {
    let f = ok("create", fd::open("so", O_CREATE | O_RDWR))?;
    let g = ok("dup", fd::dup(f))?;
    ok("write", fd::write_all(f, b"ab"))?;
    ok("write dup", fd::write_all(g, b"cd"))?;
    ok("close dup", fd::close(g))?;
    match process::fork() {
        Ok(Fork::Child) => {
            let r = fd::write_all(f, b"ef");
            process::exit(i32::from(r.is_err()))
        }
        Ok(Fork::Parent(_)) => wait_ok(1)?,
        Err(e) => return Err(format!("fork: {e:?}")),
    }
    ok("write after the child", fd::write_all(f, b"gh"))?;
    ok("close", fd::close(f))?;
    ensure_eq!(read_file("so")?, b"abcdefgh", "contents");
    let a = ok("open", fd::open("so", O_WRONLY))?;
    ok("write", fd::write_all(a, b"X"))?;
    ok("close", fd::close(a))?;
    ensure_eq!(read_file("so")?, b"Xbcdefgh", "a fresh open starts at 0");
    unlink("so")
}
