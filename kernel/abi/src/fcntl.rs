//! Flags of `open`, with xv6's values (plus `O_APPEND` above them).

pub const O_RDONLY: u32 = 0x000;
pub const O_WRONLY: u32 = 0x001;
pub const O_RDWR: u32 = 0x002;
pub const O_CREATE: u32 = 0x200;
pub const O_TRUNC: u32 = 0x400;
/// Every write goes to the end of the file.
pub const O_APPEND: u32 = 0x800;
/// Fail if the path is not a directory.
pub const O_DIRECTORY: u32 = 0x1000;

/// Every flag `open` understands; others give `-EINVAL`.
pub const O_ALL: u32 = O_WRONLY | O_RDWR | O_CREATE | O_TRUNC | O_APPEND | O_DIRECTORY;
