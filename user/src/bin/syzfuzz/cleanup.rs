//! Removing what a host-mode run made: the `/fz` tree, depth first,
//! from the directory entries read back from the kernel. It never follows
//! an entry to the root's inode (a directory hard link the kernel should
//! have refused) and stops at a small depth, so a kernel bug cannot turn
//! cleaning up into deleting the image.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use ulib::abi::fcntl::O_RDONLY;
use ulib::abi::fs::{DIRENT_SIZE, DIRSIZ, ROOTINO, T_DIR};
use ulib::fd;
use ulib::Errno;

/// Deepest directory level removed.
const MAX_DEPTH: usize = 6;

/// Removes `path` and everything under it; `Ok` if it is gone (or was
/// never there).
pub fn remove_tree(path: &str) -> Result<(), String> {
    remove(path, 0)
}

fn remove(path: &str, depth: usize) -> Result<(), String> {
    let f = match fd::open(path, O_RDONLY) {
        Ok(f) => f,
        Err(Errno::ENOENT) => return Ok(()),
        // A device node or unreadable file: unlink it all the same.
        Err(_) => return unlink(path),
    };
    let st = fd::fstat(f);
    let is_dir = st.is_ok_and(|s| s.kind == T_DIR);
    if is_dir {
        if st.is_ok_and(|s| s.ino == ROOTINO) || depth >= MAX_DEPTH {
            let _ = fd::close(f);
            return Err(format!(
                "{path}: refusing to descend (root inode or too deep)"
            ));
        }
        let mut raw = Vec::new();
        let r = fd::read_to_end(f, &mut raw);
        let _ = fd::close(f);
        r.map_err(|e| format!("read {path}: {}", e.description()))?;
        let mut names = Vec::new();
        for ent in raw.chunks_exact(DIRENT_SIZE) {
            let inum = u16::from_le_bytes([ent[0], ent[1]]);
            let name = &ent[2..2 + DIRSIZ];
            let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(DIRSIZ)];
            if inum == 0 || name == b"." || name == b".." {
                continue;
            }
            names.push(String::from_utf8_lossy(name).into_owned());
        }
        for n in names {
            remove(&format!("{path}/{n}"), depth + 1)?;
        }
    } else {
        let _ = fd::close(f);
    }
    unlink(path)
}

fn unlink(path: &str) -> Result<(), String> {
    match fd::unlink(path) {
        Ok(()) | Err(Errno::ENOENT) => Ok(()),
        Err(e) => Err(format!("unlink {path}: {}", e.description())),
    }
}
