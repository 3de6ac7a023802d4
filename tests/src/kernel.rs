//! Where the kernel ELF under test comes from.
//!
//! `make test` builds the kernel and passes it in `BERTH_KERNEL`. A bare
//! `cargo test -p berth-tests` builds it itself with `make -s kernel` in the
//! repository root, once per test binary: tests run on parallel threads and
//! all of them need the same, fresh kernel.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::report::TestFailure;

/// Environment variable naming a prebuilt kernel ELF.
pub const KERNEL_ENV: &str = "BERTH_KERNEL";

/// The repository root (this crate lives in `<root>/tests`).
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent directory")
}

/// The kernel ELF to boot: `$BERTH_KERNEL`, or `build/kernel.elf` after
/// `make -s kernel`. The first caller does the work; a failure is remembered
/// so every test reports it without rebuilding.
pub fn kernel_elf() -> Result<PathBuf, TestFailure> {
    static KERNEL: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    KERNEL.get_or_init(locate).clone().map_err(TestFailure::new)
}

fn locate() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(KERNEL_ENV) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{KERNEL_ENV}={} is not a file", path.display()))
        };
    }
    let root = repo_root();
    let out = Command::new("make")
        .args(["-s", "kernel"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run make in {}: {e}", root.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`make -s kernel` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let elf = root.join("build/kernel.elf");
    if elf.is_file() {
        Ok(elf)
    } else {
        Err(format!(
            "`make -s kernel` succeeded but {} is missing",
            elf.display()
        ))
    }
}
