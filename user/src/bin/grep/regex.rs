//! xv6's tiny regular expressions: `c` matches itself, `.` any byte, `x*`
//! zero or more of `x` (a byte or `.`), `^` at the start anchors the match
//! to the start of the line, `$` at the end anchors it to the end.
//! Everything else is literal, including a `*` with nothing before it.
//!
//! xv6 matches by recursive backtracking, which takes exponential time on
//! patterns like `a*a*a*a*b` and recurses once per pattern byte. This
//! module compiles the pattern into a list of atoms and runs the set of
//! positions in it over the text (a Thompson-style simulation): the same
//! language, O(pattern * text) time, no recursion, so no input can blow
//! the stack. The tests compare it with a transcription of xv6's matcher.

use alloc::vec;
use alloc::vec::Vec;

/// One position of the pattern: a byte (or any byte), once or repeated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Atom {
    /// `None` for `.`.
    byte: Option<u8>,
    /// Followed by `*`: zero or more times.
    star: bool,
}

impl Atom {
    fn accepts(self, b: u8) -> bool {
        self.byte.is_none_or(|c| c == b)
    }
}

/// A compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Regex {
    atoms: Vec<Atom>,
    /// `^`: the match must start at the start of the text.
    at_start: bool,
    /// `$`: the match must end at the end of the text.
    at_end: bool,
}

impl Regex {
    /// Compiles `pattern`; every byte string is a valid pattern.
    pub fn new(pattern: &[u8]) -> Regex {
        let (at_start, mut rest) = match pattern.strip_prefix(b"^") {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        let mut atoms = Vec::new();
        let mut at_end = false;
        while let Some((&c, tail)) = rest.split_first() {
            let byte = if c == b'.' { None } else { Some(c) };
            if tail.first() == Some(&b'*') {
                atoms.push(Atom { byte, star: true });
                rest = &tail[1..];
            } else if c == b'$' && tail.is_empty() {
                at_end = true;
                rest = tail;
            } else {
                atoms.push(Atom { byte, star: false });
                rest = tail;
            }
        }
        Regex {
            atoms,
            at_start,
            at_end,
        }
    }

    /// Whether some part of `text` matches (all of it with `^` and `$`).
    pub fn is_match(&self, text: &[u8]) -> bool {
        let m = self.atoms.len();
        // live[j]: some start position has matched the first j atoms so far.
        let mut live = vec![false; m + 1];
        let mut next = vec![false; m + 1];
        self.enter(&mut live, 0);
        for &b in text {
            if live[m] && !self.at_end {
                return true;
            }
            next.iter_mut().for_each(|x| *x = false);
            for (j, atom) in self.atoms.iter().enumerate() {
                if live[j] && atom.accepts(b) {
                    self.enter(&mut next, if atom.star { j } else { j + 1 });
                }
            }
            if !self.at_start {
                // A match may also start after this byte.
                self.enter(&mut next, 0);
            }
            core::mem::swap(&mut live, &mut next);
        }
        live[m]
    }

    /// Marks position `j` live, and every position reachable from it by
    /// skipping starred atoms (zero repetitions).
    fn enter(&self, live: &mut [bool], mut j: usize) {
        loop {
            live[j] = true;
            match self.atoms.get(j) {
                Some(a) if a.star => j += 1,
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xv6's matcher, transcribed as directly as Rust allows: the reference.
    fn xv6_match(re: &[u8], text: &[u8]) -> bool {
        if let Some(rest) = re.strip_prefix(b"^") {
            return xv6_here(rest, text);
        }
        (0..=text.len()).any(|i| xv6_here(re, &text[i..]))
    }

    fn xv6_here(re: &[u8], text: &[u8]) -> bool {
        match re {
            [] => true,
            [c, b'*', rest @ ..] => xv6_star(*c, rest, text),
            [b'$'] => text.is_empty(),
            [c, rest @ ..] => match text {
                [t, trest @ ..] if *c == b'.' || c == t => xv6_here(rest, trest),
                _ => false,
            },
        }
    }

    fn xv6_star(c: u8, re: &[u8], mut text: &[u8]) -> bool {
        loop {
            if xv6_here(re, text) {
                return true;
            }
            match text {
                [t, rest @ ..] if *t == c || c == b'.' => text = rest,
                _ => return false,
            }
        }
    }

    fn m(re: &str, text: &str) -> bool {
        Regex::new(re.as_bytes()).is_match(text.as_bytes())
    }

    #[test]
    fn examples() {
        assert!(m("", ""));
        assert!(m("", "anything"));
        assert!(m("hello", "say hello world"));
        assert!(!m("hello", "say hell o"));
        assert!(m("^say", "say hello"));
        assert!(!m("^hello", "say hello"));
        assert!(m("world$", "hello world"));
        assert!(!m("world$", "world peace"));
        assert!(m("^$", ""));
        assert!(!m("^$", "x"));
        assert!(m("h.llo", "hallo"));
        assert!(m("^a*b$", "b"));
        assert!(m("^a*b$", "aaab"));
        assert!(!m("^a*b$", "aaabb"));
        assert!(m("^.*$", "whatever"));
        assert!(m("x.*z", "x then z"));
        assert!(m("*", "a*b"), "a leading star is literal");
        assert!(!m("*", "ab"));
        assert!(m("a$b", "xa$b"), "a dollar inside is literal");
        assert!(m("^^", "^"), "a caret after the first is literal");
    }

    #[test]
    fn pathological_patterns_are_fast() {
        let text = [b'a'; 5000];
        let mut re = Vec::new();
        for _ in 0..200 {
            re.extend_from_slice(b"a*");
        }
        re.push(b'b');
        assert!(!Regex::new(&re).is_match(&text));
        re.pop();
        re.push(b'$');
        assert!(Regex::new(&re).is_match(&text));
    }

    /// Every pattern of up to 5 bytes over `ab.*^$` against every text of
    /// up to 4 bytes over `ab$`: the same answers as xv6's matcher.
    #[test]
    fn agrees_with_xv6_exhaustively() {
        fn strings(alphabet: &[u8], max: usize) -> Vec<Vec<u8>> {
            let mut all = vec![Vec::new()];
            let mut last = vec![Vec::new()];
            for _ in 0..max {
                let mut longer = Vec::new();
                for s in &last {
                    for &c in alphabet {
                        let mut t = s.clone();
                        t.push(c);
                        longer.push(t);
                    }
                }
                all.extend(longer.iter().cloned());
                last = longer;
            }
            all
        }
        let texts = strings(b"ab$", 4);
        let mut checked = 0;
        for re in strings(b"ab.*^$", 5) {
            let compiled = Regex::new(&re);
            for t in &texts {
                assert_eq!(
                    compiled.is_match(t),
                    xv6_match(&re, t),
                    "pattern {:?} text {:?}",
                    core::str::from_utf8(&re).unwrap(),
                    core::str::from_utf8(t).unwrap()
                );
                checked += 1;
            }
        }
        assert!(checked > 500_000);
    }
}
