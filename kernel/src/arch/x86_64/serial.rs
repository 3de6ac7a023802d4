//! 16550 UART on COM1 (port 0x3f8): raw byte output and receive interrupts.
//!
//! Only register access lives here; line locking and echo belong to
//! `crate::console`.

use super::cpu::{inb, outb};

const COM1: u16 = 0x3f8;
const DATA: u16 = COM1;
const IER: u16 = COM1 + 1;
const FCR: u16 = COM1 + 2;
const LCR: u16 = COM1 + 3;
const MCR: u16 = COM1 + 4;
const LSR: u16 = COM1 + 5;
const LSR_DATA_READY: u8 = 0x01;
const LSR_THR_EMPTY: u8 = 0x20;

/// ISA IRQ line of COM1.
pub const COM1_IRQ: u8 = 4;

/// Programs 115200 8N1 with FIFOs on and interrupts off.
pub fn init() {
    outb(IER, 0x00);
    outb(LCR, 0x80); // DLAB on
    outb(DATA, 0x01); // divisor 1 = 115200 baud
    outb(IER, 0x00);
    outb(LCR, 0x03); // 8 bits, no parity, one stop bit, DLAB off
    outb(FCR, 0xC7); // enable and clear FIFOs, 14-byte threshold
    outb(MCR, 0x0B); // DTR, RTS, OUT2 (OUT2 gates the IRQ line)
}

/// Turns on the "received data available" interrupt.
pub fn enable_rx_interrupt() {
    outb(IER, 0x01);
}

/// Sends one byte, waiting for the transmitter.
pub fn write_byte(b: u8) {
    let mut spins = 0u32;
    while inb(LSR) & LSR_THR_EMPTY == 0 && spins < 100_000 {
        spins += 1;
        core::hint::spin_loop();
    }
    outb(DATA, b);
}

/// Reads one received byte, if any.
pub fn read_byte() -> Option<u8> {
    if inb(LSR) & LSR_DATA_READY != 0 {
        Some(inb(DATA))
    } else {
        None
    }
}
