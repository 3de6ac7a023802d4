//! `OvPath`: a normalised absolute path inside an overlay view, and the
//! lexical resolution that makes one.
//!
//! xv6 has neither symbolic links nor rename, so a view's paths are
//! resolved on their components alone: `.` is dropped, `..` pops the last
//! component, and `..` at the root stays at the root. A view's lookups then
//! walk its upper and lower trees from their roots by these components and
//! never follow a `..` entry on disk, so no path can climb out of the view
//! into the layer area or another layer.
//!
//! Errors are those of `fs/path.rs`: an empty path is `ENOENT`; a path of
//! `MAXPATH` bytes or more, or a component longer than `DIRSIZ`, is
//! `ENAMETOOLONG`.

use alloc::vec::Vec;

use berth_abi::errno::Errno;
use berth_abi::fs::{DIRSIZ, MAXPATH};

use crate::fs::path::Name;

/// A normalised absolute path in a view: its components, none `.` or `..`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OvPath(Vec<Name>);

impl OvPath {
    /// The view's root, `/`.
    pub fn root() -> OvPath {
        OvPath(Vec::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn components(&self) -> &[Name] {
        &self.0
    }

    /// The parent directory and the last component; `None` at the root.
    pub fn split_last(&self) -> Option<(OvPath, Name)> {
        let (last, rest) = self.0.split_last()?;
        Some((OvPath(rest.to_vec()), *last))
    }

    /// This path with `name` appended.
    pub fn join(&self, name: &Name) -> OvPath {
        let mut v = self.0.clone();
        v.push(*name);
        OvPath(v)
    }

    /// The path as bytes: `/` for the root, else `/a/b`.
    pub fn to_bytes(&self) -> Vec<u8> {
        if self.0.is_empty() {
            return b"/".to_vec();
        }
        let mut out = Vec::new();
        for c in &self.0 {
            out.push(b'/');
            out.extend_from_slice(c.as_bytes());
        }
        out
    }

    /// Resolves `path` from `cwd` (or from the root when it starts with `/`).
    pub fn resolve(cwd: &OvPath, path: &[u8]) -> Result<OvPath, Errno> {
        OvPath::resolve_checked(cwd, path, |_| Ok(true))
    }

    /// [`OvPath::resolve`], with the one check a lexical walk would skip:
    /// a `.` or `..` after a name needs that name to be a directory
    /// (`is_dir`), so `file/.` and `file/..` are `ENOTDIR` as on the host.
    pub fn resolve_checked(
        cwd: &OvPath,
        path: &[u8],
        mut is_dir: impl FnMut(&OvPath) -> Result<bool, Errno>,
    ) -> Result<OvPath, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        if path.len() >= MAXPATH {
            return Err(Errno::ENAMETOOLONG);
        }
        let mut out = if path[0] == b'/' {
            OvPath::root()
        } else {
            cwd.clone()
        };
        for comp in path.split(|&c| c == b'/').filter(|c| !c.is_empty()) {
            if comp.len() > DIRSIZ {
                return Err(Errno::ENAMETOOLONG);
            }
            match comp {
                b"." | b".." if !out.is_root() && !is_dir(&out)? => {
                    return Err(Errno::ENOTDIR);
                }
                b"." => {}
                b".." => {
                    out.0.pop();
                }
                _ if out.0.len() >= MAX_DEPTH => return Err(Errno::ENAMETOOLONG),
                _ => out.0.push(Name::new(comp)?),
            }
        }
        Ok(out)
    }
}

/// Most components a path in a view may have: a view's current directory
/// is held as its path, copied at each fork and lookup, so its size is
/// bounded (256 names of at most 14 bytes, as Linux's PATH_MAX of 4096).
pub const MAX_DEPTH: usize = 256;

/// Whether the last component of `path` as written is `.` or `..` (which
/// can be neither created nor removed, whatever they resolve to).
pub fn ends_in_dot(path: &[u8]) -> bool {
    matches!(
        path.split(|&c| c == b'/').rfind(|c| !c.is_empty()),
        Some(b".") | Some(b"..")
    )
}
