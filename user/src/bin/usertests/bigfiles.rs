//! Sizes and counts: a file reaching the doubly-indirect block, many
//! files, a big directory, names of exactly `DIRSIZ` bytes.

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR, O_WRONLY};
use ulib::abi::fs::{BSIZE, DIRSIZ, NDIRECT, NINDIRECT};
use ulib::fd;
use ulib::prelude::*;
use ulib::test::TestResult;
use ulib::{ensure, ensure_eq};

use crate::util::{ok, read_file, stat, unlink, want_err, write_file};

/// Size of the big file: well past the direct and indirect blocks.
const BIG_BYTES: usize = 2 << 20;
/// Bytes per write and read of the big file.
const BIG_CHUNK: usize = 8 * BSIZE;

/// The contents of block `b` of the big file: its number, then a pattern.
fn big_block(b: usize, out: &mut [u8]) {
    out[..4].copy_from_slice(&(b as u32).to_le_bytes());
    for (i, x) in out[4..].iter_mut().enumerate() {
        *x = (b.wrapping_mul(31) + i) as u8;
    }
}

/// A file of several MiB (through the doubly-indirect block), written in
/// chunks and read back block by block, then removed.
pub fn big_file() -> TestResult {
    const _: () = assert!(BIG_BYTES / BSIZE > NDIRECT + NINDIRECT + NINDIRECT);
    let f = ok("create", fd::open("big", O_CREATE | O_WRONLY))?;
    let mut chunk = vec![0u8; BIG_CHUNK];
    for c in 0..BIG_BYTES / BIG_CHUNK {
        for (j, blk) in chunk.chunks_mut(BSIZE).enumerate() {
            big_block(c * (BIG_CHUNK / BSIZE) + j, blk);
        }
        let n = ok(&format!("write chunk {c}"), fd::write(f, &chunk))?;
        ensure_eq!(n, BIG_CHUNK, "bytes written at chunk {c}");
    }
    ok("close", fd::close(f))?;
    ensure_eq!(stat("big")?.size, BIG_BYTES as u64, "size");
    let f = ok("open", fd::open("big", O_RDONLY))?;
    let mut want = [0u8; BSIZE];
    let mut got = vec![0u8; BIG_CHUNK];
    for c in 0..BIG_BYTES / BIG_CHUNK {
        ok(&format!("read chunk {c}"), fd::read_exact(f, &mut got))?;
        for (j, blk) in got.chunks(BSIZE).enumerate() {
            let b = c * (BIG_CHUNK / BSIZE) + j;
            big_block(b, &mut want);
            ensure!(
                blk == want,
                "block {b} reads back wrong (first word {:?})",
                &blk[..4]
            );
        }
    }
    ensure_eq!(
        ok("read at end", fd::read(f, &mut want))?,
        0,
        "read past the end"
    );
    ok("close", fd::close(f))?;
    unlink("big")
}

/// Writes at block boundaries around the indirect and doubly-indirect
/// blocks land where they should (checked through a second descriptor).
pub fn block_boundaries() -> TestResult {
    let edges = [
        NDIRECT,
        NDIRECT + NINDIRECT,
        NDIRECT + NINDIRECT + NINDIRECT,
    ];
    let end = (edges[2] + 2) * BSIZE;
    let f = ok("create", fd::open("edges", O_CREATE | O_RDWR))?;
    // Write the file sequentially with a marker byte just before and at each edge.
    let mut data = vec![0u8; end];
    for (i, &e) in edges.iter().enumerate() {
        data[e * BSIZE - 1] = 0xa0 + i as u8;
        data[e * BSIZE] = 0xb0 + i as u8;
    }
    ok("write", fd::write_all(f, &data))?;
    ok("close", fd::close(f))?;
    let back = read_file("edges")?;
    ensure_eq!(back.len(), end, "size");
    for (i, &e) in edges.iter().enumerate() {
        ensure_eq!(
            (back[e * BSIZE - 1], back[e * BSIZE]),
            (0xa0 + i as u8, 0xb0 + i as u8),
            "bytes around block {e}"
        );
    }
    ensure!(
        back.iter().filter(|&&b| b != 0).count() == 6,
        "stray bytes in the file"
    );
    unlink("edges")
}

/// xv6's createtest and more: many files, each with its own contents.
pub fn many_files() -> TestResult {
    const N: usize = 120;
    for i in 0..N {
        write_file(&format!("m{i:03}"), format!("file {i}").as_bytes())?;
    }
    let names = crate::util::names_in(".")?;
    ensure_eq!(names.len(), N, "entries in the directory");
    for i in (0..N).rev() {
        let name = format!("m{i:03}");
        ensure_eq!(
            read_file(&name)?,
            format!("file {i}").into_bytes(),
            "contents of {name}"
        );
    }
    for i in 0..N {
        unlink(&format!("m{i:03}"))?;
    }
    for i in (0..N).step_by(17) {
        want_err(
            &format!("open m{i:03} after unlink"),
            fd::open(&format!("m{i:03}"), O_RDONLY),
            Errno::ENOENT,
        )?;
    }
    Ok(())
}

/// xv6's bigdir: hundreds of names for one file in one directory (five blocks of entries).
pub fn big_dir() -> TestResult {
    const N: usize = 300;
    write_file("bd", b"x")?;
    ok("mkdir", fd::mkdir("bdir"))?;
    for i in 0..N {
        ok(
            &format!("link {i}"),
            fd::link("bd", &format!("bdir/x{i:03}")),
        )?;
    }
    unlink("bd")?;
    ensure_eq!(stat("bdir/x000")?.nlink, N as i16, "links of the file");
    let size = stat("bdir")?.size;
    ensure!(
        size >= ((N + 2) * 16) as u64,
        "directory size {size} for {} entries",
        N + 2
    );
    for i in 0..N {
        unlink(&format!("bdir/x{i:03}"))?;
    }
    ensure_eq!(
        crate::util::names_in("bdir")?.len(),
        0,
        "entries after unlinking all"
    );
    unlink("bdir")
}

/// Names of exactly DIRSIZ bytes work at every level; one byte more is
/// ENAMETOOLONG, never a silent match of the first DIRSIZ bytes.
pub fn fourteen() -> TestResult {
    let n14 = "12345678901234";
    let n15 = "123456789012345";
    assert_eq!(n14.len(), DIRSIZ);
    ok("mkdir", fd::mkdir(n14))?;
    ok("mkdir nested", fd::mkdir(&format!("{n14}/{n14}")))?;
    write_file(&format!("{n14}/{n14}/{n14}"), b"deep")?;
    ensure_eq!(
        read_file(&format!("{n14}/{n14}/{n14}"))?,
        b"deep",
        "contents"
    );
    ensure_eq!(
        crate::util::names_in(n14)?,
        vec![n14.to_string()],
        "entries of the 14-byte directory"
    );
    want_err(
        "open with a 15-byte component",
        fd::open(&format!("{n14}/{n15}"), O_RDONLY),
        Errno::ENAMETOOLONG,
    )?;
    want_err(
        "create a 15-byte name",
        fd::open(n15, O_CREATE | O_RDWR),
        Errno::ENAMETOOLONG,
    )?;
    want_err(
        "mkdir a 15-byte name",
        fd::mkdir(&format!("{n14}/{n15}")),
        Errno::ENAMETOOLONG,
    )?;
    want_err(
        "15-byte middle component",
        fd::open(&format!("{n15}/{n14}"), O_RDONLY),
        Errno::ENAMETOOLONG,
    )?;
    unlink(&format!("{n14}/{n14}/{n14}"))?;
    unlink(&format!("{n14}/{n14}"))?;
    unlink(n14)
}
