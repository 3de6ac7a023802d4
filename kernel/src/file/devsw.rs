//! The device table (xv6's `devsw`): what a device inode's major number
//! names. Opening a device inode looks its major up here (`ENODEV` when no
//! entry has it) and the open file then reads and writes through the entry;
//! init's descriptors 0-2 are the console's entry too. A new device is one
//! `Device` implementation and one line in `DEVSW`.
//!
//! Devices are character streams: a read returns what is there (see
//! `File::is_stream`).

use berth_abi::errno::Errno;
use berth_abi::fs::{CONSOLE_MAJOR, TRACE_SERIAL_MAJOR, T_DEVICE};
use berth_abi::stat::Stat;

/// A character device. `minor` is the open inode's minor number (0 for
/// init's console descriptors).
pub trait Device: Sync {
    /// Reads up to `buf.len()` bytes; 0 means end of file. May sleep.
    fn read(&self, minor: i16, buf: &mut [u8]) -> Result<usize, Errno>;

    /// Writes `buf` (or fails); returns the count written. May sleep.
    fn write(&self, minor: i16, buf: &[u8]) -> Result<usize, Errno>;

    /// `fstat` of an open device: as xv6's console, a device-less entry of
    /// type `T_DEVICE` with one link.
    fn stat(&self, _minor: i16) -> Stat {
        Stat {
            dev: 0,
            ino: 0,
            kind: T_DEVICE,
            nlink: 1,
            _pad: 0,
            size: 0,
        }
    }
}

/// The console (`console.rs`): line-disciplined input, raw output.
struct Console;

impl Device for Console {
    fn read(&self, _minor: i16, buf: &mut [u8]) -> Result<usize, Errno> {
        crate::console::read(buf)
    }

    fn write(&self, _minor: i16, buf: &[u8]) -> Result<usize, Errno> {
        crate::console::write_bytes(buf);
        Ok(buf.len())
    }
}

/// COM2, where trace dumps go to a host file: raw bytes out, nothing in.
/// Only the host's processes may write it (a container's would be a
/// channel out of the container, and could forge the host's dumps).
struct TraceSerial;

static COM2_READY: spin::Once<()> = spin::Once::new();

impl Device for TraceSerial {
    fn read(&self, _minor: i16, _buf: &mut [u8]) -> Result<usize, Errno> {
        Ok(0)
    }

    fn write(&self, _minor: i16, buf: &[u8]) -> Result<usize, Errno> {
        if !crate::proc::current().is_some_and(|p| p.on_host()) {
            return Err(Errno::EPERM);
        }
        let com2 = crate::arch::x86_64::serial::COM2;
        COM2_READY.call_once(|| com2.init());
        for &b in buf {
            com2.write_byte(b);
        }
        Ok(buf.len())
    }
}

/// Number of major numbers (xv6's `NDEV`).
const NDEV: usize = 10;

/// The table, indexed by major number.
static DEVSW: [Option<&'static dyn Device>; NDEV] = {
    let mut t: [Option<&'static dyn Device>; NDEV] = [None; NDEV];
    t[CONSOLE_MAJOR as usize] = Some(&Console);
    t[TRACE_SERIAL_MAJOR as usize] = Some(&TraceSerial);
    t
};

/// The device with major number `major`; `ENODEV` if there is none.
pub fn lookup(major: i16) -> Result<&'static dyn Device, Errno> {
    usize::try_from(major)
        .ok()
        .and_then(|m| DEVSW.get(m).copied().flatten())
        .ok_or(Errno::ENODEV)
}
