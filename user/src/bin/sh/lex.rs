//! Splitting a command line into tokens.
//!
//! Words are runs of bytes other than white space (space, tab, CR, LF, VT)
//! and the operators `| & ; ( ) < > >>`. Quotes, an addition to xv6's
//! shell, make a word out of anything: `'...'` and `"..."` keep their
//! contents as they are (no escapes), and quoted and unquoted parts next to
//! each other join into one word (`a"b c"` is `ab c`). A `#` at the start
//! of a word begins a comment that runs to the end of the line.

use alloc::string::String;
use alloc::vec::Vec;

/// One token of a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    Word(String),
    /// `|`
    Pipe,
    /// `&`
    Amp,
    /// `;`
    Semi,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `<`
    Less,
    /// `>`
    Great,
    /// `>>`
    GreatGreat,
}

impl Token {
    /// How the token is written, for error messages.
    pub fn show(&self) -> String {
        let s = match self {
            Token::Word(w) => return w.clone(),
            Token::Pipe => "|",
            Token::Amp => "&",
            Token::Semi => ";",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::Less => "<",
            Token::Great => ">",
            Token::GreatGreat => ">>",
        };
        String::from(s)
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0b')
}

fn is_operator(c: char) -> bool {
    matches!(c, '|' | '&' | ';' | '(' | ')' | '<' | '>')
}

/// The tokens of `line`; `Err` names the problem (an unterminated quote).
pub fn tokens(line: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if is_space(c) {
            chars.next();
            continue;
        }
        if c == '#' {
            break;
        }
        if is_operator(c) {
            chars.next();
            out.push(match c {
                '|' => Token::Pipe,
                '&' => Token::Amp,
                ';' => Token::Semi,
                '(' => Token::LParen,
                ')' => Token::RParen,
                '<' => Token::Less,
                _ if chars.peek() == Some(&'>') => {
                    chars.next();
                    Token::GreatGreat
                }
                _ => Token::Great,
            });
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if is_space(c) || is_operator(c) {
                break;
            }
            chars.next();
            if c == '\'' || c == '"' {
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some(other) => word.push(other),
                        None => return Err(alloc::format!("missing closing {c}")),
                    }
                }
            } else {
                word.push(c);
            }
        }
        out.push(Token::Word(word));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Token::*;
    use super::*;

    fn w(s: &str) -> Token {
        Word(s.into())
    }

    #[test]
    fn words_and_operators() {
        assert_eq!(tokens(""), Ok(vec![]));
        assert_eq!(tokens(" \t\r\n"), Ok(vec![]));
        assert_eq!(tokens("ls -l /"), Ok(vec![w("ls"), w("-l"), w("/")]));
        assert_eq!(
            tokens("a|b&c;(d)<e>f>>g"),
            Ok(vec![
                w("a"),
                Pipe,
                w("b"),
                Amp,
                w("c"),
                Semi,
                LParen,
                w("d"),
                RParen,
                Less,
                w("e"),
                Great,
                w("f"),
                GreatGreat,
                w("g")
            ])
        );
        assert_eq!(tokens("> >"), Ok(vec![Great, Great]));
        assert_eq!(tokens(">>>"), Ok(vec![GreatGreat, Great]));
    }

    #[test]
    fn quotes_keep_everything_and_join() {
        assert_eq!(
            tokens("echo 'a | b' \"c;d\""),
            Ok(vec![w("echo"), w("a | b"), w("c;d")])
        );
        assert_eq!(tokens("x'y z'\"w\"v"), Ok(vec![w("xy zwv")]));
        assert_eq!(tokens("''"), Ok(vec![w("")]));
        assert_eq!(tokens("\"it's\""), Ok(vec![w("it's")]));
        assert_eq!(tokens("echo 'oops"), Err("missing closing '".into()));
        assert_eq!(tokens("echo \"oops"), Err("missing closing \"".into()));
    }

    #[test]
    fn comments_end_the_line() {
        assert_eq!(tokens("# all comment"), Ok(vec![]));
        assert_eq!(tokens("echo a # b | c"), Ok(vec![w("echo"), w("a")]));
        assert_eq!(
            tokens("echo a#b"),
            Ok(vec![w("echo"), w("a#b")]),
            "# inside a word is plain"
        );
        assert_eq!(tokens("echo '#'"), Ok(vec![w("echo"), w("#")]));
    }

    #[test]
    fn operators_show_as_written() {
        assert_eq!(GreatGreat.show(), ">>");
        assert_eq!(w("x").show(), "x");
    }
}
