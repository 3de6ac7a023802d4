//! Laying the finished tree out as image bytes.
//!
//! Data blocks are handed out in one ascending run from the first data
//! block, inode by inode, so the used blocks are exactly
//! `0..next` and the free bitmap is a single prefix: metadata plus used
//! data, nothing else. Each indirect table is allocated just before the
//! first data block it maps. The log header stays zero (no transaction).

use crate::builder::Node;
use crate::error::MkfsError;
use berth_abi::fs::{
    inode_block, Dinode, Dirent, SuperBlock, BPB, BSIZE, DINODE_SIZE, DIRSIZ, IPB, NADDRS, NDIRECT,
    NINDIRECT, ROOTINO, SUPERBLOCK, T_DEVICE, T_DIR, T_FILE,
};
use std::borrow::Cow;

/// Builds the image for `nodes` (inode `i + ROOTINO` is `nodes[i]`).
///
/// The builder has already checked that everything fits, so running out of
/// blocks here would be a bug in its accounting; it is still reported as an
/// error rather than a panic.
pub(crate) fn encode(sb: &SuperBlock, nodes: &[Node]) -> Result<Vec<u8>, MkfsError> {
    let bytes = sb.size as u64 * BSIZE as u64;
    let mut img = Vec::new();
    img.try_reserve_exact(bytes as usize)
        .map_err(|_| MkfsError::OutOfMemory { bytes })?;
    img.resize(bytes as usize, 0);

    let mut w = Writer {
        img: &mut img,
        next: sb.data_start(),
        end: sb.size,
    };
    w.block_mut(SUPERBLOCK)[..32].copy_from_slice(&sb.to_bytes());

    let nlinks = link_counts(nodes);
    for (i, node) in nodes.iter().enumerate() {
        let inum = ROOTINO + i as u32;
        let content: Cow<[u8]> = match node {
            Node::Dir(entries) => Cow::Owned(dir_bytes(entries)),
            Node::File(data) => Cow::Borrowed(data),
            Node::Device { .. } => Cow::Borrowed(&[]),
        };
        let addrs = w.write_data(&content)?;
        let (kind, major, minor) = match node {
            Node::Dir(_) => (T_DIR, 0, 0),
            Node::File(_) => (T_FILE, 0, 0),
            Node::Device { major, minor } => (T_DEVICE, *major, *minor),
        };
        let din = Dinode {
            kind,
            major,
            minor,
            nlink: nlinks[i],
            size: content.len() as u32,
            addrs,
        };
        let off = (inum as usize % IPB) * DINODE_SIZE;
        w.block_mut(inode_block(inum, sb))[off..off + DINODE_SIZE].copy_from_slice(&din.to_bytes());
    }

    // Mark blocks 0..next: the metadata and every data block handed out.
    let used = w.next;
    for b in 0..used {
        let bit = b as usize % BPB;
        w.block_mut(sb.bmapstart + b / BPB as u32)[bit / 8] |= 1 << (bit % 8);
    }
    Ok(img)
}

/// Link counts by berth's rule: a name in a directory counts once, `.` never
/// does, and each subdirectory's `..` counts for its parent; the root and
/// the layer area (the directories whose `..` names themselves) have an
/// implicit extra link standing in for the parent entry they lack.
fn link_counts(nodes: &[Node]) -> Vec<i16> {
    let mut n = vec![0i64; nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        if let Node::Dir(entries) = node {
            let me = ROOTINO + i as u32;
            for (name, inum) in entries {
                // A top directory's own `..` is its implicit link.
                if name == b".." && *inum == me {
                    n[i] += 1;
                } else if name != b"." {
                    n[(inum - ROOTINO) as usize] += 1;
                }
            }
        }
    }
    // Directory entry counts are bounded by the image size; a count past
    // i16 could only come from an absurd number of links to one file.
    n.into_iter()
        .map(|c| c.clamp(0, i16::MAX as i64) as i16)
        .collect()
}

fn dir_bytes(entries: &[(Vec<u8>, u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 16);
    for (name, inum) in entries {
        let mut de = Dirent {
            inum: *inum as u16,
            name: [0; DIRSIZ],
        };
        de.name[..name.len()].copy_from_slice(name);
        out.extend_from_slice(&de.to_bytes());
    }
    out
}

/// Sequential block allocator over the image.
struct Writer<'a> {
    img: &'a mut [u8],
    next: u32,
    end: u32,
}

impl Writer<'_> {
    fn block_mut(&mut self, b: u32) -> &mut [u8] {
        let off = b as usize * BSIZE;
        &mut self.img[off..off + BSIZE]
    }

    fn alloc(&mut self) -> Result<u32, MkfsError> {
        if self.next >= self.end {
            return Err(MkfsError::OutOfBlocks {
                name: "(layout)".into(),
                needed: self.end as u64 + 1,
                available: self.end,
            });
        }
        self.next += 1;
        Ok(self.next - 1)
    }

    /// Writes `data` into freshly allocated blocks and returns the inode's addresses.
    fn write_data(&mut self, data: &[u8]) -> Result<[u32; NADDRS], MkfsError> {
        let mut addrs = [0u32; NADDRS];
        let mut single: Option<(u32, Vec<u32>)> = None;
        let mut double: Option<(u32, Vec<u32>)> = None;
        let mut tables: Vec<(u32, Vec<u32>)> = Vec::new();
        for (fbn, chunk) in data.chunks(BSIZE).enumerate() {
            let table = if fbn < NDIRECT {
                None
            } else if fbn < NDIRECT + NINDIRECT {
                if single.is_none() {
                    single = Some((self.alloc()?, vec![0; NINDIRECT]));
                }
                single.as_mut().map(|(_, t)| (t, fbn - NDIRECT))
            } else {
                let k = (fbn - NDIRECT - NINDIRECT) / NINDIRECT;
                if double.is_none() {
                    double = Some((self.alloc()?, vec![0; NINDIRECT]));
                }
                if tables.len() == k {
                    let t = self.alloc()?;
                    if let Some((_, d)) = double.as_mut() {
                        d[k] = t;
                    }
                    tables.push((t, vec![0; NINDIRECT]));
                }
                tables
                    .last_mut()
                    .map(|(_, t)| (t, (fbn - NDIRECT - NINDIRECT) % NINDIRECT))
            };
            let b = self.alloc()?;
            match table {
                None => addrs[fbn] = b,
                Some((t, i)) => t[i] = b,
            }
            self.block_mut(b)[..chunk.len()].copy_from_slice(chunk);
        }
        if let Some((b, t)) = &single {
            addrs[NDIRECT] = *b;
            self.put_table(*b, t);
        }
        if let Some((b, t)) = &double {
            addrs[NDIRECT + 1] = *b;
            self.put_table(*b, t);
        }
        for (b, t) in &tables {
            self.put_table(*b, t);
        }
        Ok(addrs)
    }

    fn put_table(&mut self, b: u32, table: &[u32]) {
        let blk = self.block_mut(b);
        for (i, a) in table.iter().enumerate() {
            blk[i * 4..i * 4 + 4].copy_from_slice(&a.to_le_bytes());
        }
    }
}
