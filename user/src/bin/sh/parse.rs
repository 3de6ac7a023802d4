//! The grammar of xv6's shell, as a recursive-descent parser over tokens:
//!
//! ```text
//! line     := (pipeline (';' | '&'))* pipeline?
//! pipeline := command ('|' command)*
//! command  := '(' line ')' redir*          a group, run in a subshell
//!           | (WORD | redir)+              a simple command
//! redir    := ('<' | '>' | '>>') WORD
//! ```
//!
//! A pipeline followed by `&` runs in the background. Unlike xv6, which
//! runs whatever prefix it understood, anything that does not fit is a
//! syntax error and nothing of the line runs: an empty command next to an
//! operator (`| a`, `a ||b`, `;;`), a redirection without a file name, an
//! unbalanced or empty `( )`, a word after `)`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::lex::{tokens, Token};

/// Which way a redirection goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedirKind {
    /// `< file`: standard input from the file.
    In,
    /// `> file`: standard output to the file, created or emptied.
    Out,
    /// `>> file`: standard output appended to the file, created if missing.
    Append,
}

/// A redirection of standard input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redir {
    pub kind: RedirKind,
    pub file: String,
}

/// One stage of a pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// A program (or builtin) and its arguments; `argv` may be empty when
    /// there are only redirections (`> file` creates the file).
    Simple {
        argv: Vec<String>,
        redirs: Vec<Redir>,
    },
    /// `( line )`: a line run by a child shell, with its own redirections.
    Group { body: Box<Line>, redirs: Vec<Redir> },
}

/// Commands joined by `|`: at least one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pipeline(pub Vec<Command>);

/// A pipeline and whether it runs in the background (`&`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub pipeline: Pipeline,
    pub background: bool,
}

/// A whole command line: pipelines run one after the other.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Line(pub Vec<Item>);

/// Parses a command line; `Err` is the message after `syntax error: `.
pub fn parse(line: &str) -> Result<Line, String> {
    let mut p = Parser {
        tokens: tokens(line)?,
        at: 0,
    };
    let parsed = p.line()?;
    match p.peek() {
        None => Ok(parsed),
        Some(t) => Err(unexpected(t)),
    }
}

fn unexpected(t: &Token) -> String {
    alloc::format!("unexpected '{}'", t.show())
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    /// `line`: stops before `)` or at the end, which the caller checks.
    fn line(&mut self) -> Result<Line, String> {
        let mut items = Vec::new();
        while !matches!(self.peek(), None | Some(Token::RParen)) {
            let pipeline = self.pipeline()?;
            let background = match self.peek() {
                Some(Token::Semi) => {
                    self.next();
                    false
                }
                Some(Token::Amp) => {
                    self.next();
                    true
                }
                _ => false,
            };
            items.push(Item {
                pipeline,
                background,
            });
            if !background && !matches!(self.tokens.get(self.at - 1), Some(Token::Semi)) {
                // No separator: the line (or group) must end here.
                break;
            }
        }
        Ok(Line(items))
    }

    fn pipeline(&mut self) -> Result<Pipeline, String> {
        let mut commands = alloc::vec![self.command()?];
        while self.peek() == Some(&Token::Pipe) {
            self.next();
            if self.peek().is_none() {
                return Err(String::from("missing command after '|'"));
            }
            commands.push(self.command()?);
        }
        Ok(Pipeline(commands))
    }

    fn command(&mut self) -> Result<Command, String> {
        match self.peek() {
            Some(Token::LParen) => self.group(),
            Some(Token::Word(_) | Token::Less | Token::Great | Token::GreatGreat) => self.simple(),
            Some(t) => Err(unexpected(t)),
            None => Err(String::from("unexpected end of line")),
        }
    }

    fn simple(&mut self) -> Result<Command, String> {
        let (mut argv, mut redirs) = (Vec::new(), Vec::new());
        loop {
            match self.peek() {
                Some(Token::Word(w)) => {
                    argv.push(w.clone());
                    self.next();
                }
                Some(Token::Less | Token::Great | Token::GreatGreat) => redirs.push(self.redir()?),
                _ => return Ok(Command::Simple { argv, redirs }),
            }
        }
    }

    fn group(&mut self) -> Result<Command, String> {
        self.next(); // `(`
        let body = self.line()?;
        if self.next() != Some(Token::RParen) {
            return Err(String::from("missing ')'"));
        }
        if body.0.is_empty() {
            return Err(String::from("empty '( )'"));
        }
        let mut redirs = Vec::new();
        loop {
            match self.peek() {
                Some(Token::Less | Token::Great | Token::GreatGreat) => redirs.push(self.redir()?),
                Some(t @ (Token::Word(_) | Token::LParen)) => {
                    return Err(alloc::format!("unexpected '{}' after ')'", t.show()))
                }
                _ => {
                    return Ok(Command::Group {
                        body: Box::new(body),
                        redirs,
                    })
                }
            }
        }
    }

    fn redir(&mut self) -> Result<Redir, String> {
        let op = self.next().unwrap_or(Token::Less);
        let kind = match op {
            Token::Great => RedirKind::Out,
            Token::GreatGreat => RedirKind::Append,
            _ => RedirKind::In,
        };
        match self.next() {
            Some(Token::Word(file)) => Ok(Redir { kind, file }),
            _ => Err(alloc::format!("missing file name after '{}'", op.show())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn simple(argv: &[&str], redirs: &[(RedirKind, &str)]) -> Command {
        Command::Simple {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            redirs: redirs
                .iter()
                .map(|&(kind, f)| Redir {
                    kind,
                    file: f.to_string(),
                })
                .collect(),
        }
    }

    fn item(commands: Vec<Command>, background: bool) -> Item {
        Item {
            pipeline: Pipeline(commands),
            background,
        }
    }

    fn ok(line: &str) -> Line {
        parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    #[test]
    fn empty_lines_run_nothing() {
        assert_eq!(ok(""), Line(vec![]));
        assert_eq!(ok("   "), Line(vec![]));
        assert_eq!(ok("# comment"), Line(vec![]));
    }

    #[test]
    fn simple_commands_and_redirections() {
        assert_eq!(
            ok("ls"),
            Line(vec![item(vec![simple(&["ls"], &[])], false)])
        );
        use RedirKind::*;
        assert_eq!(
            ok("< in cat -n > out x >> log"),
            Line(vec![item(
                vec![simple(
                    &["cat", "-n", "x"],
                    &[(In, "in"), (Out, "out"), (Append, "log")]
                )],
                false
            )])
        );
        assert_eq!(
            ok("> f"),
            Line(vec![item(vec![simple(&[], &[(Out, "f")])], false)])
        );
    }

    #[test]
    fn pipelines_of_any_length() {
        let l = ok("a | b|c | d");
        assert_eq!(l.0.len(), 1);
        assert_eq!(
            l.0[0].pipeline.0,
            vec![
                simple(&["a"], &[]),
                simple(&["b"], &[]),
                simple(&["c"], &[]),
                simple(&["d"], &[])
            ]
        );
    }

    #[test]
    fn sequences_and_background() {
        assert_eq!(
            ok("a; b & c"),
            Line(vec![
                item(vec![simple(&["a"], &[])], false),
                item(vec![simple(&["b"], &[])], true),
                item(vec![simple(&["c"], &[])], false)
            ])
        );
        assert_eq!(ok("a;"), Line(vec![item(vec![simple(&["a"], &[])], false)]));
        assert_eq!(
            ok("sleep 10 &"),
            Line(vec![item(vec![simple(&["sleep", "10"], &[])], true)])
        );
        assert_eq!(
            ok("a & b &"),
            Line(vec![
                item(vec![simple(&["a"], &[])], true),
                item(vec![simple(&["b"], &[])], true)
            ])
        );
        assert!(ok("a|b&").0[0].background);
    }

    #[test]
    fn groups_nest_and_take_redirections() {
        let l = ok("(a; (b | c)) > out | d");
        let Command::Group { body, redirs } = &l.0[0].pipeline.0[0] else {
            panic!("not a group: {l:?}");
        };
        assert_eq!(
            redirs,
            &vec![Redir {
                kind: RedirKind::Out,
                file: "out".into()
            }]
        );
        assert_eq!(body.0.len(), 2);
        assert_eq!(body.0[0], item(vec![simple(&["a"], &[])], false));
        let Command::Group { body: inner, .. } = &body.0[1].pipeline.0[0] else {
            panic!("inner group missing");
        };
        assert_eq!(inner.0[0].pipeline.0.len(), 2);
        assert_eq!(l.0[0].pipeline.0[1], simple(&["d"], &[]));
        assert_eq!(ok("(a &)").0.len(), 1);
        assert_eq!(ok("(a;)").0.len(), 1);
    }

    #[test]
    fn syntax_errors_name_the_problem() {
        let err = |s: &str| parse(s).expect_err(s);
        assert_eq!(err("| a"), "unexpected '|'");
        assert_eq!(err("a |"), "missing command after '|'");
        assert_eq!(err("a || b"), "unexpected '|'");
        assert_eq!(err(";"), "unexpected ';'");
        assert_eq!(err("a;;b"), "unexpected ';'");
        assert_eq!(err("&"), "unexpected '&'");
        assert_eq!(err("a >"), "missing file name after '>'");
        assert_eq!(err("a >> | b"), "missing file name after '>>'");
        assert_eq!(err("a < ;"), "missing file name after '<'");
        assert_eq!(err("(a"), "missing ')'");
        assert_eq!(err("a)"), "unexpected ')'");
        assert_eq!(err("(a))"), "unexpected ')'");
        assert_eq!(err("()"), "empty '( )'");
        assert_eq!(err("(a) b"), "unexpected 'b' after ')'");
        assert_eq!(err("(a)(b)"), "unexpected '(' after ')'");
        assert_eq!(err("a (b)"), "unexpected '('");
        assert_eq!(err("echo 'x"), "missing closing '");
    }
}
