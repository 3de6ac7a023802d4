//! The kernel command line (`-append "..."`): space-separated `key=value` words.
//!
//! Known keys: `test=<name>` runs a built-in self-test and exits QEMU with
//! its result (`test=boot`: every CPU online and ticking); `ide=pio` makes
//! the disk driver use programmed I/O instead of bus-master DMA;
//! `ap_delay=<ms>` stalls every AP's start (fault injection, `arch::smp`).

const MAX: usize = 256;

struct Line {
    bytes: [u8; MAX],
    len: usize,
}

static LINE: spin::Once<Line> = spin::Once::new();

/// Keeps a copy of the command line. Boot CPU, once, before any reader.
pub fn init(line: &str) {
    let n = line.len().min(MAX);
    let mut bytes = [0; MAX];
    bytes[..n].copy_from_slice(&line.as_bytes()[..n]);
    LINE.call_once(|| Line { bytes, len: n });
}

/// The whole command line ("" before `init`).
pub fn line() -> &'static str {
    LINE.get().map_or("", |l| {
        core::str::from_utf8(&l.bytes[..l.len]).unwrap_or("")
    })
}

/// Value of `key=value` in `line`, if present.
pub fn value_in<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_ascii_whitespace()
        .filter_map(|w| w.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// Value of `key` on the kernel command line.
pub fn value(key: &str) -> Option<&'static str> {
    value_in(line(), key)
}

/// Whether the kernel runs a self-test (and so exits QEMU when it ends or panics).
pub fn test_mode() -> bool {
    value("test").is_some()
}

#[cfg(test)]
mod tests {
    use super::value_in;

    #[test]
    fn finds_keys() {
        assert_eq!(value_in("test=boot quiet", "test"), Some("boot"));
        assert_eq!(value_in("  a=1   b=2 ", "b"), Some("2"));
        assert_eq!(value_in("test", "test"), None);
        assert_eq!(value_in("", "test"), None);
        assert_eq!(value_in("xtest=1", "test"), None);
    }
}
