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

/// Checks that a disk after a run uses exactly the inodes and data blocks
/// of the image `make` built (everything a run made was removed, nothing
/// the image held was lost); a mismatch names the paths that differ.
pub fn expect_same_usage(after: &[u8], what: &str) -> Result<(), TestFailure> {
    let original =
        std::fs::read(fs_image()?).map_err(|e| TestFailure::new(format!("read the image: {e}")))?;
    let (b, a) = (
        berth_fsck::check_image(&original),
        berth_fsck::check_image(after),
    );
    if (a.inodes_in_use, a.data_blocks_in_use) == (b.inodes_in_use, b.data_blocks_in_use) {
        return Ok(());
    }
    let tree = |bytes: &[u8]| {
        berth_fsck::Image::open(bytes)
            .and_then(|i| i.tree())
            .map_err(|e| e.to_string())
    };
    let diff = match (tree(&original), tree(after)) {
        (Ok(t0), Ok(t1)) => berth_fsck::tree_diff(&t0, &t1).join("; "),
        (Err(e), _) | (_, Err(e)) => format!("(the trees could not be read: {e})"),
    };
    let kept = std::env::temp_dir().join(format!("berth-after-{}.img", std::process::id()));
    let kept = match std::fs::write(&kept, after) {
        Ok(()) => format!("the disk is kept in {}", kept.display()),
        Err(e) => format!("the disk could not be kept: {e}"),
    };
    Err(TestFailure::new(format!(
        "after {what} the disk uses {} inodes and {} data blocks, the image had {} and {}; \
         what differs: {}; {kept}",
        a.inodes_in_use,
        a.data_blocks_in_use,
        b.inodes_in_use,
        b.data_blocks_in_use,
        if diff.is_empty() {
            "no path (space held by no name)"
        } else {
            &diff
        }
    )))
}
