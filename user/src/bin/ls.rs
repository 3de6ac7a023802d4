//! ls: lists files and directories, xv6-style.
//!
//! `ls [path...]` (default `.`). A file prints one line; a directory prints
//! one line per entry, in directory order, `.` and `..` included:
//!
//! ```text
//! NAME           TYPE INODE SIZE
//! README         2 2 2059
//! ```
//!
//! NAME is the last path component padded with spaces to 14 bytes (the
//! longest name, `DIRSIZ`), TYPE 1 for a directory, 2 for a file, 3 for a
//! device (no header line is printed). A path or entry that cannot be
//! opened is reported as `ls: PATH: <reason>` and the exit status is 1.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

use ulib::abi::fcntl::O_RDONLY;
use ulib::abi::fs::{Dirent, DIRENT_SIZE, DIRSIZ};
use ulib::abi::stat::{Stat, T_DIR};
use ulib::fd::{self, Fd};
use ulib::prelude::*;

entry!(main);

/// Directory entries read per `read`.
const ENTRIES_PER_READ: usize = 64;

fn main(args: Args) -> i32 {
    let mut paths: Vec<&str> = args.skip(1).collect();
    if paths.is_empty() {
        paths.push(".");
    }
    let mut ok = true;
    for p in paths {
        ok &= list(p);
    }
    i32::from(!ok)
}

/// Lists one command-line path; false if anything failed (already reported).
fn list(path: &str) -> bool {
    let (f, st) = match open_stat(path) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("ls: {path}: {}", e.description());
            return false;
        }
    };
    if st.kind != T_DIR {
        let _ = fd::close(f);
        println!("{}", line(last_component(path), &st));
        return true;
    }
    let listed = list_dir(path, f);
    let _ = fd::close(f);
    listed
}

/// Prints every entry of the directory `dir`, open as `f`.
fn list_dir(dir: &str, f: Fd) -> bool {
    let mut ok = true;
    let mut buf = [0u8; DIRENT_SIZE * ENTRIES_PER_READ];
    loop {
        let n = match fd::read(f, &mut buf) {
            Ok(0) => return ok,
            Ok(n) => n,
            Err(e) => {
                eprintln!("ls: {dir}: {}", e.description());
                return false;
            }
        };
        for raw in buf[..n].chunks_exact(DIRENT_SIZE) {
            let de = Dirent::from_bytes(raw);
            if de.inum == 0 {
                continue;
            }
            let name = String::from_utf8_lossy(de.name_bytes());
            let full = join(dir, &name);
            match open_stat(&full) {
                Ok((ef, st)) => {
                    let _ = fd::close(ef);
                    println!("{}", line(&name, &st));
                }
                Err(e) => {
                    eprintln!("ls: {full}: {}", e.description());
                    ok = false;
                }
            }
        }
    }
}

/// Opens `path` read-only and stats it.
fn open_stat(path: &str) -> Result<(Fd, Stat), Errno> {
    let f = fd::open(path, O_RDONLY)?;
    match fd::fstat(f) {
        Ok(st) => Ok((f, st)),
        Err(e) => {
            let _ = fd::close(f);
            Err(e)
        }
    }
}

/// `dir/name`, without doubling a trailing slash.
fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The part of `path` after its last slash (`path` itself if that is empty).
fn last_component(path: &str) -> &str {
    match path.trim_end_matches('/').rsplit('/').next() {
        Some(last) if !last.is_empty() => last,
        _ => path,
    }
}

/// One output line: padded name, type, inode, size.
fn line(name: &str, st: &Stat) -> String {
    format!(
        "{name:<width$} {} {} {}",
        st.kind,
        st.ino,
        st.size,
        width = DIRSIZ
    )
}
