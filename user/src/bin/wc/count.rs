//! Counting lines, words and bytes over a stream fed in pieces.
//!
//! A word is a maximal run of bytes that are not white space (space, tab,
//! newline, carriage return, vertical tab, form feed), so a word split
//! across two pieces counts once. A line is a newline byte.

/// Running counts; feed it every piece of the input in order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub lines: u64,
    pub words: u64,
    pub bytes: u64,
    /// Whether the last byte seen was part of a word.
    in_word: bool,
}

impl Counts {
    /// Counts `piece`, which follows everything fed before.
    pub fn feed(&mut self, piece: &[u8]) {
        for &b in piece {
            if b == b'\n' {
                self.lines += 1;
            }
            let space = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
            if !space && !self.in_word {
                self.words += 1;
            }
            self.in_word = !space;
        }
        self.bytes += piece.len() as u64;
    }

    /// Adds another input's counts (for the total line).
    pub fn add(&mut self, other: &Counts) {
        self.lines += other.lines;
        self.words += other.words;
        self.bytes += other.bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(pieces: &[&[u8]]) -> (u64, u64, u64) {
        let mut c = Counts::default();
        for p in pieces {
            c.feed(p);
        }
        (c.lines, c.words, c.bytes)
    }

    #[test]
    fn counts_lines_words_bytes() {
        assert_eq!(count(&[]), (0, 0, 0));
        assert_eq!(count(&[b"hello world\n"]), (1, 2, 12));
        assert_eq!(count(&[b"  a\tb\r\n\nc"]), (2, 3, 9));
        assert_eq!(count(&[b"\n\n\n"]), (3, 0, 3));
        assert_eq!(count(&[b"\x0bx\x0cy "]), (0, 2, 5));
    }

    #[test]
    fn words_split_across_pieces_count_once() {
        assert_eq!(count(&[b"hel", b"lo wor", b"ld\n"]), (1, 2, 12));
        assert_eq!(count(&[b"a", b" ", b"b"]), (0, 2, 3));
    }

    #[test]
    fn totals_add_up() {
        let mut t = Counts::default();
        let mut a = Counts::default();
        a.feed(b"one two\n");
        let mut b = Counts::default();
        b.feed(b"three");
        t.add(&a);
        t.add(&b);
        assert_eq!((t.lines, t.words, t.bytes), (1, 3, 13));
    }
}
