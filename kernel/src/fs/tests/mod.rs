//! Host tests of the file system, on RAM disks, each image checked by the
//! independent consistency check in `check.rs`.

mod alloc_tests;
mod basic;
mod check;
mod concurrency;
mod crash;
mod dirs;
mod log_runs;
mod overlay;
mod overlay_crash;
mod paths;

use std::sync::Arc;
use std::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR, O_TRUNC};

use super::{format, FileSystem, InodeRef, RamDisk};

/// A freshly formatted or remounted file system with its disk and root.
pub struct TestFs {
    pub disk: Arc<RamDisk>,
    pub fs: FileSystem,
    pub root: InodeRef,
}

/// Buffers used by tests unless they need a specific number.
pub const NBUF: usize = 256;

pub fn formatted_image(nblocks: u32, ninodes: u32) -> Vec<u8> {
    let disk = RamDisk::new(nblocks);
    format(&disk, ninodes).expect("format");
    disk.snapshot()
}

pub fn fresh(nblocks: u32, ninodes: u32) -> TestFs {
    fresh_with(nblocks, ninodes, NBUF, super::DEFAULT_NINODE)
}

pub fn fresh_with(nblocks: u32, ninodes: u32, nbuf: usize, ninode: usize) -> TestFs {
    mount_image(formatted_image(nblocks, ninodes), nbuf, ninode)
}

pub fn mount_image(img: Vec<u8>, nbuf: usize, ninode: usize) -> TestFs {
    let disk = Arc::new(RamDisk::from_bytes(img).expect("whole blocks"));
    let fs =
        FileSystem::mount_with(disk.clone(), nbuf, ninode).unwrap_or_else(|e| panic!("mount: {e}"));
    let root = fs.root().unwrap();
    TestFs { disk, fs, root }
}

/// Deterministic pseudo-random bytes (xorshift), different for each seed.
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

impl TestFs {
    /// Creates (or truncates) `path` and writes `data` into it.
    pub fn put(&self, path: &str, data: &[u8]) -> Result<(), Errno> {
        let ip = self
            .fs
            .open_inode(&self.root, path.as_bytes(), O_CREATE | O_RDWR | O_TRUNC)?;
        let n = self.fs.write_file(&ip, 0, data)?;
        assert_eq!(n, data.len(), "short write to {path}");
        Ok(())
    }

    /// The whole contents of `path`.
    pub fn get(&self, path: &str) -> Result<Vec<u8>, Errno> {
        let ip = self.fs.open_inode(&self.root, path.as_bytes(), O_RDONLY)?;
        read_all(&self.fs, &ip)
    }

    pub fn nlink(&self, path: &str) -> i16 {
        let ip = self.fs.namei(&self.root, path.as_bytes()).unwrap();
        self.fs.stat(&ip).unwrap().nlink
    }

    pub fn image(&self) -> Vec<u8> {
        self.disk.snapshot()
    }

    /// Asserts the image on disk is consistent (orphans allowed when files are open but unlinked).
    pub fn assert_consistent(&self, allow_orphans: bool) {
        let problems = check::check_image(&self.image(), allow_orphans);
        assert!(
            problems.is_empty(),
            "inconsistent image:\n{}",
            problems.join("\n")
        );
    }

    pub fn free_blocks(&self) -> u32 {
        check::free_blocks(&self.image())
    }

    pub fn free_inodes(&self) -> u32 {
        check::free_inodes(&self.image())
    }

    /// Nothing is left referenced or locked, and no operation is open.
    pub fn assert_quiet(&self) {
        assert_eq!(self.fs.fs.log.outstanding(), 0, "operations left open");
        assert_eq!(
            self.fs.fs.icache.referenced(),
            1,
            "inode references leaked (only the root's expected)"
        );
        assert_eq!(self.fs.fs.cache.referenced(), 0, "buffers left referenced");
    }
}

pub fn read_all(fs: &FileSystem, ip: &InodeRef) -> Result<Vec<u8>, Errno> {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 7000]; // not a multiple of the block size on purpose
    loop {
        let n = fs.read_file(ip, out.len() as u64, &mut chunk)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}
