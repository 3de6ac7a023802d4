//! The command line: `mkfs [--size BLOCKS|SIZE] [--inodes N] fs.img FILE...`,
//! parsed by clap (the parser every host tool shares).
//!
//! Parsing lives in the library so it is unit-tested; a bad option, a bad
//! value or a missing image is a usage error (clap's message, exit 2).

use berth_abi::fs::{BSIZE, DEFAULT_FSSIZE, DEFAULT_NINODES};
use clap::Parser;
use std::path::{Path, PathBuf};

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq, Parser)]
#[command(
    name = "mkfs",
    version,
    // As before clap: a repeated option is not an error, the last one wins.
    args_override_self = true,
    about = "Build a berth (xv6-format) file-system image from host files",
    after_help = "FILEs go in the root directory under their base names, one leading '_' removed."
)]
pub struct Args {
    /// Image size: blocks of 1024 bytes, or bytes with K, M or G
    #[arg(
        short,
        long,
        value_name = "BLOCKS|SIZE",
        default_value_t = DEFAULT_FSSIZE,
        value_parser = parse_size
    )]
    pub size: u32,
    /// Number of inodes, inode 0 included
    #[arg(
        short = 'i',
        long = "inodes",
        value_name = "N",
        default_value_t = DEFAULT_NINODES,
        value_parser = parse_count
    )]
    pub ninodes: u32,
    /// Where to write the image (written atomically)
    #[arg(value_name = "fs.img")]
    pub image: PathBuf,
    /// Files for the root directory
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
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

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("mkfs").chain(args.iter().copied()))
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
        let a = parse(&["fs.img", "a", "b"]).unwrap();
        assert_eq!((a.size, a.ninodes), (DEFAULT_FSSIZE, DEFAULT_NINODES));
        assert_eq!(a.image, PathBuf::from("fs.img"));
        assert_eq!(a.files.len(), 2);

        let a = parse(&["--size", "8M", "--inodes=300", "x.img", "--", "-odd"]).unwrap();
        assert_eq!((a.size, a.ninodes), (8192, 300));
        assert_eq!(a.files, vec![PathBuf::from("-odd")]);

        let a = parse(&["-s", "100", "-i", "64", "-", "f"]).unwrap();
        assert_eq!((a.size, a.ninodes), (100, 64));
        assert_eq!(a.image, PathBuf::from("-"));

        let a = parse(&["--size", "1M", "--size", "2M", "x.img"]).unwrap();
        assert_eq!(a.size, 2048, "the last --size wins");
    }

    #[test]
    fn usage_errors() {
        use clap::error::ErrorKind;
        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        assert_eq!(kind(&["--help"]), ErrorKind::DisplayHelp);
        assert_eq!(kind(&["--version"]), ErrorKind::DisplayVersion);
        assert_eq!(kind(&[]), ErrorKind::MissingRequiredArgument);
        assert_eq!(kind(&["--size"]), ErrorKind::InvalidValue);
        assert_eq!(kind(&["--bogus", "x.img"]), ErrorKind::UnknownArgument);
        assert_eq!(
            kind(&["--size", "12q", "x.img"]),
            ErrorKind::ValueValidation
        );
        let e = parse(&["--inodes", "many", "x.img"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ValueValidation);
        assert!(e.to_string().contains("bad inode count"), "{e}");
        assert_eq!(e.exit_code(), 2);
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
