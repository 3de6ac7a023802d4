//! The serial console as the tests see it: everything QEMU wrote to stdout,
//! plus a read cursor.
//!
//! Pure data, no I/O, so the matching rules are unit-tested on the host.
//! Output is kept as bytes (the kernel may print anything; a read may split
//! a UTF-8 sequence) with every `\r` dropped, because the kernel ends lines
//! with `\r\n` and tests compare against plain `\n`-separated text. Searches
//! start at a cursor the caller owns, so a test reads the console in order:
//! once a line has been consumed, a later wait cannot match it again.

/// Captured console output.
#[derive(Clone, Debug, Default)]
pub struct ConsoleBuffer {
    bytes: Vec<u8>,
}

impl ConsoleBuffer {
    /// An empty console.
    pub fn new() -> ConsoleBuffer {
        ConsoleBuffer::default()
    }

    /// Appends output as it arrived from QEMU, dropping carriage returns.
    pub fn push(&mut self, chunk: &[u8]) {
        self.bytes
            .extend(chunk.iter().copied().filter(|&b| b != b'\r'));
    }

    /// Bytes captured so far (a cursor is an offset into them).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether nothing has been captured yet.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Everything captured, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Finds `needle` at or after `from`; returns the offset just past it.
    pub fn find(&self, from: usize, needle: &str) -> Option<usize> {
        let needle = needle.as_bytes();
        let hay = self.bytes.get(from..)?;
        if needle.is_empty() {
            return Some(from);
        }
        hay.windows(needle.len())
            .position(|w| w == needle)
            .map(|i| from + i + needle.len())
    }

    /// The first line at or after `from` that satisfies `pred`, and the
    /// offset just past its newline.
    ///
    /// Only complete lines count (a line still being printed might match
    /// too early), unless `ended` says no more output will come, in which
    /// case an unterminated last line counts too. If `from` is mid-line, the
    /// rest of that line is the first candidate.
    pub fn next_line_matching(
        &self,
        from: usize,
        ended: bool,
        pred: impl Fn(&str) -> bool,
    ) -> Option<(String, usize)> {
        let mut start = from.min(self.bytes.len());
        while start < self.bytes.len() {
            let rest = &self.bytes[start..];
            let (line, next) = match rest.iter().position(|&b| b == b'\n') {
                Some(nl) => (&rest[..nl], start + nl + 1),
                None if ended => (rest, self.bytes.len()),
                None => return None,
            };
            let line = String::from_utf8_lossy(line);
            if pred(&line) {
                return Some((line.into_owned(), next));
            }
            start = next;
        }
        None
    }

    /// Offset just past the last newline: the end of the complete lines.
    pub fn complete_len(&self) -> usize {
        self.bytes
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
    }

    /// The last `n` lines (an unterminated last line included).
    pub fn tail(&self, n: usize) -> Vec<String> {
        let text = self.text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console(text: &str) -> ConsoleBuffer {
        let mut c = ConsoleBuffer::new();
        c.push(text.as_bytes());
        c
    }

    #[test]
    fn carriage_returns_are_dropped_even_across_chunks() {
        let mut c = ConsoleBuffer::new();
        c.push(b"one\r");
        c.push(b"\ntwo\r\n");
        assert_eq!(c.text(), "one\ntwo\n");
    }

    #[test]
    fn find_returns_the_offset_past_the_match_and_respects_the_cursor() {
        let c = console("ping\nconsole: ping\n");
        let first = c.find(0, "ping").unwrap();
        assert_eq!(first, 4);
        let second = c.find(first, "ping").unwrap();
        assert_eq!(&c.text()[..second], "ping\nconsole: ping");
        assert_eq!(c.find(second, "ping"), None);
        assert_eq!(c.find(999, "x"), None);
    }

    #[test]
    fn a_match_split_across_chunks_is_found() {
        let mut c = ConsoleBuffer::new();
        c.push(b"boot te");
        assert_eq!(c.find(0, "boot test"), None);
        c.push(b"st: passed\r\n");
        assert!(c.find(0, "boot test: passed").is_some());
    }

    #[test]
    fn line_matching_waits_for_the_newline_until_output_ends() {
        let c = console("cpu 0 online\n8 of 8 CPUs onl");
        let online = |l: &str| l.ends_with("CPUs online");
        assert_eq!(c.next_line_matching(0, false, online), None);
        let mut c = c;
        c.push(b"ine\r\n");
        let (line, next) = c.next_line_matching(0, false, online).unwrap();
        assert_eq!(line, "8 of 8 CPUs online");
        assert_eq!(next, c.len());
        assert_eq!(c.next_line_matching(next, false, online), None);

        let ended = console("last words");
        assert_eq!(ended.next_line_matching(0, false, |_| true), None);
        assert_eq!(
            ended.next_line_matching(0, true, |_| true),
            Some(("last words".to_string(), 10))
        );
    }

    #[test]
    fn line_matching_from_mid_line_sees_the_rest_of_it() {
        let c = console("console test: type ping\nping\n");
        let cursor = c.find(0, "type ").unwrap();
        let (line, _) = c
            .next_line_matching(cursor, false, |l| l == "ping")
            .unwrap();
        assert_eq!(line, "ping");
        let (rest, _) = c.next_line_matching(cursor, false, |_| true).unwrap();
        assert_eq!(rest, "ping");
    }

    #[test]
    fn complete_len_ends_at_the_last_newline() {
        assert_eq!(console("").complete_len(), 0);
        assert_eq!(console("partial").complete_len(), 0);
        assert_eq!(console("a\nb\npart").complete_len(), 4);
        assert_eq!(console("a\nb\n").complete_len(), 4);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let c = console("a\nb\nc\nd");
        assert_eq!(c.tail(2), ["c", "d"]);
        assert_eq!(c.tail(10), ["a", "b", "c", "d"]);
        assert!(ConsoleBuffer::new().tail(3).is_empty());
    }
}
