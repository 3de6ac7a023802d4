//! wc: counts lines, words and bytes.
//!
//! `wc [file...]` prints `LINES WORDS BYTES NAME` for each file, and a
//! `LINES WORDS BYTES total` line when there is more than one; with no file
//! it counts standard input and prints `LINES WORDS BYTES`. A file that
//! cannot be read is reported as `wc: FILE: <reason>` and the exit status
//! is 1. The counting (see `count`) is unit-tested on the host.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]

mod count;

#[cfg(not(test))]
mod program {
    use ulib::abi::fcntl::O_RDONLY;
    use ulib::abi::stat::T_DIR;
    use ulib::fd::{self, Fd};
    use ulib::prelude::*;

    use crate::count::Counts;

    entry!(main);

    fn main(args: Args) -> i32 {
        let files: Vec<&str> = args.skip(1).collect();
        if files.is_empty() {
            return match count(fd::STDIN) {
                Ok(c) => {
                    println!("{} {} {}", c.lines, c.words, c.bytes);
                    0
                }
                Err(e) => {
                    eprintln!("wc: standard input: {}", e.description());
                    1
                }
            };
        }
        let mut status = 0;
        let mut total = Counts::default();
        for name in &files {
            match count_file(name) {
                Ok(c) => {
                    println!("{} {} {} {name}", c.lines, c.words, c.bytes);
                    total.add(&c);
                }
                Err(e) => {
                    eprintln!("wc: {name}: {}", e.description());
                    status = 1;
                }
            }
        }
        if files.len() > 1 {
            println!("{} {} {} total", total.lines, total.words, total.bytes);
        }
        status
    }

    /// Counts the file `name`; a directory is `EISDIR`.
    fn count_file(name: &str) -> Result<Counts, Errno> {
        let f = fd::open(name, O_RDONLY)?;
        let counted = match fd::fstat(f) {
            Ok(st) if st.kind == T_DIR => Err(Errno::EISDIR),
            _ => count(f),
        };
        let _ = fd::close(f);
        counted
    }

    /// Counts everything `f` yields until end of file.
    fn count(f: Fd) -> Result<Counts, Errno> {
        let mut c = Counts::default();
        let mut buf = [0u8; 4096];
        loop {
            match fd::read(f, &mut buf)? {
                0 => return Ok(c),
                n => c.feed(&buf[..n]),
            }
        }
    }
}
