//! `ls` and `get` on image bytes in memory: the listing text, the file
//! contents, and where `get` writes by default. Errors are one-line
//! messages; the binary prints them after `fsimg: IMAGE: `.

use berth_abi::fs::{T_DEVICE, T_DIR, T_FILE, T_FREE, WHITEOUT_MAJOR};
use berth_fsck::{Entry, Image};
use std::fmt::Write;
use std::path::PathBuf;

/// The listing of `path`: a header line, then one line per entry
/// (`.` and `..` included) in directory order; a non-directory lists just
/// its own entry. Also returns how many logged blocks were replayed.
pub fn ls(image: &[u8], path: &str) -> Result<(String, usize), String> {
    let img = Image::open(image).map_err(|e| e.to_string())?;
    let inum = img.lookup(path).map_err(|e| e.to_string())?;
    let d = img.inode(inum).map_err(|e| e.to_string())?;
    let entries = if d.kind == T_DIR {
        img.read_dir(inum).map_err(|e| e.to_string())?
    } else {
        vec![Entry {
            name: base_name(path).unwrap_or("/").as_bytes().to_vec(),
            inum,
            kind: d.kind,
            size: d.size,
        }]
    };
    let mut out = format!(
        "{:<14} {:<8} {:>5} {:>10}\n",
        "NAME", "TYPE", "INODE", "SIZE"
    );
    for e in &entries {
        let kind = if e.kind == T_DEVICE {
            let major = img.inode(e.inum).map_err(|e| e.to_string())?.major;
            kind_name(e.kind, major)
        } else {
            kind_name(e.kind, 0)
        };
        let name = String::from_utf8_lossy(&e.name);
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{name:<14} {kind:<8} {:>5} {:>10}", e.inum, e.size);
    }
    Ok((out, img.log_replayed()))
}

/// The contents of the regular file at `path`, and how many logged blocks
/// were replayed to read it.
pub fn get(image: &[u8], path: &str) -> Result<(Vec<u8>, usize), String> {
    let img = Image::open(image).map_err(|e| e.to_string())?;
    let data = img.read_file(path).map_err(|e| e.to_string())?;
    Ok((data, img.log_replayed()))
}

/// Where `get` writes: `output` if given, else the base name of `path` in
/// the current directory. `None` means stdout (`-o -`).
pub fn output_path(path: &str, output: Option<&PathBuf>) -> Result<Option<PathBuf>, String> {
    match output {
        Some(o) if o.as_os_str() == "-" => Ok(None),
        Some(o) => Ok(Some(o.clone())),
        None => match base_name(path) {
            Some(b) if b != "." && b != ".." => Ok(Some(PathBuf::from(b))),
            _ => Err(format!("{path}: no file name to write to (give -o OUT)")),
        },
    }
}

/// The type column: `dir`, `file`, `device`, `whiteout` (a device with the
/// whiteout major, marking a name deleted in a container layer), `free`
/// (an entry naming a free inode: a damaged image), or the raw number.
pub fn kind_name(kind: i16, major: i16) -> String {
    match kind {
        T_DIR => "dir".into(),
        T_FILE => "file".into(),
        T_DEVICE if major == WHITEOUT_MAJOR => "whiteout".into(),
        T_DEVICE => "device".into(),
        T_FREE => "free".into(),
        k => format!("type {k}"),
    }
}

/// The last component of `path`, if it has one.
fn base_name(path: &str) -> Option<&str> {
    path.split('/').rfind(|p| !p.is_empty())
}
