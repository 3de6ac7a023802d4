//! sh: the shell, xv6's grammar rewritten in Rust.
//!
//! `sh` reads command lines from standard input and runs them; `sh -c
//! LINE` runs one line and exits with its status. The prompt `$ ` (on
//! fd 2) is shown only when standard input is the console, so `sh <
//! script` and a shell reading a pipe print none. At end of input (^D on
//! the console) the shell exits with status 0. On the console, ^C kills
//! the running foreground command, never the shell (`job`).
//!
//! The grammar (`parse`): commands with arguments, `|` pipelines of any
//! length, `<`, `>`, `>>` (append), `&` (background), `;`, `( )` groups,
//! quotes and `#` comments (`lex`); builtins `cd [dir]` and `exit
//! [status]`. Programs are looked up as `/NAME` (see `run`).
//!
//! Errors never end the shell: `sh: syntax error: WHAT` (nothing of the
//! line runs), `sh: NAME: command not found` (status 127), `sh: cannot
//! open FILE: REASON` (status 1). The lexer and parser are unit-tested on
//! the host.
#![cfg_attr(not(test), no_std)]
#![cfg_attr(not(test), no_main)]

extern crate alloc;

#[cfg(not(test))]
mod job;
mod lex;
mod parse;
#[cfg(not(test))]
mod run;

#[cfg(not(test))]
mod program {
    use ulib::abi::stat::T_DEVICE;
    use ulib::fd;
    use ulib::prelude::*;

    use crate::job;
    use crate::parse::parse;
    use crate::run::{run_line, Next};

    entry!(main);

    /// Longest command line, in bytes; longer ones are refused whole.
    const MAX_LINE: usize = 4096;

    fn main(args: Args) -> i32 {
        let rest: Vec<&str> = args.skip(1).collect();
        match rest[..] {
            [] => interactive(),
            ["-c", line] => match run(line) {
                Next::Continue(s) | Next::Exit(s) => s,
            },
            _ => {
                eprintln!("usage: sh [-c line]");
                2
            }
        }
    }

    /// Reads and runs lines until end of input or `exit`.
    fn interactive() -> i32 {
        let prompt = fd::fstat(fd::STDIN).is_ok_and(|st| st.kind == T_DEVICE);
        if prompt {
            job::set_interactive();
        }
        let mut line = Vec::new();
        loop {
            if prompt {
                job::at_prompt();
                eprint!("$ ");
            }
            match read_line(&mut line) {
                Input::Line => {
                    if let Next::Exit(s) = run(&String::from_utf8_lossy(&line)) {
                        return s;
                    }
                }
                Input::TooLong => eprintln!("sh: line too long (more than {MAX_LINE} bytes)"),
                Input::End => return 0,
            }
        }
    }

    /// Parses and runs one line.
    fn run(line: &str) -> Next {
        match parse(line) {
            Ok(parsed) => run_line(&parsed),
            Err(why) => {
                eprintln!("sh: syntax error: {why}");
                Next::Continue(2)
            }
        }
    }

    /// What [`read_line`] found.
    enum Input {
        Line,
        TooLong,
        End,
    }

    /// Reads one line (without its newline) into `line`. One byte per
    /// `read`, as xv6's shell does: the shell shares standard input with the
    /// commands it runs, so it must not read past the end of its line.
    fn read_line(line: &mut Vec<u8>) -> Input {
        line.clear();
        let mut too_long = false;
        let mut byte = [0u8; 1];
        loop {
            match fd::read(fd::STDIN, &mut byte) {
                Ok(1) if byte[0] == b'\n' => break,
                Ok(1) if line.len() < MAX_LINE => line.push(byte[0]),
                Ok(1) => too_long = true,
                // End of input (or an error reading it): a last line without
                // a newline still runs.
                _ if line.is_empty() && !too_long => return Input::End,
                _ => break,
            }
        }
        if too_long {
            Input::TooLong
        } else {
            Input::Line
        }
    }
}
