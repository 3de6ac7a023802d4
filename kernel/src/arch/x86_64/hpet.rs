//! The HPET's main counter, read-only: the reference clock `tsc.rs`
//! calibrates the TSC against.
//!
//! Owns the HPET register block (found through the ACPI `HPET` table,
//! `acpi::find_hpet`) and nothing else: the kernel arms none of its
//! comparators and never sets legacy replacement routing, so the PIT and
//! RTC interrupts stay where they were; it only starts the main counter
//! (general configuration bit 0, `ENABLE_CNF`) and reads it. The counter
//! is left running afterwards: reading it is harmless, and under QEMU a
//! running counter costs nothing (its value is computed when read).
//!
//! Registers (IA-PC HPET 1.0a, §2.3): capabilities at +0x0 (bits 63:32
//! the counter period in femtoseconds, at most 100 ns; QEMU: 10 ns, a
//! 100 MHz counter), general configuration at +0x10, main counter at
//! +0xF0. Every access is a 32-bit volatile load or store, as Linux does
//! (QEMU's HPET model accepts 4-byte accesses; a 32-bit counter is read
//! the same way): only the counter's low half is used, so deltas are
//! taken modulo 2^32, which at 100 MHz wraps after 42 s, far beyond a
//! calibration window. The block is MMIO in the 0xfe00_0000..4 GiB hole,
//! which the direct map covers uncached (`paging.rs`).

use super::paging;

const CAPABILITIES_LO: u64 = 0x0;
const CAPABILITIES_HI: u64 = 0x4;
const CONFIG: u64 = 0x10;
const MAIN_COUNTER_LO: u64 = 0xF0;
/// `ENABLE_CNF`: the main counter runs.
const ENABLE_CNF: u32 = 1 << 0;
/// The largest period the specification allows (100 ns).
const MAX_PERIOD_FS: u32 = 100_000_000;

/// A started HPET main counter.
pub struct Hpet {
    /// Virtual address of the register block (direct map).
    base: u64,
    period_fs: u32,
}

impl Hpet {
    /// Starts the main counter of the HPET whose registers are at `phys`;
    /// `None` if the block does not look like an HPET (a period of 0 or
    /// beyond the specification's 100 ns, e.g. all-ones from no device).
    ///
    /// # Safety
    /// `phys` must be the register block the ACPI `HPET` table names, and
    /// nothing else may drive the HPET's configuration meanwhile.
    pub unsafe fn start(phys: u64) -> Option<Hpet> {
        let hpet = Hpet {
            base: paging::phys_to_virt(phys),
            period_fs: 0,
        };
        let period_fs = hpet.read(CAPABILITIES_HI);
        if period_fs == 0 || period_fs > MAX_PERIOD_FS {
            return None;
        }
        let config = hpet.read(CONFIG);
        if config & ENABLE_CNF == 0 {
            // SAFETY: setting ENABLE_CNF only starts the counter; the other
            // bits (legacy routing) are written back as they were.
            unsafe { hpet.write(CONFIG, config | ENABLE_CNF) };
        }
        Some(Hpet { period_fs, ..hpet })
    }

    /// One tick of the main counter, in femtoseconds.
    pub fn period_fs(&self) -> u64 {
        u64::from(self.period_fs)
    }

    /// The capabilities register's low half (revision, comparators, vendor).
    pub fn capabilities(&self) -> u32 {
        self.read(CAPABILITIES_LO)
    }

    /// The main counter's low 32 bits (compare readings with `wrapping_sub`).
    #[inline(always)]
    pub fn counter(&self) -> u32 {
        self.read(MAIN_COUNTER_LO)
    }

    fn read(&self, reg: u64) -> u32 {
        // SAFETY: `base` is the HPET block `start` was given (its caller
        // vouched for it), mapped uncached in the direct map; these
        // registers are readable at any time and reading has no side effect.
        unsafe { core::ptr::read_volatile((self.base + reg) as *const u32) }
    }

    /// # Safety
    /// The value must be valid for `reg`.
    unsafe fn write(&self, reg: u64, value: u32) {
        // SAFETY: as in `read`; the value is the caller's promise.
        unsafe { core::ptr::write_volatile((self.base + reg) as *mut u32, value) }
    }
}
