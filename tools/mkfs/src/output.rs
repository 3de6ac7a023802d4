//! Writing the image atomically.
//!
//! The image goes to a temporary file beside the target, is flushed to disk,
//! and is renamed over the target, so a failure at any point leaves either
//! the old image or none, never half of a new one. All-zero blocks are
//! skipped with a seek, which leaves holes in file systems that support
//! sparse files: a fresh 64 MiB image then takes only its used blocks.

use berth_abi::fs::BSIZE;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path`, replacing it only once the whole image is on disk.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = write_file(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        // Best effort: the error that matters is the one already in hand.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "image".into());
    path.with_file_name(format!(".{name}.mkfs-{}.tmp", std::process::id()))
}

fn write_file(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f: File = OpenOptions::new().write(true).create_new(true).open(tmp)?;
    const ZERO: [u8; BSIZE] = [0; BSIZE];
    for (i, block) in bytes.chunks(BSIZE).enumerate() {
        // A slice comparison is a memcmp, fast even in debug builds.
        if block == &ZERO[..block.len()] {
            continue;
        }
        f.seek(SeekFrom::Start((i * BSIZE) as u64))?;
        f.write_all(block)?;
    }
    // The length covers trailing zero blocks that were never written.
    f.set_len(bytes.len() as u64)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("berth-mkfs-output-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_sparse_image_with_exact_contents() {
        let dir = scratch("ok");
        let path = dir.join("fs.img");
        let mut bytes = vec![0u8; 10 * BSIZE];
        bytes[3 * BSIZE + 5] = 9;
        write_atomically(&path, &bytes).unwrap();
        assert_eq!(fs::read(&path).unwrap(), bytes);
        // Overwrite an existing image; no temp file may be left behind.
        write_atomically(&path, &bytes[..4 * BSIZE]).unwrap();
        assert_eq!(fs::read(&path).unwrap().len(), 4 * BSIZE);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn failure_leaves_nothing() {
        let dir = scratch("fail");
        // Renaming a file over a non-empty directory fails after the temp file is written.
        let target = dir.join("fs.img");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), b"x").unwrap();
        assert!(write_atomically(&target, &[1u8; BSIZE]).is_err());
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("fs.img")]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
