//! `fsck fs.img`: checks an image and prints
//! `fsck: fs.img: clean (N inodes in use, M data blocks in use)` (exit 0),
//! or each problem on its own line (exit 1). Warnings (orphan inodes the
//! kernel frees at mount, trailing bytes) are printed but keep the image
//! clean. Usage errors (clap's message) and unreadable files exit 2, so a
//! script can tell "damaged" from "could not check".

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "fsck",
    version,
    about = "Check a berth file-system image for consistency",
    after_help = "Exit status: 0 clean (warnings allowed), 1 problems found, \
                  2 usage error or unreadable image."
)]
struct Cli {
    /// The image to check (a committed log is replayed in memory first)
    #[arg(value_name = "fs.img")]
    image: PathBuf,
}

fn main() -> ExitCode {
    let path = Cli::parse().image;
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

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::error::ErrorKind;
    use clap::Parser;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("fsck").chain(args.iter().copied()))
    }

    #[test]
    fn one_image() {
        assert_eq!(parse(&["fs.img"]).unwrap().image.to_str(), Some("fs.img"));
        assert_eq!(parse(&["-"]).unwrap().image.to_str(), Some("-"));
        assert_eq!(parse(&["--", "-x"]).unwrap().image.to_str(), Some("-x"));
    }

    #[test]
    fn usage_errors() {
        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        assert_eq!(kind(&[]), ErrorKind::MissingRequiredArgument);
        assert_eq!(kind(&["a.img", "b.img"]), ErrorKind::UnknownArgument);
        assert_eq!(kind(&["--bogus", "fs.img"]), ErrorKind::UnknownArgument);
        assert_eq!(kind(&["--help"]), ErrorKind::DisplayHelp);
        assert_eq!(kind(&["--version"]), ErrorKind::DisplayVersion);
        assert_eq!(parse(&["--bogus"]).unwrap_err().exit_code(), 2);
    }
}
