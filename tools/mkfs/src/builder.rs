//! The image being built, as a tree of inodes held in memory.
//!
//! Files and directories are added one at a time and every addition is
//! checked at once (name, duplicates, file size, free inodes, free blocks),
//! so an error names the file that did not fit. Nothing is laid out on disk
//! until [`Builder::finish`] (see `encode.rs`): keeping the tree until the end
//! lets link counts be computed from the final set of entries instead of
//! being patched as entries appear.

use crate::encode;
use crate::error::{check_name, MkfsError};
use berth_abi::fs::{
    layout, SuperBlock, BPB, BSIZE, DIRENT_SIZE, IPB, LAYERS_INO, LOGSIZE, MAXFILE, ROOTINO,
    WHITEOUT_MAJOR,
};

/// Largest file mkfs accepts, in bytes.
pub const MAX_FILE_BYTES: u64 = (MAXFILE * BSIZE) as u64;

/// Largest inode count: directory entries hold 16-bit inode numbers.
pub const MAX_INODES: u32 = 1 << 16;

/// What an inode holds.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// A directory: its entries in order, `.` and `..` first.
    Dir(Vec<(Vec<u8>, u32)>),
    /// A regular file's bytes.
    File(Vec<u8>),
    /// A device node.
    Device { major: i16, minor: i16 },
}

impl Node {
    /// Size in bytes as the inode will record it.
    pub(crate) fn size(&self) -> u64 {
        match self {
            Node::Dir(entries) => (entries.len() * DIRENT_SIZE) as u64,
            Node::File(data) => data.len() as u64,
            Node::Device { .. } => 0,
        }
    }
}

/// Blocks (data plus indirect tables) a file of `bytes` bytes occupies.
pub fn blocks_for(bytes: u64) -> u64 {
    use berth_abi::fs::{NDIRECT, NINDIRECT};
    let (ndirect, nindirect) = (NDIRECT as u64, NINDIRECT as u64);
    let data = bytes.div_ceil(BSIZE as u64);
    let mut tables = 0;
    if data > ndirect {
        tables += 1;
    }
    if data > ndirect + nindirect {
        // The doubly-indirect block plus one table per NINDIRECT blocks past it.
        tables += 1 + (data - ndirect - nindirect).div_ceil(nindirect);
    }
    data + tables
}

/// An image under construction.
#[derive(Clone, Debug)]
pub struct Builder {
    sb: SuperBlock,
    /// `nodes[i]` is inode `i + ROOTINO`; inode 0 is never used.
    nodes: Vec<Node>,
    /// Data blocks the current tree needs.
    blocks_needed: u64,
}

impl Builder {
    /// Starts an image of `size` blocks with `ninodes` inodes (inode 0
    /// included, as in the superblock), holding only the root directory
    /// (inode 1) and the empty layer area (inode 2, `LAYERS_INO`, see
    /// `berth_abi::fs`), which nothing else may be added to.
    pub fn new(size: u32, ninodes: u32) -> Result<Builder, MkfsError> {
        if ninodes < 3 {
            return Err(MkfsError::Geometry(format!(
                "{ninodes} inodes leave no room for the root directory (inode 1) and the layer area (inode 2)"
            )));
        }
        if ninodes > MAX_INODES {
            return Err(MkfsError::Geometry(format!(
                "{ninodes} inodes is more than directory entries can name (at most {MAX_INODES})"
            )));
        }
        // `layout` is const arithmetic on u32 that would underflow on a tiny
        // image, so check the metadata fits before calling it.
        let nmeta = 2
            + (LOGSIZE as u64 + 1)
            + (ninodes / IPB as u32 + 1) as u64
            + (size / BPB as u32 + 1) as u64;
        if (size as u64) <= nmeta {
            return Err(MkfsError::Geometry(format!(
                "an image of {size} blocks is too small: its metadata alone takes {nmeta} blocks"
            )));
        }
        let sb = layout(size, ninodes);
        let mut b = Builder {
            sb,
            nodes: [ROOTINO, LAYERS_INO]
                .map(|i| Node::Dir(vec![(b".".to_vec(), i), (b"..".to_vec(), i)]))
                .to_vec(),
            blocks_needed: 0,
        };
        debug_assert_eq!(LAYERS_INO, ROOTINO + 1);
        b.blocks_needed = b.nodes.iter().map(|n| blocks_for(n.size())).sum();
        if b.blocks_needed > sb.nblocks as u64 {
            return Err(MkfsError::OutOfBlocks {
                name: "/".into(),
                needed: b.blocks_needed,
                available: sb.nblocks,
            });
        }
        Ok(b)
    }

    /// The superblock this image will carry.
    pub fn superblock(&self) -> SuperBlock {
        self.sb
    }

    /// Data blocks the image uses so far (file data, directories, indirect tables).
    pub fn blocks_used(&self) -> u64 {
        self.blocks_needed
    }

    /// Inodes in use so far, the root and the layer area included.
    pub fn inodes_used(&self) -> u32 {
        self.nodes.len() as u32
    }

    /// Adds a regular file `name` holding `data` to directory `dir`; returns its inode number.
    pub fn add_file(&mut self, dir: u32, name: &[u8], data: Vec<u8>) -> Result<u32, MkfsError> {
        if data.len() as u64 > MAX_FILE_BYTES {
            return Err(MkfsError::FileTooLarge {
                name: lossy(name),
                bytes: data.len() as u64,
            });
        }
        self.add(dir, name, Node::File(data))
    }

    /// Adds an empty directory `name` to directory `dir`; returns its inode number.
    pub fn mkdir(&mut self, dir: u32, name: &[u8]) -> Result<u32, MkfsError> {
        // `.` and `..` are filled in by `add`, which knows the new number.
        self.add(dir, name, Node::Dir(Vec::new()))
    }

    /// Adds a device node `name` (`T_DEVICE`, `major`, `minor`) to directory `dir`.
    pub fn mknod(
        &mut self,
        dir: u32,
        name: &[u8],
        major: i16,
        minor: i16,
    ) -> Result<u32, MkfsError> {
        if major == WHITEOUT_MAJOR {
            return Err(MkfsError::Reserved(format!(
                "device major {WHITEOUT_MAJOR:#x} (whiteout)"
            )));
        }
        self.add(dir, name, Node::Device { major, minor })
    }

    /// Adds another name for the existing non-directory `inum` (a hard link).
    pub fn link(&mut self, dir: u32, name: &[u8], inum: u32) -> Result<(), MkfsError> {
        match self.node(inum) {
            Some(Node::File(_)) | Some(Node::Device { .. }) => {}
            _ => return Err(MkfsError::BadLinkTarget { inum }),
        }
        self.check_entry(dir, name)?;
        let grow = self.entry_growth(dir);
        self.reserve(name, grow)?;
        self.push_entry(dir, name, inum);
        Ok(())
    }

    /// Lays the tree out and returns the image bytes.
    pub fn finish(self) -> Result<Vec<u8>, MkfsError> {
        encode::encode(&self.sb, &self.nodes)
    }

    fn add(&mut self, dir: u32, name: &[u8], mut node: Node) -> Result<u32, MkfsError> {
        self.check_entry(dir, name)?;
        let inum = ROOTINO + self.nodes.len() as u32;
        if inum >= self.sb.ninodes {
            return Err(MkfsError::OutOfInodes {
                name: lossy(name),
                ninodes: self.sb.ninodes,
            });
        }
        if let Node::Dir(entries) = &mut node {
            *entries = vec![(b".".to_vec(), inum), (b"..".to_vec(), dir)];
        }
        let grow = self.entry_growth(dir) + blocks_for(node.size());
        self.reserve(name, grow)?;
        self.nodes.push(node);
        self.push_entry(dir, name, inum);
        Ok(inum)
    }

    /// Checks that `dir` is a directory and `name` a new, valid name in it.
    fn check_entry(&self, dir: u32, name: &[u8]) -> Result<(), MkfsError> {
        check_name(name)?;
        if dir == LAYERS_INO {
            return Err(MkfsError::Reserved(format!(
                "the layer area (inode {LAYERS_INO})"
            )));
        }
        match self.node(dir) {
            Some(Node::Dir(entries)) if entries.iter().any(|(n, _)| n == name) => {
                Err(MkfsError::DuplicateName { name: lossy(name) })
            }
            Some(Node::Dir(_)) => Ok(()),
            _ => Err(MkfsError::NotADirectory { inum: dir }),
        }
    }

    /// Extra blocks directory `dir` needs for one more entry.
    fn entry_growth(&self, dir: u32) -> u64 {
        let size = self.node(dir).map_or(0, Node::size);
        blocks_for(size + DIRENT_SIZE as u64) - blocks_for(size)
    }

    /// Claims `more` data blocks or says the image is full.
    fn reserve(&mut self, name: &[u8], more: u64) -> Result<(), MkfsError> {
        let needed = self.blocks_needed + more;
        if needed > self.sb.nblocks as u64 {
            return Err(MkfsError::OutOfBlocks {
                name: lossy(name),
                needed,
                available: self.sb.nblocks,
            });
        }
        self.blocks_needed = needed;
        Ok(())
    }

    fn push_entry(&mut self, dir: u32, name: &[u8], inum: u32) {
        if let Some(Node::Dir(entries)) = self.node_mut(dir) {
            entries.push((name.to_vec(), inum));
        }
    }

    fn node(&self, inum: u32) -> Option<&Node> {
        self.nodes.get(inum.checked_sub(ROOTINO)? as usize)
    }

    fn node_mut(&mut self, inum: u32) -> Option<&mut Node> {
        self.nodes.get_mut(inum.checked_sub(ROOTINO)? as usize)
    }
}

fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_abi::fs::{NDIRECT, NINDIRECT};

    #[test]
    fn block_accounting() {
        let b = BSIZE as u64;
        assert_eq!(blocks_for(0), 0);
        assert_eq!(blocks_for(1), 1);
        assert_eq!(blocks_for(NDIRECT as u64 * b), NDIRECT as u64);
        assert_eq!(blocks_for(NDIRECT as u64 * b + 1), NDIRECT as u64 + 2);
        let single = (NDIRECT + NINDIRECT) as u64;
        assert_eq!(blocks_for(single * b), single + 1);
        assert_eq!(blocks_for(single * b + 1), single + 1 + 3);
        assert_eq!(
            blocks_for(MAX_FILE_BYTES),
            MAXFILE as u64 + 1 + 1 + NINDIRECT as u64
        );
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(matches!(
            Builder::new(100, 200),
            Err(MkfsError::Geometry(_))
        ));
        assert!(matches!(Builder::new(2000, 1), Err(MkfsError::Geometry(_))));
        assert!(matches!(Builder::new(2000, 2), Err(MkfsError::Geometry(_))));
        assert!(Builder::new(2000, 3).is_ok());
        assert!(matches!(
            Builder::new(200_000, MAX_INODES + 1),
            Err(MkfsError::Geometry(_))
        ));
        assert!(Builder::new(200_000, MAX_INODES).is_ok());
    }

    #[test]
    fn rejects_bad_entries() {
        let mut b = Builder::new(2000, 64).unwrap();
        b.add_file(ROOTINO, b"a", vec![1]).unwrap();
        assert!(matches!(
            b.add_file(ROOTINO, b"a", vec![]),
            Err(MkfsError::DuplicateName { .. })
        ));
        assert!(matches!(
            b.add_file(ROOTINO, b"fifteen-bytes!!", vec![]),
            Err(MkfsError::BadName { .. })
        ));
        assert!(matches!(
            b.add_file(3, b"x", vec![]),
            Err(MkfsError::NotADirectory { inum: 3 })
        ));
        assert!(matches!(
            b.add_file(LAYERS_INO, b"x", vec![]),
            Err(MkfsError::Reserved(_))
        ));
        assert!(matches!(
            b.mkdir(LAYERS_INO, b"c1"),
            Err(MkfsError::Reserved(_))
        ));
        assert!(matches!(
            b.mknod(ROOTINO, b"wh", WHITEOUT_MAJOR, 0),
            Err(MkfsError::Reserved(_))
        ));
        assert!(matches!(
            b.add_file(99, b"x", vec![]),
            Err(MkfsError::NotADirectory { inum: 99 })
        ));
        assert!(matches!(
            b.link(ROOTINO, b"root", ROOTINO),
            Err(MkfsError::BadLinkTarget { .. })
        ));
    }

    #[test]
    fn runs_out_of_inodes_and_blocks() {
        let mut b = Builder::new(2000, 5).unwrap();
        b.add_file(ROOTINO, b"a", vec![]).unwrap();
        b.add_file(ROOTINO, b"b", vec![]).unwrap();
        assert!(matches!(
            b.add_file(ROOTINO, b"c", vec![]),
            Err(MkfsError::OutOfInodes { .. })
        ));

        let mut b = Builder::new(2000, 64).unwrap();
        let room = b.superblock().nblocks as u64 - b.blocks_used();
        let too_big = vec![7u8; (room as usize) * BSIZE];
        assert!(matches!(
            b.add_file(ROOTINO, b"big", too_big),
            Err(MkfsError::OutOfBlocks { .. })
        ));
        // A failed addition leaves the builder as it was.
        assert_eq!(b.inodes_used(), 2);
        assert_eq!(b.superblock().nblocks as u64 - b.blocks_used(), room);
    }

    #[test]
    fn rejects_files_over_maxfile() {
        let mut b = Builder::new(200_000, 64).unwrap();
        let data = vec![0u8; MAX_FILE_BYTES as usize + 1];
        assert!(matches!(
            b.add_file(ROOTINO, b"huge", data),
            Err(MkfsError::FileTooLarge { .. })
        ));
    }
}
