//! PCI configuration space through the legacy I/O ports (mechanism #1,
//! 0xCF8 address / 0xCFC data), enough to find a device by class and turn
//! on its bus mastering.
//!
//! Only bus 0 is scanned: QEMU's `pc` machine puts every built-in device
//! there, and the kernel drives no device behind a bridge.

use super::cpu::{inl, outl};
use crate::sync::SpinLock;

const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;

/// Offsets in a type-0 configuration header.
const VENDOR_ID: u8 = 0x00;
const COMMAND: u8 = 0x04;
const CLASS_REVISION: u8 = 0x08;
const HEADER_TYPE: u8 = 0x0c;
const BAR0: u8 = 0x10;

/// Command register bits.
const COMMAND_IO_SPACE: u16 = 1 << 0;
const COMMAND_BUS_MASTER: u16 = 1 << 2;

/// The address and data ports form one register pair: one access at a time.
static CONFIG: SpinLock<()> = SpinLock::new("pci config", ());

/// One function of a device on bus 0.
#[derive(Clone, Copy, Debug)]
pub struct Function {
    pub device: u8,
    pub function: u8,
}

impl Function {
    fn address(self, offset: u8) -> u32 {
        1 << 31
            | u32::from(self.device) << 11
            | u32::from(self.function) << 8
            | u32::from(offset & 0xfc)
    }

    /// Reads the configuration dword at `offset` (rounded down to 4).
    pub fn read32(self, offset: u8) -> u32 {
        let _g = CONFIG.lock();
        outl(CONFIG_ADDRESS, self.address(offset));
        inl(CONFIG_DATA)
    }

    fn write32(self, offset: u8, value: u32) {
        let _g = CONFIG.lock();
        outl(CONFIG_ADDRESS, self.address(offset));
        outl(CONFIG_DATA, value);
    }

    /// (class, subclass, programming interface).
    pub fn class(self) -> (u8, u8, u8) {
        let v = self.read32(CLASS_REVISION);
        ((v >> 24) as u8, (v >> 16) as u8, (v >> 8) as u8)
    }

    /// Base address register `n` (0-5), raw.
    pub fn bar(self, n: u8) -> u32 {
        self.read32(BAR0 + 4 * n)
    }

    /// Places I/O BAR `n` at `port` (for firmware that assigned none);
    /// returns whether the function took the address.
    pub fn assign_io_bar(self, n: u8, port: u16) -> bool {
        self.write32(BAR0 + 4 * n, u32::from(port) | 1);
        self.bar(n) & 0xfffc == u32::from(port)
    }

    /// Lets the function decode its I/O BARs and master the bus (DMA).
    pub fn enable_io_and_bus_master(self) {
        let v = self.read32(COMMAND);
        let command = (v as u16) | COMMAND_IO_SPACE | COMMAND_BUS_MASTER;
        // The upper half is the status register, whose bits clear when
        // written as 1: write zeros there.
        self.write32(COMMAND, u32::from(command));
    }
}

/// The first function on bus 0 with the given class and subclass.
pub fn find(class: u8, subclass: u8) -> Option<Function> {
    for device in 0..32 {
        let functions = {
            let f0 = Function {
                device,
                function: 0,
            };
            if f0.read32(VENDOR_ID) & 0xffff == 0xffff {
                continue;
            }
            if f0.read32(HEADER_TYPE) >> 16 & 0x80 != 0 {
                8
            } else {
                1
            }
        };
        for function in 0..functions {
            let f = Function { device, function };
            if f.read32(VENDOR_ID) & 0xffff == 0xffff {
                continue;
            }
            let (c, s, _) = f.class();
            if (c, s) == (class, subclass) {
                return Some(f);
            }
        }
    }
    None
}
