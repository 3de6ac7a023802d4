//! The command line: `mkfs [--size BLOCKS|SIZE] [--inodes N] fs.img FILE...`.
//!
//! Parsing lives in the library so it is unit-tested; errors are one-line
//! strings the binary prints after `mkfs: `.

use berth_abi::fs::{BSIZE, DEFAULT_FSSIZE, DEFAULT_NINODES};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// One-line usage, appended to option errors.
pub const USAGE: &str = "usage: mkfs [--size BLOCKS|SIZE[K|M|G]] [--inodes N] fs.img FILE...";

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args {
    /// Image size in blocks.
    pub size: u32,
    /// Inode count (inode 0 included).
    pub ninodes: u32,
    /// Where to write the image.
    pub image: PathBuf,
    /// Files for the root directory.
    pub files: Vec<PathBuf>,
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Build(Args),
    Help,
}

/// Parses the arguments after the program name.
pub fn parse_args<I: IntoIterator<Item = OsString>>(args: I) -> Result<Command, String> {
    let mut size = DEFAULT_FSSIZE;
    let mut ninodes = DEFAULT_NINODES;
    let mut positional = Vec::new();
    let mut args = args.into_iter();
    let mut options_done = false;
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        if options_done || !text.starts_with('-') || text == "-" {
            positional.push(PathBuf::from(arg));
            continue;
        }
        let (flag, inline) = match text.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (text.clone(), None),
        };
        let mut value = |flag: &str| -> Result<String, String> {
            match inline
                .clone()
                .or_else(|| args.next().map(|v| v.to_string_lossy().into_owned()))
            {
                Some(v) => Ok(v),
                None => Err(format!("option {flag} needs a value ({USAGE})")),
            }
        };
        match flag.as_str() {
            "--" => options_done = true,
            "-h" | "--help" => return Ok(Command::Help),
            "--size" | "-s" => size = parse_size(&value(&flag)?)?,
            "--inodes" | "-i" => ninodes = parse_count(&value(&flag)?)?,
            _ => return Err(format!("unknown option '{text}' ({USAGE})")),
        }
    }
    let mut positional = positional.into_iter();
    let image = positional
        .next()
        .ok_or_else(|| format!("no image file given ({USAGE})"))?;
    Ok(Command::Build(Args {
        size,
        ninodes,
        image,
        files: positional.collect(),
    }))
}

/// Parses `--size`: a block count, or a byte size with a K, M or G suffix
/// (powers of 1024, optionally followed by `B` or `iB`) that must be a whole
/// number of blocks.
pub fn parse_size(text: &str) -> Result<u32, String> {
    let bad = || format!("bad size '{text}': give blocks (65536) or bytes with a suffix (64M)");
    let t = text.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(digits);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let unit: u64 = match suffix.to_ascii_uppercase().as_str() {
        "" => {
            return u32::try_from(n).map_err(|_| format!("size '{text}' is more than 2^32 blocks"))
        }
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(bad()),
    };
    let bytes = n.checked_mul(unit).ok_or_else(bad)?;
    if bytes % BSIZE as u64 != 0 {
        return Err(format!(
            "size '{text}' is not a whole number of {BSIZE}-byte blocks"
        ));
    }
    u32::try_from(bytes / BSIZE as u64)
        .map_err(|_| format!("size '{text}' is more than 2^32 blocks"))
}

fn parse_count(text: &str) -> Result<u32, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("bad inode count '{text}'"))
}

/// The root-directory name for a host file: its base name, with one leading
/// `_` removed (xv6 builds user programs as `_cat` so they do not collide
/// with the sources, and installs them as `cat`).
pub fn entry_name(path: &Path) -> Result<Vec<u8>, String> {
    let base = path
        .file_name()
        .ok_or_else(|| format!("'{}' has no file name", path.display()))?
        .as_encoded_bytes();
    Ok(base.strip_prefix(b"_").unwrap_or(base).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(OsString::from))
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("2000"), Ok(2000));
        assert_eq!(parse_size("64M"), Ok(65536));
        assert_eq!(parse_size("64MiB"), Ok(65536));
        assert_eq!(parse_size("512k"), Ok(512));
        assert_eq!(parse_size("1G"), Ok(1 << 20));
        assert!(parse_size("1500").is_ok());
        assert!(parse_size("1536").is_ok());
        assert!(parse_size("100").is_ok());
        assert!(parse_size("1x").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("-5").is_err());
        assert!(parse_size("4294967296").is_err());
        assert!(parse_size("99999999999G").is_err());
        assert!(parse_size("1536B").is_err());
    }

    #[test]
    fn command_lines() {
        let Ok(Command::Build(a)) = parse(&["fs.img", "a", "b"]) else {
            panic!()
        };
        assert_eq!((a.size, a.ninodes), (DEFAULT_FSSIZE, DEFAULT_NINODES));
        assert_eq!(a.image, PathBuf::from("fs.img"));
        assert_eq!(a.files.len(), 2);

        let Ok(Command::Build(a)) = parse(&["--size", "8M", "--inodes=300", "x.img", "--", "-odd"])
        else {
            panic!()
        };
        assert_eq!((a.size, a.ninodes), (8192, 300));
        assert_eq!(a.files, vec![PathBuf::from("-odd")]);

        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert!(parse(&[]).unwrap_err().contains("no image"));
        assert!(parse(&["--size"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--bogus", "x.img"])
            .unwrap_err()
            .contains("unknown option"));
        assert!(parse(&["--inodes", "many", "x.img"])
            .unwrap_err()
            .contains("bad inode count"));
    }

    #[test]
    fn names_from_paths() {
        assert_eq!(entry_name(Path::new("user/_cat")).unwrap(), b"cat");
        assert_eq!(entry_name(Path::new("README")).unwrap(), b"README");
        assert_eq!(entry_name(Path::new("a/__x")).unwrap(), b"_x");
        assert!(entry_name(Path::new("/")).is_err());
        assert!(entry_name(Path::new("a/..")).is_err());
    }
}
