//! The console on COM1: whole-line locked output and interrupt-driven input.
//!
//! `print!`/`println!` format into the UART while holding the console lock,
//! so lines from different CPUs never interleave. `\n` goes out as `\r\n`
//! (QEMU puts the terminal in raw mode). The panic path uses
//! [`write_unlocked`] instead, since a panic may strike while this CPU holds
//! the lock. Input goes through xv6's line discipline: echo, backspace,
//! ^U (kill line), ^D (end of file), ^P (process listing), ^C (kill the
//! foreground process group, see `tcsetpgrp`); `read` returns
//! at most one line.

use core::fmt::{self, Write};

use crate::arch::x86_64::serial;
use berth_abi::errno::Errno;

use crate::sync::{SpinLock, WaitQueue};

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

/// Writes raw bytes from a user `write(1, ...)` under the console lock.
pub fn write_bytes(bytes: &[u8]) {
    let _guard = CONSOLE.lock();
    for &b in bytes {
        if b == b'\n' {
            serial::write_byte(b'\r');
        }
        serial::write_byte(b);
    }
}

const INPUT_SIZE: usize = 256;
const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_P: u8 = 0x10;
const CTRL_U: u8 = 0x15;
const BACKSPACE: u8 = 0x08;
const DELETE: u8 = 0x7f;

/// The line discipline's buffer (xv6's `cons`): `r` next byte to read,
/// `w` end of the lines handed to readers, `e` end of the line being edited.
struct Input {
    buf: [u8; INPUT_SIZE],
    r: usize,
    w: usize,
    e: usize,
}

static INPUT: SpinLock<Input> = SpinLock::new(
    "console input",
    Input {
        buf: [0; INPUT_SIZE],
        r: 0,
        w: 0,
        e: 0,
    },
);
static READERS: WaitQueue = WaitQueue::new();

fn echo(b: u8) {
    let _guard = CONSOLE.lock();
    match b {
        b'\n' => {
            serial::write_byte(b'\r');
            serial::write_byte(b'\n');
        }
        BACKSPACE => {
            serial::write_byte(BACKSPACE);
            serial::write_byte(b' ');
            serial::write_byte(BACKSPACE);
        }
        _ => serial::write_byte(b),
    }
}

/// One received byte through the line discipline: editing keys, echo, and
/// handing complete lines (or ^D) to readers.
fn input_byte(c: u8) {
    let mut inp = INPUT.lock();
    match c {
        CTRL_P => {
            drop(inp);
            crate::proc::lifecycle::print_process_list();
        }
        CTRL_C => {
            // Drop the line being edited and interrupt the foreground group.
            inp.e = inp.w;
            drop(inp);
            echo(b'^');
            echo(b'C');
            echo(b'\n');
            crate::proc::lifecycle::interrupt_foreground();
        }
        CTRL_U => {
            while inp.e != inp.w && inp.buf[(inp.e - 1) % INPUT_SIZE] != b'\n' {
                inp.e -= 1;
                echo(BACKSPACE);
            }
        }
        BACKSPACE | DELETE => {
            if inp.e != inp.w {
                inp.e -= 1;
                echo(BACKSPACE);
            }
        }
        _ => {
            let c = if c == b'\r' { b'\n' } else { c };
            if inp.e - inp.r < INPUT_SIZE {
                let at = inp.e % INPUT_SIZE;
                inp.buf[at] = c;
                inp.e += 1;
                if c != CTRL_D {
                    echo(c);
                }
                if c == b'\n' || c == CTRL_D || inp.e - inp.r == INPUT_SIZE {
                    inp.w = inp.e;
                    drop(inp);
                    READERS.wake_all();
                }
            }
        }
    }
}

/// Reads up to one line (blocking until one is complete); ^D at the start
/// of a line is end of file.
pub fn read(out: &mut [u8]) -> Result<usize, Errno> {
    let mut n = 0;
    let mut inp = INPUT.lock();
    while n < out.len() {
        while inp.r == inp.w {
            if crate::proc::current().is_some_and(|p| p.killed()) {
                return Err(Errno::EINTR);
            }
            inp = READERS.sleep_interruptible(inp);
        }
        let c = inp.buf[inp.r % INPUT_SIZE];
        inp.r += 1;
        if c == CTRL_D {
            if n > 0 {
                // Leave ^D for the next read, which then returns 0.
                inp.r -= 1;
            }
            break;
        }
        out[n] = c;
        n += 1;
        if c == b'\n' {
            break;
        }
    }
    Ok(n)
}

/// Whether a complete line equal to `line` is waiting to be read (the
/// kernel's console self-test, which runs before any process).
pub fn input_has_line(line: &[u8]) -> bool {
    let inp = INPUT.lock();
    let pending = inp.w - inp.r;
    pending > line.len()
        && (0..line.len()).all(|i| inp.buf[(inp.w - 1 - line.len() + i) % INPUT_SIZE] == line[i])
        && inp.buf[(inp.w - 1) % INPUT_SIZE] == b'\n'
}

/// COM1 receive interrupt: feed every received byte to the line discipline.
pub fn on_uart_interrupt() {
    while let Some(b) = serial::read_byte() {
        input_byte(b);
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
