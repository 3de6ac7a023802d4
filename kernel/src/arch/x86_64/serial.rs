//! 16550 UARTs: COM1 (port 0x3f8, the console: raw byte output and receive
//! interrupts) and COM2 (port 0x2f8, output only: where `perf` sends trace
//! dumps to a host file, `make qemu TRACE=path`).
//!
//! Only register access lives here; line locking and echo belong to
//! `crate::console`. A port QEMU was not given reads as all ones, so
//! writing to an absent COM2 neither waits nor faults.

use super::cpu::{inb, outb};

/// One UART, by its I/O base.
#[derive(Clone, Copy)]
pub struct Uart(u16);

pub const COM1: Uart = Uart(0x3f8);
pub const COM2: Uart = Uart(0x2f8);

const DATA: u16 = 0;
const IER: u16 = 1;
const FCR: u16 = 2;
const LCR: u16 = 3;
const MCR: u16 = 4;
const LSR: u16 = 5;
const LSR_DATA_READY: u8 = 0x01;
const LSR_THR_EMPTY: u8 = 0x20;

/// ISA IRQ line of COM1.
pub const COM1_IRQ: u8 = 4;

impl Uart {
    /// Programs 115200 8N1 with FIFOs on and interrupts off.
    pub fn init(self) {
        let b = self.0;
        outb(b + IER, 0x00);
        outb(b + LCR, 0x80); // DLAB on
        outb(b + DATA, 0x01); // divisor 1 = 115200 baud
        outb(b + IER, 0x00);
        outb(b + LCR, 0x03); // 8 bits, no parity, one stop bit, DLAB off
        outb(b + FCR, 0xC7); // enable and clear FIFOs, 14-byte threshold
        outb(b + MCR, 0x0B); // DTR, RTS, OUT2 (OUT2 gates the IRQ line)
    }

    /// Sends one byte, waiting for the transmitter.
    pub fn write_byte(self, byte: u8) {
        let mut spins = 0u32;
        while inb(self.0 + LSR) & LSR_THR_EMPTY == 0 && spins < 100_000 {
            spins += 1;
            core::hint::spin_loop();
        }
        outb(self.0 + DATA, byte);
    }
}

/// Programs COM1.
pub fn init() {
    COM1.init();
}

/// Turns on COM1's "received data available" interrupt.
pub fn enable_rx_interrupt() {
    outb(COM1.0 + IER, 0x01);
}

/// Sends one byte on COM1.
pub fn write_byte(b: u8) {
    COM1.write_byte(b);
}

/// Reads one byte COM1 received, if any.
pub fn read_byte() -> Option<u8> {
    if inb(COM1.0 + LSR) & LSR_DATA_READY != 0 {
        Some(inb(COM1.0 + DATA))
    } else {
        None
    }
}
