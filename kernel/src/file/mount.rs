//! The root file system: mounted once at boot from the IDE disk, if any.
//!
//! Without a disk (or with one that fails to mount) the kernel runs on the
//! programs built into its image and every path names nothing (`ENOENT`).

use alloc::sync::Arc;

use crate::fs::{FileSystem, MIN_NBUF};

static ROOT_FS: spin::Once<FileSystem> = spin::Once::new();

/// Buffer-cache size for `usable_bytes` of RAM: 1/128 of memory, within
/// [MIN_NBUF, 8192] buffers of 1 KiB.
fn nbuf_for(usable_bytes: u64) -> usize {
    ((usable_bytes / 128 / 1024) as usize).clamp(MIN_NBUF, 8192)
}

/// Probes the disk and mounts it; prints what happened.
pub fn mount_root() {
    let Some(disk) = crate::drivers::ide::probe() else {
        crate::println!("fs: no disk; running without a file system");
        return;
    };
    let blocks = crate::fs::device::BlockDevice::block_count(&*disk);
    let mode = disk.transfer_mode();
    let nbuf = nbuf_for(crate::mm::usable_bytes());
    match FileSystem::mount_with(
        disk as Arc<dyn crate::fs::device::BlockDevice>,
        nbuf,
        crate::param::NINODE,
    ) {
        Ok(fs) => {
            let sb = fs.superblock();
            let info = fs.mount_info();
            crate::println!(
                "fs: mounted {} blocks ({} KiB disk, {}), {} inodes, {} buffers; replayed {} log blocks, freed {} orphan inodes",
                sb.size,
                blocks,
                mode,
                sb.ninodes,
                nbuf,
                info.replayed_blocks,
                info.orphans_freed
            );
            ROOT_FS.call_once(|| fs);
        }
        Err(e) => crate::println!("fs: cannot mount the disk: {e}"),
    }
}

/// The mounted root file system.
pub fn root_fs() -> Option<&'static FileSystem> {
    ROOT_FS.get()
}
