//! `berth-fsck`: checks berth file-system images (xv6's format with the
//! limits in `berth_abi::fs`).
//!
//! [`check_image`] runs on bytes in memory, so the kernel's host tests and
//! crash tests can check an image without a file; the `fsck` binary is a
//! thin wrapper that prints the [`Report`]. [`Image`] reads an image the
//! way the kernel will see it after mounting (committed log replayed):
//! path lookup, inodes, file contents and directory listings, each failure a
//! [`ReadError`] (host tools such as `fsimg` use it); [`read_file`],
//! [`read_path`] and [`list_dir`] are its `Option` shorthands for tests that
//! check file contents.
//!
//! ```
//! let image = berth_mkfs::build_image(2048, 64, vec![(b"hi".to_vec(), b"hello".to_vec())]).unwrap();
//! let report = berth_fsck::check_image(&image);
//! assert!(report.is_clean(), "{:?}", report.errors);
//! assert_eq!(berth_fsck::read_file(&image, "hi").as_deref(), Some(&b"hello"[..]));
//! ```
//!
//! The checks, pass by pass, are described in `check.rs` and the modules it
//! calls. A corrupt or truncated image never makes the checker panic: every
//! field read from the image is range-checked before it is used as an index.

mod bitmap;
mod blocks;
mod check;
mod image;
mod log;
mod problem;
mod read;
mod superblock;
mod tree;

pub use check::check_image;
pub use problem::{BlockRole, DirRef, Problem, Report};
pub use read::{list_dir, read_file, read_path, tree_diff, Entry, Image, ReadError};

#[cfg(test)]
mod tests;
