//! Programs built into the kernel image, found by name.
//!
//! Until the file system exists, `exec` looks programs up here; the
//! Makefile passes the directory of built user programs to the kernel build
//! (`BERTH_USER_DIR`), whose build script embeds every file in it.

include!(concat!(env!("OUT_DIR"), "/embedded_programs.rs"));

/// The image of program `path` (`/name` or `name`).
pub fn find(path: &str) -> Option<&'static [u8]> {
    let name = path.strip_prefix('/').unwrap_or(path);
    PROGRAMS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}

/// Names of all built-in programs.
pub fn names() -> impl Iterator<Item = &'static str> {
    PROGRAMS.iter().map(|(n, _)| *n)
}
