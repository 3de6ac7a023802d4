//! Reading files out of an image, as the kernel would see them after
//! mounting: a committed log is replayed first (on a private copy; the
//! bytes given are never changed).
//!
//! [`Image`] is the public read API (open, look up a path, read an inode's
//! contents, list a directory), used by host tools such as `fsimg`; every
//! failure is a [`ReadError`], never a panic. [`read_file`], [`read_path`]
//! and [`list_dir`] are the `Option` shorthands tests use.
//!
//! These readers are strict: any address outside the data area, a
//! superblock that does not check out, or an untrustworthy log header makes
//! them fail rather than guess.

use crate::image::{dirents, Fs};
use crate::{log, superblock};
use berth_abi::fs::{Dinode, BSIZE, MAXFILE, ROOTINO, T_DIR, T_FILE};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// Why an [`Image`] read failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The superblock does not check out (bad magic, truncated image,
    /// regions out of order): nothing in the image can be trusted.
    BadImage(String),
    /// The log header cannot be trusted, so what the kernel would mount is unknown.
    BadLog(String),
    /// No entry has this path.
    NotFound { path: String },
    /// The path, or one of its leading components, is not a directory.
    NotADirectory { path: String },
    /// The path names a directory or device where a regular file was wanted.
    NotAFile { path: String, kind: i16 },
    /// An inode number out of range, a block address outside the data area,
    /// or a size past the largest file.
    Corrupt(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::BadImage(why) => write!(f, "not a usable berth image: {why}"),
            ReadError::BadLog(why) => write!(f, "untrustworthy log: {why}"),
            ReadError::NotFound { path } => write!(f, "{path}: no such file or directory"),
            ReadError::NotADirectory { path } => write!(f, "{path}: not a directory"),
            ReadError::NotAFile { path, kind } => {
                let what = match *kind {
                    T_DIR => "a directory",
                    _ => "not a regular file",
                };
                write!(f, "{path}: {what}")
            }
            ReadError::Corrupt(why) => write!(f, "corrupt image: {why}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// One live directory entry, with its inode's type and size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The entry's name (at most `DIRSIZ` bytes, not necessarily UTF-8).
    pub name: Vec<u8>,
    pub inum: u32,
    /// `T_DIR`, `T_FILE`, `T_DEVICE`, or `T_FREE` for an entry naming a free inode.
    pub kind: i16,
    pub size: u32,
}

/// An image opened for reading, with any committed log replayed in memory.
pub struct Image<'a> {
    fs: Fs<'a>,
    replayed: usize,
}

impl<'a> Image<'a> {
    /// Checks the superblock and the log header, and replays a committed
    /// log into a private copy.
    pub fn open(bytes: &'a [u8]) -> Result<Image<'a>, ReadError> {
        let join = |problems: Vec<crate::Problem>| {
            problems
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let (g, _) = superblock::check(bytes).map_err(|p| ReadError::BadImage(join(p)))?;
        let targets = log::committed(bytes, &g).map_err(|p| ReadError::BadLog(join(p)))?;
        let replayed = targets.len();
        let bytes = if targets.is_empty() {
            Cow::Borrowed(bytes)
        } else {
            Cow::Owned(log::replay(bytes, &g, &targets))
        };
        Ok(Image {
            fs: Fs::new(bytes, g),
            replayed,
        })
    }

    /// How many logged blocks [`Image::open`] installed (0: the log was clean).
    pub fn log_replayed(&self) -> usize {
        self.replayed
    }

    /// Inode `inum`.
    pub fn inode(&self, inum: u32) -> Result<Dinode, ReadError> {
        if inum >= self.fs.g.ninodes {
            return Err(ReadError::Corrupt(format!(
                "inode {inum} is past the last inode ({})",
                self.fs.g.ninodes - 1
            )));
        }
        Ok(self.fs.inode(inum))
    }

    /// The `size` bytes of inode `inum`'s contents (holes read as zeros).
    pub fn contents(&self, inum: u32) -> Result<Vec<u8>, ReadError> {
        let d = self.inode(inum)?;
        if d.size as usize > MAXFILE * BSIZE {
            return Err(ReadError::Corrupt(format!(
                "inode {inum} is {} bytes, past the largest file",
                d.size
            )));
        }
        self.fs.read(&d, d.size as usize, true).ok_or_else(|| {
            ReadError::Corrupt(format!(
                "inode {inum} has a block address outside the data area"
            ))
        })
    }

    /// The live entries of directory `inum` in entry order, `.` and `..` included.
    pub fn read_dir(&self, inum: u32) -> Result<Vec<Entry>, ReadError> {
        self.names(inum)?
            .into_iter()
            .map(|(name, inum)| {
                let d = self.inode(inum)?;
                Ok(Entry {
                    name,
                    inum,
                    kind: d.kind,
                    size: d.size,
                })
            })
            .collect()
    }

    /// `(name, inode)` of each live entry of directory `inum`; the inode
    /// numbers are not checked yet.
    fn names(&self, inum: u32) -> Result<Vec<(Vec<u8>, u32)>, ReadError> {
        let content = self.contents(inum)?;
        Ok(dirents(&content)
            .filter(|(_, e)| e.inum != 0)
            .map(|(_, e)| (e.name_bytes().to_vec(), e.inum as u32))
            .collect())
    }

    /// The inode at `path`, following entries from the root (`/` and the
    /// empty path are the root; a leading `/` is optional).
    pub fn lookup(&self, path: &str) -> Result<u32, ReadError> {
        let mut cur = ROOTINO;
        let mut walked = String::new();
        for part in path.split('/').filter(|p| !p.is_empty()) {
            if self.inode(cur)?.kind != T_DIR {
                return Err(ReadError::NotADirectory {
                    path: if walked.is_empty() {
                        "/".into()
                    } else {
                        walked
                    },
                });
            }
            walked = format!("{walked}/{part}");
            cur = self
                .names(cur)?
                .into_iter()
                .find(|(name, _)| name == part.as_bytes())
                .ok_or_else(|| ReadError::NotFound {
                    path: walked.clone(),
                })?
                .1;
            self.inode(cur)?;
        }
        Ok(cur)
    }

    /// The contents of the regular file at `path`.
    pub fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        let inum = self.lookup(path)?;
        let kind = self.inode(inum)?.kind;
        if kind != T_FILE {
            return Err(ReadError::NotAFile {
                path: path.to_string(),
                kind,
            });
        }
        self.contents(inum)
    }

    /// The entries of the directory at `path`, `.` and `..` included.
    pub fn list(&self, path: &str) -> Result<Vec<Entry>, ReadError> {
        let inum = self.lookup(path)?;
        if self.inode(inum)?.kind != T_DIR {
            return Err(ReadError::NotADirectory {
                path: path.to_string(),
            });
        }
        self.read_dir(inum)
    }
}

impl Image<'_> {
    /// Every path reachable from the root (`/` itself included), with its
    /// entry; each directory is entered once (a second link to one is
    /// listed but not walked again).
    pub fn tree(&self) -> Result<BTreeMap<String, Entry>, ReadError> {
        let root = self.inode(ROOTINO)?;
        let mut out = BTreeMap::new();
        out.insert(
            "/".to_string(),
            Entry {
                name: b"/".to_vec(),
                inum: ROOTINO,
                kind: root.kind,
                size: root.size,
            },
        );
        let mut seen = std::collections::BTreeSet::from([ROOTINO]);
        let mut todo = vec![(String::new(), ROOTINO)];
        while let Some((path, inum)) = todo.pop() {
            for e in self.read_dir(inum)? {
                if e.name == b"." || e.name == b".." {
                    continue;
                }
                let p = format!("{path}/{}", String::from_utf8_lossy(&e.name));
                if e.kind == T_DIR && seen.insert(e.inum) {
                    todo.push((p.clone(), e.inum));
                }
                out.insert(p, e);
            }
        }
        Ok(out)
    }
}

/// What differs between two trees ([`Image::tree`]): one line per path
/// only in one of them or with another kind, size or inode.
pub fn tree_diff(before: &BTreeMap<String, Entry>, after: &BTreeMap<String, Entry>) -> Vec<String> {
    let mut out = Vec::new();
    for (p, b) in before {
        match after.get(p) {
            None => out.push(format!(
                "{p}: gone (was {} bytes, inode {})",
                b.size, b.inum
            )),
            Some(a) if (a.kind, a.size, a.inum) != (b.kind, b.size, b.inum) => out.push(format!(
                "{p}: kind {} size {} inode {} (was kind {} size {} inode {})",
                a.kind, a.size, a.inum, b.kind, b.size, b.inum
            )),
            Some(_) => {}
        }
    }
    for (p, a) in after {
        if !before.contains_key(p) {
            out.push(format!("{p}: new ({} bytes, inode {})", a.size, a.inum));
        }
    }
    out
}

/// Contents of the regular file `name` in the root directory.
pub fn read_file(image: &[u8], name: &str) -> Option<Vec<u8>> {
    if name.contains('/') {
        return None;
    }
    read_path(image, name)
}

/// Contents of the regular file at `path` (absolute or relative to the root).
pub fn read_path(image: &[u8], path: &str) -> Option<Vec<u8>> {
    Image::open(image).ok()?.read_file(path).ok()
}

/// Names in the directory at `path`, in entry order, without `.` and `..`.
pub fn list_dir(image: &[u8], path: &str) -> Option<Vec<String>> {
    let entries = Image::open(image).ok()?.list(path).ok()?;
    let names = entries
        .into_iter()
        .filter(|e| e.name != b"." && e.name != b"..")
        .map(|e| String::from_utf8_lossy(&e.name).into_owned())
        .collect();
    Some(names)
}
