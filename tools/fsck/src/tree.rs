//! The directory pass: structure, reachability and link counts.
//!
//! Directories are walked breadth-first from two tops: the root, and the
//! layer area (inode `LAYERS_INO`, shown as `[layers]`; see `berth_abi::fs`),
//! whose `.` and `..` name itself like the root's. No entry may name the
//! layer area. Whiteout markers (devices with `WHITEOUT_MAJOR`) may be
//! named only inside it, where each is typically linked from many whiteout
//! entries (its link count is checked like any file's); directories may
//! carry the opaque flag (`DIR_OPAQUE` in `major`) only inside it.
//!
//! Each directory must start with
//! `.` (itself) and `..` (the directory that names it; the root's is the
//! root); every other entry must carry a well-formed name and name an
//! allocated inode, once per directory. A directory reached a second time is
//! a hard link to a directory or a loop, and is not walked again.
//!
//! Link counts then follow the rule the kernel keeps: a file's `nlink` is
//! the number of entries naming it (`.` and `..` aside); a directory's is 1
//! (its entry in its parent, implicit for the root) plus its subdirectories
//! (their `..`). An allocated inode nothing names is an orphan (a warning)
//! when its `nlink` is 0, since the kernel frees those at mount, and an
//! error otherwise.

use crate::blocks::Inodes;
use crate::image::{dirents, Fs};
use crate::problem::{DirRef, Problem};
use berth_abi::fs::{
    BSIZE, DIRENT_SIZE, DIRSIZ, DIR_OPAQUE, LAYERS_INO, MAXFILE, ROOTINO, T_DEVICE, T_DIR, T_FREE,
    WHITEOUT_MAJOR,
};
use std::collections::{HashSet, VecDeque};

/// Walks the directory tree and checks link counts.
pub(crate) fn check(
    fs: &Fs,
    inodes: &Inodes,
    errors: &mut Vec<Problem>,
    warnings: &mut Vec<Problem>,
) {
    let root = fs.inode(ROOTINO);
    if root.kind != T_DIR {
        // Nothing is reachable: every inode would be reported, and none of
        // it would say more than this.
        errors.push(Problem::RootNotDir { kind: root.kind });
        return;
    }
    let layers = fs.inode(LAYERS_INO).kind;
    if layers != T_DIR {
        errors.push(Problem::LayersNotDir { kind: layers });
    }
    let mut walk = Walk::new(fs, inodes, layers == T_DIR);
    if walk.run(errors) {
        walk.link_counts(errors, warnings);
    }
}

struct Walk<'a, 'f> {
    fs: &'a Fs<'f>,
    inodes: &'a Inodes,
    /// Entries (other than `.` and `..`) naming each inode.
    refs: Vec<u32>,
    /// Subdirectories of each directory in the tree.
    subdirs: Vec<u32>,
    /// Path of each inode by the first route found; `None` until named.
    path: Vec<Option<String>>,
    /// Parent of each reached directory in the tree being built.
    parent: Vec<u32>,
    /// What each walked directory's `..` entry names (`None`: slot 1 is not `..`).
    dotdot: Vec<Option<u32>>,
    /// Directories in the order they were walked.
    walked: Vec<u32>,
    /// Whether each reached directory lies in the layer area.
    in_layers: Vec<bool>,
    /// Whether to walk the layer area (it is a directory).
    walk_layers: bool,
}

/// How the layer area is shown in paths.
const LAYERS_PATH: &str = "[layers]";

impl<'a, 'f> Walk<'a, 'f> {
    fn new(fs: &'a Fs<'f>, inodes: &'a Inodes, walk_layers: bool) -> Self {
        let n = fs.g.ninodes as usize;
        Walk {
            fs,
            inodes,
            refs: vec![0; n],
            subdirs: vec![0; n],
            path: vec![None; n],
            parent: vec![0; n],
            dotdot: vec![None; n],
            walked: Vec::new(),
            in_layers: vec![false; n],
            walk_layers,
        }
    }

    /// Walks every reachable directory; false if it had to stop early.
    fn run(&mut self, errors: &mut Vec<Problem>) -> bool {
        self.path[ROOTINO as usize] = Some("/".into());
        self.parent[ROOTINO as usize] = ROOTINO;
        let mut queue = VecDeque::from([ROOTINO]);
        if self.walk_layers {
            self.path[LAYERS_INO as usize] = Some(LAYERS_PATH.into());
            self.parent[LAYERS_INO as usize] = LAYERS_INO;
            self.in_layers[LAYERS_INO as usize] = true;
            queue.push_back(LAYERS_INO);
        }
        // Without shared blocks or holes, all directories together fit in
        // the image; past that, a corrupt image could make the walk read the
        // same blocks over and over.
        let mut budget = self.fs.g.size as usize * BSIZE;
        while let Some(d) = queue.pop_front() {
            let dir = DirRef {
                inum: d,
                path: self.path[d as usize].clone().unwrap_or_default(),
            };
            let din = self.fs.inode(d);
            let len = (din.size as usize).min(MAXFILE * BSIZE);
            if len > budget {
                errors.push(Problem::DirectoriesTooLarge { dir });
                return false;
            }
            budget -= len;
            let flags = din.major
                & !if self.in_layers[d as usize] {
                    DIR_OPAQUE
                } else {
                    0
                };
            if flags != 0 {
                errors.push(Problem::BadDirFlags {
                    dir: dir.clone(),
                    major: din.major,
                });
            }
            let content = self.fs.read(&din, len, false).unwrap_or_default();
            self.directory(&dir, &content, errors, &mut queue);
            self.walked.push(d);
        }
        // `..` is judged once the tree is final: a second route to a
        // directory can still change which parent the tree gives it.
        for &d in &self.walked {
            let expected = self.parent[d as usize];
            match self.dotdot[d as usize] {
                Some(found) if found != expected => errors.push(Problem::BadDotDot {
                    dir: self.dir_ref(d),
                    found,
                    expected,
                }),
                _ => {}
            }
        }
        true
    }

    fn dir_ref(&self, d: u32) -> DirRef {
        DirRef {
            inum: d,
            path: self.path[d as usize].clone().unwrap_or_default(),
        }
    }

    /// What directory `d`'s `..` entry names, read straight from slot 1.
    fn peek_dotdot(&self, d: u32) -> Option<u32> {
        let din = self.fs.inode(d);
        if din.size < 2 * DIRENT_SIZE as u32 {
            return None;
        }
        let content = self.fs.read(&din, 2 * DIRENT_SIZE, false)?;
        let (_, e) = dirents(&content).nth(1)?;
        (e.inum != 0 && e.name_bytes() == b"..").then_some(e.inum as u32)
    }

    /// Checks one directory's entries and queues its subdirectories.
    fn directory(
        &mut self,
        dir: &DirRef,
        content: &[u8],
        errors: &mut Vec<Problem>,
        queue: &mut VecDeque<u32>,
    ) {
        let d = dir.inum;
        let entries: Vec<_> = dirents(content).collect();
        let named = |slot: usize, want: &[u8]| {
            entries
                .get(slot)
                .filter(|(_, e)| e.inum != 0 && e.name_bytes() == want)
                .map(|(_, e)| e.inum as u32)
        };
        match named(0, b".") {
            None => errors.push(Problem::MissingDot { dir: dir.clone() }),
            Some(found) if found != d => errors.push(Problem::BadDot {
                dir: dir.clone(),
                found,
            }),
            Some(_) => {}
        }
        self.dotdot[d as usize] = named(1, b"..");
        if self.dotdot[d as usize].is_none() {
            errors.push(Problem::MissingDotDot { dir: dir.clone() });
        }

        let mut names = HashSet::new();
        for (slot, e) in &entries {
            if e.inum == 0 {
                continue;
            }
            if let Some(reason) = name_fault(&e.name) {
                errors.push(Problem::BadName {
                    dir: dir.clone(),
                    slot: *slot,
                    reason,
                });
            }
            let name = e.name_bytes();
            if name == b"." || name == b".." {
                // Slots 0 and 1 were checked above.
                if *slot > 1 {
                    errors.push(Problem::StrayDot {
                        dir: dir.clone(),
                        slot: *slot,
                    });
                }
                continue;
            }
            let shown = printable(name);
            let inum = e.inum as u32;
            if inum >= self.fs.g.ninodes {
                errors.push(Problem::EntryOutOfRange {
                    dir: dir.clone(),
                    name: shown,
                    inum,
                });
                continue;
            }
            if !names.insert(name.to_vec()) {
                errors.push(Problem::DuplicateName {
                    dir: dir.clone(),
                    name: shown.clone(),
                });
            }
            if inum == LAYERS_INO {
                errors.push(Problem::LayersLinked {
                    dir: dir.clone(),
                    name: shown,
                });
                continue;
            }
            let kind = self.inodes.kinds[inum as usize];
            if kind == T_FREE {
                // An inode of unknown type was reported by the inode pass.
                if self.fs.inode(inum).kind == T_FREE {
                    errors.push(Problem::Dangling {
                        dir: dir.clone(),
                        name: shown,
                        inum,
                    });
                }
                continue;
            }
            self.refs[inum as usize] += 1;
            let child = if dir.path == "/" {
                format!("/{shown}")
            } else {
                format!("{}/{shown}", dir.path)
            };
            let in_layers = self.in_layers[d as usize];
            if kind == T_DEVICE && !in_layers && self.fs.inode(inum).major == WHITEOUT_MAJOR {
                errors.push(Problem::StrayWhiteout {
                    path: child.clone(),
                });
            }
            match (self.path[inum as usize].clone(), kind) {
                (Some(first), T_DIR) => {
                    let problem = self.second_route(inum, d, first, child);
                    errors.push(problem);
                }
                (Some(_), _) => {}
                (None, _) => {
                    self.path[inum as usize] = Some(child);
                    if kind == T_DIR {
                        self.in_layers[inum as usize] = in_layers;
                        self.parent[inum as usize] = d;
                        self.subdirs[d as usize] += 1;
                        queue.push_back(inum);
                    }
                }
            }
        }
    }

    /// Directory `inum`, already in the tree as `first`, is also named from
    /// `d` as `second`. One of the two names is extra; the directory's own
    /// `..` says which parent is real, so when it names `d` the tree is
    /// rearranged to hang `inum` under `d`, and the other route is the one
    /// reported.
    fn second_route(&mut self, inum: u32, d: u32, first: String, second: String) -> Problem {
        let old = self.parent[inum as usize];
        // The root's parent is itself, whatever its `..` claims.
        if inum != ROOTINO && old != d && self.peek_dotdot(inum) == Some(d) {
            self.subdirs[old as usize] -= 1;
            self.subdirs[d as usize] += 1;
            self.parent[inum as usize] = d;
            self.path[inum as usize] = Some(second.clone());
            Problem::DirReachableTwice {
                inum,
                first: second,
                second: first,
            }
        } else {
            Problem::DirReachableTwice {
                inum,
                first,
                second,
            }
        }
    }

    fn link_counts(&self, errors: &mut Vec<Problem>, warnings: &mut Vec<Problem>) {
        for inum in ROOTINO..self.fs.g.ninodes {
            let kind = self.inodes.kinds[inum as usize];
            if kind == T_FREE {
                continue;
            }
            let nlink = self.fs.inode(inum).nlink;
            match &self.path[inum as usize] {
                Some(path) => {
                    // A directory counts its place in the tree, not extra
                    // names: those are already reported as reachable twice.
                    let expected = if kind == T_DIR {
                        1 + self.subdirs[inum as usize]
                    } else {
                        self.refs[inum as usize]
                    };
                    if nlink as i64 != expected as i64 {
                        errors.push(Problem::BadLinkCount {
                            inum,
                            path: path.clone(),
                            nlink,
                            expected,
                        });
                    }
                }
                None if nlink == 0 => warnings.push(Problem::Orphan { inum, kind }),
                None => errors.push(Problem::Unreachable { inum, kind, nlink }),
            }
        }
    }
}

/// A name for messages: invalid UTF-8 replaced and control characters
/// escaped, so a corrupt name cannot break the one-line-per-problem output.
fn printable(name: &[u8]) -> String {
    String::from_utf8_lossy(name)
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// What is wrong with a directory-entry name, if anything: names are
/// non-empty, NUL-padded to `DIRSIZ`, and hold no `/` (path lookup could
/// never reach them).
fn name_fault(name: &[u8; DIRSIZ]) -> Option<&'static str> {
    let len = name.iter().position(|&c| c == 0).unwrap_or(DIRSIZ);
    if len == 0 {
        Some("empty")
    } else if name[len..].iter().any(|&c| c != 0) {
        Some("not NUL-padded")
    } else if name[..len].contains(&b'/') {
        Some("contains '/'")
    } else {
        None
    }
}
