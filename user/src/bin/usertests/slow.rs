//! Slow tests, run only when named (`usertests disk_full inodes_full`):
//! filling the whole disk and the whole inode table takes longer than the
//! rest of usertests together under emulation.

use ulib::abi::fcntl::{O_CREATE, O_RDWR, O_WRONLY};
use ulib::abi::fs::BSIZE;
use ulib::fd;
use ulib::prelude::*;
use ulib::test::TestResult;
use ulib::{ensure, ensure_eq};

use crate::util::{ok, read_file, unlink, write_file};

/// Bytes per file while filling the disk.
const FILL_FILE: usize = 4 << 20;

/// xv6's fsfull: write files until the disk is full; the write that finds
/// no free block fails with ENOSPC (after a short count); removing the
/// files gives the space back.
pub fn disk_full() -> TestResult {
    let chunk = vec![0x6bu8; 16 * BSIZE];
    let mut files = 0;
    let mut total = 0usize;
    let outcome = 'fill: loop {
        let name = format!("full{files}");
        let f = ok(
            &format!("create {name}"),
            fd::open(&name, O_CREATE | O_WRONLY),
        )?;
        files += 1;
        let mut size = 0;
        while size < FILL_FILE {
            match fd::write(f, &chunk) {
                Ok(n) if n == chunk.len() => size += n,
                Ok(n) => {
                    // Short: the disk filled up; the next write must say why.
                    total += size + n;
                    let again = fd::write(f, &chunk);
                    let _ = fd::close(f);
                    break 'fill again.map(|_| ());
                }
                Err(e) => {
                    total += size;
                    let _ = fd::close(f);
                    break 'fill Err(e);
                }
            }
        }
        total += size;
        ok("close", fd::close(f))?;
        ensure!(
            files < 1000,
            "wrote {files} files of {FILL_FILE} bytes without filling the disk"
        );
    };
    let freed = (0..files).try_for_each(|i| unlink(&format!("full{i}")));
    ensure_eq!(
        outcome,
        Err(Errno::ENOSPC),
        "the write that finds the disk full (after {total} bytes)"
    );
    freed?;
    ensure!(total > 1 << 20, "the disk was full after {total} bytes");
    // The blocks are free again.
    let again = vec![0x3cu8; FILL_FILE];
    write_file("again", &again)?;
    ensure!(
        read_file("again")? == again,
        "a file written after freeing the disk reads back wrong"
    );
    unlink("again")
}

/// Creating files until no inode is left: ENOSPC, and removing them
/// frees the inodes for reuse.
pub fn inodes_full() -> TestResult {
    let mut n = 0;
    let outcome = loop {
        match fd::open(&format!("i{n}"), O_CREATE | O_RDWR) {
            Ok(f) => {
                ok("close", fd::close(f))?;
                n += 1;
            }
            Err(e) => break e,
        }
        ensure!(
            n < 100_000,
            "created {n} files without running out of inodes"
        );
    };
    let freed = (0..n).try_for_each(|i| unlink(&format!("i{i}")));
    ensure_eq!(
        outcome,
        Errno::ENOSPC,
        "the create that finds no free inode (after {n})"
    );
    freed?;
    write_file("after", b"x")?;
    unlink("after")
}
