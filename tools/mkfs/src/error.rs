//! Why an image cannot be built.
//!
//! Every failure the builder can meet is a value here, so the command line
//! prints one clear line and exits 1 instead of panicking.

use berth_abi::fs::{BSIZE, DIRSIZ, MAXFILE};
use std::fmt;

/// A reason `mkfs` refuses to build an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MkfsError {
    /// The size or inode count cannot hold the metadata (or overflows the format).
    Geometry(String),
    /// A directory-entry name is empty, too long, or contains `/` or NUL.
    BadName { name: String, reason: &'static str },
    /// Two entries of one directory share a name.
    DuplicateName { name: String },
    /// A file is larger than `MAXFILE` blocks.
    FileTooLarge { name: String, bytes: u64 },
    /// The data area cannot hold everything added so far.
    OutOfBlocks {
        name: String,
        needed: u64,
        available: u32,
    },
    /// Every inode is taken.
    OutOfInodes { name: String, ninodes: u32 },
    /// An inode number that is not a directory of this image was given as a parent.
    NotADirectory { inum: u32 },
    /// A hard link was asked for a directory or an unknown inode.
    BadLinkTarget { inum: u32 },
    /// The host could not provide memory for the image.
    OutOfMemory { bytes: u64 },
    /// Something only the kernel may make: an entry in the layer area, or a
    /// device with the whiteout major.
    Reserved(String),
}

impl fmt::Display for MkfsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MkfsError::Geometry(msg) => write!(f, "{msg}"),
            MkfsError::BadName { name, reason } => write!(f, "bad name '{name}': {reason}"),
            MkfsError::DuplicateName { name } => write!(f, "duplicate name '{name}' in the same directory"),
            MkfsError::FileTooLarge { name, bytes } => write!(
                f,
                "'{name}' is {bytes} bytes, larger than the largest file ({MAXFILE} blocks = {} bytes)",
                MAXFILE * BSIZE
            ),
            MkfsError::OutOfBlocks { name, needed, available } => write!(
                f,
                "image too small for '{name}': the files need {needed} data blocks, the image has {available} \
                 (use --size)"
            ),
            MkfsError::OutOfInodes { name, ninodes } => write!(
                f,
                "out of inodes at '{name}': the image has {ninodes}, inode 0 is reserved (use --inodes)"
            ),
            MkfsError::NotADirectory { inum } => write!(f, "inode {inum} is not a directory of this image"),
            MkfsError::BadLinkTarget { inum } => {
                write!(f, "cannot link inode {inum}: only existing non-directories get extra links")
            }
            MkfsError::OutOfMemory { bytes } => write!(f, "cannot allocate {bytes} bytes for the image"),
            MkfsError::Reserved(what) => write!(f, "{what} is reserved for the kernel's container layers"),
        }
    }
}

impl std::error::Error for MkfsError {}

/// Why `name` cannot be a directory entry, if it cannot.
pub fn check_name(name: &[u8]) -> Result<(), MkfsError> {
    let reason = if name.is_empty() {
        Some("empty")
    } else if name.len() > DIRSIZ {
        Some("longer than DIRSIZ (14 bytes)")
    } else if name == b"." || name == b".." {
        Some("'.' and '..' are made by mkfs itself")
    } else if name.contains(&b'/') {
        Some("contains '/'")
    } else if name.contains(&0) {
        Some("contains a NUL byte")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(MkfsError::BadName {
            name: String::from_utf8_lossy(name).into_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name(b"cat").is_ok());
        assert!(check_name(b"exactly14bytes").is_ok());
        assert!(check_name(b"fifteen-bytes!!").is_err());
        assert!(check_name(b"").is_err());
        assert!(check_name(b"..").is_err());
        assert!(check_name(b"a/b").is_err());
        assert!(check_name(b"a\0b").is_err());
    }

    #[test]
    fn messages_are_one_line() {
        let e = MkfsError::OutOfBlocks {
            name: "big".into(),
            needed: 10,
            available: 5,
        };
        assert!(!e.to_string().contains('\n'));
        assert!(e.to_string().contains("--size"));
    }
}
