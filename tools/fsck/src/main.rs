//! `fsck fs.img`: checks an image and prints
//! `fsck: fs.img: clean (N inodes in use, M data blocks in use)` (exit 0),
//! or each problem on its own line (exit 1). Warnings (orphan inodes the
//! kernel frees at mount, trailing bytes) are printed but keep the image
//! clean. Usage errors and unreadable files exit 2, so a script can tell
//! "damaged" from "could not check".

use std::process::ExitCode;

const USAGE: &str = "usage: fsck fs.img";

fn main() -> ExitCode {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    let path = match args.as_slice() {
        [a] if a == "-h" || a == "--help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [a] if !a.to_string_lossy().starts_with('-') || a == "-" => std::path::PathBuf::from(a),
        _ => {
            eprintln!("fsck: expected one image file ({USAGE})");
            return ExitCode::from(2);
        }
    };
    let shown = path.display();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("fsck: cannot read '{shown}': {e}");
            return ExitCode::from(2);
        }
    };

    let report = berth_fsck::check_image(&bytes);
    if let Some(n) = report.log_replayed {
        let blocks = if n == 1 { "block" } else { "blocks" };
        println!(
            "fsck: {shown}: replayed a committed log of {n} {blocks} in memory; \
             checked the image as it will be after recovery"
        );
    }
    for w in &report.warnings {
        println!("fsck: {shown}: warning: {w}");
    }
    for e in &report.errors {
        println!("fsck: {shown}: {e}");
    }
    if report.is_clean() {
        println!(
            "fsck: {shown}: clean ({} inodes in use, {} data blocks in use)",
            report.inodes_in_use, report.data_blocks_in_use
        );
        ExitCode::SUCCESS
    } else {
        let n = report.errors.len();
        println!(
            "fsck: {shown}: {n} problem{} found",
            if n == 1 { "" } else { "s" }
        );
        ExitCode::from(1)
    }
}
