//! The `fsimg` command line, parsed by clap (the parser every host tool
//! shares): usage errors are clap's message and exit status 2.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq, Parser)]
#[command(
    name = "fsimg",
    version,
    about = "List directories of a berth file-system image and copy files out of it",
    after_help = "A committed log is replayed in memory first (the image file is not \
                  changed), so both commands show what the kernel will see after its next \
                  mount. Exit status: 0 done, 1 error (bad image, no such path, ...), 2 usage error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// List a directory: name, type, inode, size
    Ls {
        /// The file-system image
        image: PathBuf,
        /// Directory in the image
        #[arg(default_value = "/")]
        path: String,
    },
    /// Copy a regular file out of the image
    Get {
        /// The file-system image
        image: PathBuf,
        /// File in the image
        path: String,
        /// Where to write it (default: its base name in the current directory; '-' = stdout)
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
    },
}

impl Command {
    /// The image file the command reads.
    pub fn image(&self) -> &PathBuf {
        match self {
            Command::Ls { image, .. } | Command::Get { image, .. } => image,
        }
    }
}
