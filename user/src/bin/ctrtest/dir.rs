//! Reading the root directory and small files directly (no `ls`), so the
//! test sees exactly what the kernel shows the caller.

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_TRUNC, O_WRONLY};
use ulib::abi::fs::{Dirent, DIRENT_SIZE};
use ulib::fd;
use ulib::prelude::*;

/// The names in directory `path`, `.` and `..` left out, in directory order.
pub fn names(path: &str) -> Result<Vec<String>, String> {
    let f = fd::open(path, O_RDONLY).map_err(|e| format!("open {path}: {}", e.description()))?;
    let mut out = Vec::new();
    let mut buf = [0u8; DIRENT_SIZE * 32];
    let r = loop {
        match fd::read(f, &mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                for raw in buf[..n].chunks_exact(DIRENT_SIZE) {
                    let de = Dirent::from_bytes(raw);
                    let name = String::from_utf8_lossy(de.name_bytes()).into_owned();
                    if de.inum != 0 && name != "." && name != ".." {
                        out.push(name);
                    }
                }
            }
            Err(e) => break Err(format!("read {path}: {}", e.description())),
        }
    };
    let _ = fd::close(f);
    r.map(|()| out)
}

/// The whole file `path` as text.
pub fn read(path: &str) -> Result<String, String> {
    let f = fd::open(path, O_RDONLY).map_err(|e| format!("open {path}: {}", e.description()))?;
    let mut bytes = Vec::new();
    let r = fd::read_to_end(f, &mut bytes);
    let _ = fd::close(f);
    r.map_err(|e| format!("read {path}: {}", e.description()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Creates (or truncates) `path` holding `text`.
pub fn write(path: &str, text: &str) -> Result<(), String> {
    let f = fd::open(path, O_WRONLY | O_CREATE | O_TRUNC)
        .map_err(|e| format!("create {path}: {}", e.description()))?;
    let r = fd::write_all(f, text.as_bytes());
    let c = fd::close(f);
    r.and(c)
        .map_err(|e| format!("write {path}: {}", e.description()))
}
