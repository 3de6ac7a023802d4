//! grep: prints the lines that match a pattern.
//!
//! `grep PATTERN [file...]` reads the files (standard input when none) and
//! prints every line some part of which matches PATTERN, xv6's tiny regular
//! expressions (see `regex`: `^ $ . *`). With more than one file each line
//! is prefixed with `FILE:`. Lines of any length work; a last line without
//! a newline is printed with one. Exit status: 0 if a line matched, 1 if
//! none did, 2 if a file could not be read (reported as
//! `grep: FILE: <reason>`; the other files are still searched). The
//! matcher is unit-tested on the host.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]

extern crate alloc;

mod regex;

#[cfg(not(test))]
mod program {
    use ulib::abi::fcntl::O_RDONLY;
    use ulib::abi::stat::T_DIR;
    use ulib::fd::{self, Fd};
    use ulib::prelude::*;

    use crate::regex::Regex;

    entry!(main);

    /// Bytes read at once; output is flushed when it grows past this too.
    const CHUNK: usize = 4096;

    fn main(args: Args) -> i32 {
        let mut args = args.skip(1);
        let Some(pattern) = args.next() else {
            eprintln!("usage: grep pattern [file...]");
            return 2;
        };
        let re = Regex::new(pattern.as_bytes());
        let files: Vec<&str> = args.collect();
        let mut out = Output::default();
        if files.is_empty() {
            return match search(&re, fd::STDIN, None, &mut out) {
                Ok(found) => i32::from(!found),
                Err(e) => report("standard input", e),
            };
        }
        let prefix = files.len() > 1;
        let (mut found, mut failed) = (false, false);
        for name in &files {
            let searched = open_file(name).and_then(|f| {
                let r = search(&re, f, prefix.then_some(*name), &mut out);
                let _ = fd::close(f);
                r
            });
            match searched {
                Ok(f) => found |= f,
                Err(e) => {
                    failed = true;
                    report(name, e);
                }
            }
        }
        if failed {
            2
        } else {
            i32::from(!found)
        }
    }

    fn report(what: &str, e: Failure) -> i32 {
        match e {
            Failure::Read(e) => eprintln!("grep: {what}: {}", e.description()),
            Failure::Write(e) => eprintln!("grep: write error: {}", e.description()),
        }
        2
    }

    /// Why a search stopped.
    enum Failure {
        Read(Errno),
        Write(Errno),
    }

    /// Opens `name` for reading; a directory is `EISDIR`.
    fn open_file(name: &str) -> Result<Fd, Failure> {
        let f = fd::open(name, O_RDONLY).map_err(Failure::Read)?;
        match fd::fstat(f) {
            Ok(st) if st.kind == T_DIR => {
                let _ = fd::close(f);
                Err(Failure::Read(Errno::EISDIR))
            }
            _ => Ok(f),
        }
    }

    /// Prints the matching lines of `f`; whether there was one.
    fn search(re: &Regex, f: Fd, prefix: Option<&str>, out: &mut Output) -> Result<bool, Failure> {
        let mut found = false;
        let mut pending: Vec<u8> = Vec::new();
        let mut buf = [0u8; CHUNK];
        loop {
            let n = fd::read(f, &mut buf).map_err(Failure::Read)?;
            if n == 0 {
                break;
            }
            // Only the new bytes can hold a newline: `pending` has none.
            let mut from = pending.len();
            pending.extend_from_slice(&buf[..n]);
            let mut start = 0;
            while let Some(i) = pending[from..].iter().position(|&b| b == b'\n') {
                let line = &pending[start..from + i];
                if re.is_match(line) {
                    found = true;
                    out.line(prefix, line).map_err(Failure::Write)?;
                }
                start = from + i + 1;
                from = start;
            }
            pending.drain(..start);
        }
        if !pending.is_empty() && re.is_match(&pending) {
            found = true;
            out.line(prefix, &pending).map_err(Failure::Write)?;
        }
        out.flush().map_err(Failure::Write)?;
        Ok(found)
    }

    /// Matching lines collected into few large writes.
    #[derive(Default)]
    struct Output {
        buf: Vec<u8>,
    }

    impl Output {
        fn line(&mut self, prefix: Option<&str>, line: &[u8]) -> Result<(), Errno> {
            if let Some(p) = prefix {
                self.buf.extend_from_slice(p.as_bytes());
                self.buf.push(b':');
            }
            self.buf.extend_from_slice(line);
            self.buf.push(b'\n');
            if self.buf.len() >= CHUNK {
                self.flush()?;
            }
            Ok(())
        }

        fn flush(&mut self) -> Result<(), Errno> {
            let r = fd::write_all(fd::STDOUT, &self.buf);
            self.buf.clear();
            r
        }
    }
}
