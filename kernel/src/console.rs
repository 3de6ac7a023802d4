//! The console on COM1: whole-line locked output and interrupt-driven input.
//!
//! `print!`/`println!` format into the UART while holding the console lock,
//! so lines from different CPUs never interleave. `\n` goes out as `\r\n`
//! (QEMU puts the terminal in raw mode). The panic path uses
//! [`write_unlocked`] instead, since a panic may strike while this CPU holds
//! the lock. Received bytes are echoed; the line discipline that feeds
//! `read(0)` arrives with the shell.

use core::fmt::{self, Write};

use crate::arch::x86_64::serial;
use crate::sync::SpinLock;

struct Uart;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                serial::write_byte(b'\r');
            }
            serial::write_byte(b);
        }
        Ok(())
    }
}

static CONSOLE: SpinLock<()> = SpinLock::new("console", ());

/// Writes formatted text under the console lock (one call = one unbroken piece).
pub fn print_fmt(args: fmt::Arguments) {
    let _guard = CONSOLE.lock();
    let _ = Uart.write_fmt(args);
}

/// Writes without the lock: only for the panic path.
pub fn write_unlocked(args: fmt::Arguments) {
    let _ = Uart.write_fmt(args);
}

/// Bytes received and not yet consumed (a ring; the oldest are dropped when full).
struct Input {
    buf: [u8; 256],
    start: usize,
    len: usize,
}

static INPUT: SpinLock<Input> = SpinLock::new("console input", Input { buf: [0; 256], start: 0, len: 0 });

/// Whether the received text ends with `line` followed by a newline
/// (used by the console self-test until the shell's line discipline exists).
pub fn input_has_line(line: &[u8]) -> bool {
    let inp = INPUT.lock();
    let bytes = |i: usize| inp.buf[(inp.start + i) % inp.buf.len()];
    let n = line.len();
    if inp.len < n + 1 || bytes(inp.len - 1) != b'\n' {
        return false;
    }
    (0..n).all(|i| bytes(inp.len - 1 - n + i) == line[i])
}

fn push_input(b: u8) {
    let mut inp = INPUT.lock();
    let cap = inp.buf.len();
    if inp.len == cap {
        inp.start = (inp.start + 1) % cap;
        inp.len -= 1;
    }
    let at = (inp.start + inp.len) % cap;
    inp.buf[at] = b;
    inp.len += 1;
}

/// COM1 receive interrupt: drain the FIFO, echo what came in.
pub fn on_uart_interrupt() {
    while let Some(b) = serial::read_byte() {
        push_input(if b == b'\r' { b'\n' } else { b });
        let _guard = CONSOLE.lock();
        match b {
            b'\r' | b'\n' => {
                serial::write_byte(b'\r');
                serial::write_byte(b'\n');
            }
            0x7f | 0x08 => {
                serial::write_byte(0x08);
                serial::write_byte(b' ');
                serial::write_byte(0x08);
            }
            _ => serial::write_byte(b),
        }
    }
}

/// Prints to the console.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => ($crate::console::print_fmt(format_args!($($arg)*)));
}

/// Prints a line to the console; the line is never split by another CPU's output.
#[macro_export]
macro_rules! println {
    () => ($crate::print!("\n"));
    ($($arg:tt)*) => ($crate::console::print_fmt(format_args!("{}\n", format_args!($($arg)*))));
}
