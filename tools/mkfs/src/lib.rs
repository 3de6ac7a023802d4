//! `berth-mkfs`: builds berth file-system images (xv6's format with the
//! limits in `berth_abi::fs`).
//!
//! The `mkfs` binary is a thin command line over this library; the library
//! is also what host tests use to make images in memory, including ones with
//! subdirectories, devices and hard links that the command line never makes:
//!
//! ```
//! use berth_abi::fs::ROOTINO;
//! let mut b = berth_mkfs::Builder::new(2048, 64).unwrap();
//! let dir = b.mkdir(ROOTINO, b"etc").unwrap();
//! b.add_file(dir, b"motd", b"hello\n".to_vec()).unwrap();
//! let image: Vec<u8> = b.finish().unwrap();
//! assert_eq!(image.len(), 2048 * 1024);
//! ```
//!
//! Link counts follow the rule the kernel keeps: a file's `nlink` is the
//! number of entries naming it; a directory's is 1 (its parent's entry, or
//! an implicit one for the root) plus one per subdirectory (their `..`).

mod args;
mod builder;
mod encode;
mod error;
mod output;

pub use args::{entry_name, parse_size, Args};
pub use builder::{blocks_for, Builder, MAX_FILE_BYTES, MAX_INODES};
pub use error::{check_name, MkfsError};
pub use output::write_atomically;

#[cfg(test)]
mod tests;

/// Builds an image holding `files` (name, contents) in the root directory.
pub fn build_image(
    size: u32,
    ninodes: u32,
    files: Vec<(Vec<u8>, Vec<u8>)>,
) -> Result<Vec<u8>, MkfsError> {
    let mut b = Builder::new(size, ninodes)?;
    for (name, data) in files {
        b.add_file(berth_abi::fs::ROOTINO, &name, data)?;
    }
    b.finish()
}
