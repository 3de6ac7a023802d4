//! `struct stat` as user programs see it (xv6-riscv's layout, usable from C).

pub use crate::fs::{T_DEVICE, T_DIR, T_FILE};

crate::pod! {
/// What `fstat` fills in.
///
/// C: `struct stat { int dev; uint ino; short type; short nlink; uint64 size; }`
/// (24 bytes; C's implicit 4 bytes of padding before `size` are `_pad` here, always 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stat {
    /// Device number of the file system.
    pub dev: i32,
    /// Inode number.
    pub ino: u32,
    /// `T_DIR`, `T_FILE` or `T_DEVICE`.
    pub kind: i16,
    /// Number of links.
    pub nlink: i16,
    /// C's alignment padding before `size`.
    pub _pad: u32,
    /// Size in bytes.
    pub size: u64,
}
}

const _: () = assert!(core::mem::size_of::<Stat>() == 24);
