//! Writing an empty file system (what `mkfs` does without host files), for
//! tests and for a kernel RAM disk.
//!
//! The layout is `berth_abi::fs::layout`: boot block, superblock, log,
//! inodes, bitmap, data. The bitmap marks every metadata block and the
//! blocks of the two top directories as used: the root (inode 1) and the
//! layer area (inode 2, `LAYERS_INO`, in the next block) each hold `.` and
//! `..`, both naming itself, and have one link (the implicit entry in a
//! parent), as mkfs makes them.
//! Runs before the file system is mounted, writing the device directly.

use berth_abi::errno::Errno;
use berth_abi::fs::{
    layout, Dinode, Dirent, SuperBlock, BPB, BSIZE, DINODE_SIZE, DIRENT_SIZE, DIRSIZ, IPB,
    LAYERS_INO, LOGSIZE, ROOTINO, SUPERBLOCK, T_DIR,
};

use super::device::BlockDevice;

/// Formats the whole of `dev` with `ninodes` inodes (3..=65536); `EINVAL`
/// when the device is too small for the metadata and two data blocks.
pub fn format(dev: &dyn BlockDevice, ninodes: u32) -> Result<SuperBlock, Errno> {
    let size = dev.block_count();
    if !(3..=u16::MAX as u32 + 1).contains(&ninodes) {
        return Err(Errno::EINVAL);
    }
    let nmeta = 2u64
        + LOGSIZE as u64
        + 1
        + (ninodes / IPB as u32) as u64
        + 1
        + (size / BPB as u32) as u64
        + 1;
    if (size as u64) < nmeta + 2 {
        return Err(Errno::EINVAL);
    }
    let sb = layout(size, ninodes);
    let root_block = sb.data_start();

    let zero = [0u8; BSIZE];
    for b in 0..root_block {
        dev.write_block(b, &zero)?;
    }

    let mut block = [0u8; BSIZE];
    block[..32].copy_from_slice(&sb.to_bytes());
    dev.write_block(SUPERBLOCK, &block)?;

    // The two top directories: one data block each with `.` and `..`.
    let mut inodes = [0u8; BSIZE];
    for (k, inum) in [ROOTINO, LAYERS_INO].into_iter().enumerate() {
        let blockno = root_block + k as u32;
        let mut d = Dinode {
            kind: T_DIR,
            nlink: 1,
            size: 2 * DIRENT_SIZE as u32,
            ..Dinode::default()
        };
        d.addrs[0] = blockno;
        let mut block = [0u8; BSIZE];
        for (i, name) in [&b"."[..], &b".."[..]].into_iter().enumerate() {
            let mut de = Dirent {
                inum: inum as u16,
                name: [0; DIRSIZ],
            };
            de.name[..name.len()].copy_from_slice(name);
            block[i * DIRENT_SIZE..(i + 1) * DIRENT_SIZE].copy_from_slice(&de.to_bytes());
        }
        dev.write_block(blockno, &block)?;
        let off = (inum as usize % IPB) * DINODE_SIZE;
        inodes[off..off + DINODE_SIZE].copy_from_slice(&d.to_bytes());
    }
    const _: () = assert!(ROOTINO / IPB as u32 == LAYERS_INO / IPB as u32);
    dev.write_block(berth_abi::fs::inode_block(ROOTINO, &sb), &inodes)?;

    // Bitmap: blocks 0..=root_block + 1 are in use.
    let used = root_block as usize + 2;
    for bmb in 0..used.div_ceil(BPB) {
        let mut block = [0u8; BSIZE];
        for bit in 0..BPB.min(used - bmb * BPB) {
            block[bit / 8] |= 1 << (bit % 8);
        }
        dev.write_block(sb.bmapstart + bmb as u32, &block)?;
    }
    Ok(sb)
}
