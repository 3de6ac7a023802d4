//! Reading files out of an image, as the kernel would see them after
//! mounting: a committed log is replayed first.
//!
//! These readers are strict: any address outside the data area, a
//! superblock that does not check out, or an untrustworthy log header makes
//! them return `None` rather than guess.

use crate::image::{dirents, Fs};
use crate::{log, superblock};
use berth_abi::fs::{Dinode, BSIZE, MAXFILE, ROOTINO, T_DIR, T_FILE};
use std::borrow::Cow;

/// Contents of the regular file `name` in the root directory.
pub fn read_file(image: &[u8], name: &str) -> Option<Vec<u8>> {
    if name.contains('/') {
        return None;
    }
    read_path(image, name)
}

/// Contents of the regular file at `path` (absolute or relative to the root).
pub fn read_path(image: &[u8], path: &str) -> Option<Vec<u8>> {
    let fs = mount(image)?;
    let d = fs.inode(resolve(&fs, path)?);
    if d.kind != T_FILE {
        return None;
    }
    contents(&fs, &d)
}

/// Names in the directory at `path`, in entry order, without `.` and `..`.
pub fn list_dir(image: &[u8], path: &str) -> Option<Vec<String>> {
    let fs = mount(image)?;
    let d = fs.inode(resolve(&fs, path)?);
    if d.kind != T_DIR {
        return None;
    }
    let content = contents(&fs, &d)?;
    let names = dirents(&content)
        .filter(|(_, e)| e.inum != 0 && e.name_bytes() != b"." && e.name_bytes() != b"..")
        .map(|(_, e)| String::from_utf8_lossy(e.name_bytes()).into_owned())
        .collect();
    Some(names)
}

fn mount(image: &[u8]) -> Option<Fs<'_>> {
    let (g, _) = superblock::check(image).ok()?;
    let targets = log::committed(image, &g).ok()?;
    let bytes = if targets.is_empty() {
        Cow::Borrowed(image)
    } else {
        Cow::Owned(log::replay(image, &g, &targets))
    };
    Some(Fs::new(bytes, g))
}

fn contents(fs: &Fs, d: &Dinode) -> Option<Vec<u8>> {
    if d.size as usize > MAXFILE * BSIZE {
        return None;
    }
    fs.read(d, d.size as usize, true)
}

/// Inode number at `path`, following entries from the root.
fn resolve(fs: &Fs, path: &str) -> Option<u32> {
    let mut cur = ROOTINO;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        let d = fs.inode(cur);
        if d.kind != T_DIR {
            return None;
        }
        let content = contents(fs, &d)?;
        let (_, e) =
            dirents(&content).find(|(_, e)| e.inum != 0 && e.name_bytes() == part.as_bytes())?;
        cur = e.inum as u32;
        if cur >= fs.g.ninodes {
            return None;
        }
    }
    Some(cur)
}
