//! `mkfs [--size BLOCKS|SIZE] [--inodes N] fs.img FILE...`: builds an image
//! whose root directory holds each FILE under its base name (one leading `_`
//! stripped, as xv6 does for user programs).
//!
//! Usage errors (unknown option, bad value, no image) are clap's message
//! and exit status 2. Every other failure is one line `mkfs: ...` on stderr
//! and exit status 1; the image is written atomically, so a failed run
//! leaves no partial image.

use berth_abi::fs::ROOTINO;
use berth_mkfs::{entry_name, write_atomically, Args, Builder, MkfsError, MAX_FILE_BYTES};
use clap::Parser;
use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = Args::parse();
    match build(&args) {
        Ok(summary) => {
            println!("mkfs: {}: {summary}", args.image.display());
            ExitCode::SUCCESS
        }
        Err(msg) => fail(&msg),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("mkfs: {msg}");
    ExitCode::from(1)
}

/// Builds and writes the image; returns a one-line summary.
fn build(args: &Args) -> Result<String, String> {
    let geometry = |e: MkfsError| format!("{}: {e}", args.image.display());
    let mut b = Builder::new(args.size, args.ninodes).map_err(geometry)?;
    // Which input gave each name, so a clash names both files.
    let mut sources: HashMap<Vec<u8>, &Path> = HashMap::new();
    for path in &args.files {
        let shown = path.display();
        let name = entry_name(path)?;
        if let Some(first) = sources.insert(name.clone(), path) {
            let name = String::from_utf8_lossy(&name);
            return Err(format!(
                "{shown}: duplicate name '{name}' (also the name of '{}')",
                first.display()
            ));
        }
        // Check the length first so a huge input is refused before it is read.
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read '{shown}': {e}"))?;
        if !meta.is_file() {
            return Err(format!("cannot read '{shown}': not a regular file"));
        }
        if meta.len() > MAX_FILE_BYTES {
            let name = String::from_utf8_lossy(&name).into_owned();
            return Err(format!(
                "{shown}: {}",
                MkfsError::FileTooLarge {
                    name,
                    bytes: meta.len()
                }
            ));
        }
        let data = std::fs::read(path).map_err(|e| format!("cannot read '{shown}': {e}"))?;
        b.add_file(ROOTINO, &name, data)
            .map_err(|e| format!("{shown}: {e}"))?;
    }
    let sb = b.superblock();
    let summary = format!(
        "{} blocks ({} metadata, {} data), {} inodes; {} files, {} data blocks used",
        sb.size,
        sb.size - sb.nblocks,
        sb.nblocks,
        sb.ninodes,
        args.files.len(),
        b.blocks_used()
    );
    let image = b.finish().map_err(geometry)?;
    write_atomically(&args.image, &image)
        .map_err(|e| format!("cannot write '{}': {e}", args.image.display()))?;
    Ok(summary)
}
