//! Disk images for tests: a private copy of the image `make` built, so
//! tests that write to the disk never share or dirty the original.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::kernel::repo_root;
use crate::report::TestFailure;

/// Environment variable naming the file-system image (set by `make test`).
pub const FSIMG_ENV: &str = "BERTH_FSIMG";

/// The image `make` built (`$BERTH_FSIMG`, else `build/fs.img`, built on demand).
pub fn fs_image() -> Result<PathBuf, TestFailure> {
    if let Ok(p) = std::env::var(FSIMG_ENV) {
        return Ok(PathBuf::from(p));
    }
    let path = repo_root().join("build/fs.img");
    if !path.exists() {
        let status = std::process::Command::new("make")
            .args(["-s", "fsimg"])
            .current_dir(repo_root())
            .status()
            .map_err(|e| TestFailure::new(format!("cannot run make fsimg: {e}")))?;
        if !status.success() {
            return Err(TestFailure::new("make fsimg failed"));
        }
    }
    Ok(path)
}

/// A fresh copy of `image` in the system temp directory, removed on drop.
pub struct ImageCopy {
    path: PathBuf,
}

impl ImageCopy {
    pub fn of(image: &Path) -> Result<ImageCopy, TestFailure> {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "berth-test-{}-{}.img",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::copy(image, &path).map_err(|e| {
            TestFailure::new(format!(
                "copy {} to {}: {e}",
                image.display(),
                path.display()
            ))
        })?;
        Ok(ImageCopy { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn bytes(&self) -> Result<Vec<u8>, TestFailure> {
        std::fs::read(&self.path)
            .map_err(|e| TestFailure::new(format!("read {}: {e}", self.path.display())))
    }
}

impl Drop for ImageCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
