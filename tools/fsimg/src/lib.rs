//! `berth-fsimg`: pulls files out of a berth file-system image on the host.
//!
//! - `fsimg ls IMAGE [PATH]`: one line per entry of the directory at PATH
//!   (default `/`, `.` and `..` included): name, type, inode, size;
//!   a PATH that names a non-directory lists just that entry.
//! - `fsimg get IMAGE PATH [-o OUT]`: copies the regular file PATH out of
//!   the image to OUT (default: its base name in the current directory;
//!   `-o -` writes it to stdout).
//!
//! The image is read with fsck's reader ([`berth_fsck::Image`]), which checks
//! the superblock first and never trusts an address it has not range-checked,
//! so a bad image (wrong magic, truncated, garbage) is an error message,
//! never a panic.
//!
//! **The log.** An image can hold a committed but not yet installed
//! transaction (the machine stopped between the log commit and the install).
//! Both commands read *through* the log: like fsck, the reader installs the
//! logged blocks into a private in-memory copy first, so `ls` and `get` show
//! the files the kernel will see after its next mount. The image file itself
//! is never written. A log header that cannot be trusted is an error.
//!
//! Modules: [`cli`] (the command line), [`commands`] (`ls` and `get` on
//! image bytes in memory, and the output they produce).

pub mod cli;
pub mod commands;

pub use cli::{Cli, Command};
pub use commands::{get, kind_name, ls, output_path};

#[cfg(test)]
mod tests;
