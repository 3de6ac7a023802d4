//! ACPI: find tables from the RSDP; decode the MADT (CPUs, IOAPICs, IRQ
//! overrides) and the HPET table (where the HPET's registers are).
//!
//! qboot and SeaBIOS provide ACPI tables but no MP table, so the MADT is the
//! only source of CPUs; QEMU's `pc` machine also publishes an `HPET` table,
//! which `tsc.rs` uses to calibrate the TSC. Decoding works on byte slices
//! ([`parse_madt`], [`parse_hpet`]) and is unit-tested on the host with
//! tables captured from QEMU; only [`find_table`] (and its wrappers
//! [`find_madt`], [`find_hpet`]) touches physical memory.

/// Most CPUs the MADT decoder records (more are counted, not stored).
pub const MADT_MAX_CPUS: usize = 256;
const MADT_MAX_IOAPICS: usize = 8;
const MADT_MAX_OVERRIDES: usize = 16;

/// Why a table was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AcpiError {
    BadRsdp,
    BadChecksum(&'static str),
    Truncated(&'static str),
    /// No table with that signature in the XSDT/RSDT.
    NotFound(&'static str),
    /// The table is there but describes something unusable.
    Unusable(&'static str),
}

/// One IOAPIC entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IoApicInfo {
    pub id: u8,
    pub address: u32,
    pub gsi_base: u32,
}

/// Polarity and trigger mode of an interrupt line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IrqFlags {
    pub active_low: bool,
    pub level_triggered: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Override {
    source: u8,
    gsi: u32,
    flags: IrqFlags,
}

/// What the MADT says about the machine.
#[derive(Clone, Debug)]
pub struct Madt {
    pub lapic_address: u64,
    cpu_ids: [u32; MADT_MAX_CPUS],
    cpu_count: usize,
    ioapics: [IoApicInfo; MADT_MAX_IOAPICS],
    ioapic_count: usize,
    overrides: [Override; MADT_MAX_OVERRIDES],
    override_count: usize,
}

impl Madt {
    /// APIC ids of the usable CPUs (enabled or online-capable), in table order.
    pub fn cpu_apic_ids(&self) -> &[u32] {
        &self.cpu_ids[..self.cpu_count.min(MADT_MAX_CPUS)]
    }

    /// Number of usable CPUs listed, even beyond what is stored.
    pub fn cpu_count(&self) -> usize {
        self.cpu_count
    }

    pub fn ioapics(&self) -> &[IoApicInfo] {
        &self.ioapics[..self.ioapic_count]
    }

    /// Global system interrupt and line flags for ISA `irq`, after overrides
    /// (ISA default: identity mapping, edge-triggered, active high).
    pub fn isa_irq_to_gsi(&self, irq: u8) -> (u32, IrqFlags) {
        self.overrides[..self.override_count]
            .iter()
            .find(|o| o.source == irq)
            .map_or((u32::from(irq), IrqFlags::default()), |o| (o.gsi, o.flags))
    }
}

fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}
fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().unwrap())
}
fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}

fn checksum_ok(b: &[u8]) -> bool {
    b.iter().fold(0u8, |s, &x| s.wrapping_add(x)) == 0
}

/// Length of the SDT whose header starts `header` (at least 36 bytes).
pub fn sdt_length(header: &[u8]) -> Result<usize, AcpiError> {
    if header.len() < 36 {
        return Err(AcpiError::Truncated("sdt header"));
    }
    Ok(u32_at(header, 4) as usize)
}

/// ISA IRQ flags from an MPS INTI flags word.
fn inti_flags(flags: u16) -> IrqFlags {
    IrqFlags {
        active_low: flags & 0b11 == 0b11,
        level_triggered: (flags >> 2) & 0b11 == 0b11,
    }
}

/// Decodes a whole MADT ("APIC" table, header included).
pub fn parse_madt(t: &[u8]) -> Result<Madt, AcpiError> {
    if t.len() < 44 || &t[0..4] != b"APIC" {
        return Err(AcpiError::Truncated("madt"));
    }
    let len = sdt_length(t)?;
    if len > t.len() || len < 44 {
        return Err(AcpiError::Truncated("madt"));
    }
    let t = &t[..len];
    if !checksum_ok(t) {
        return Err(AcpiError::BadChecksum("madt"));
    }
    let mut m = Madt {
        lapic_address: u64::from(u32_at(t, 36)),
        cpu_ids: [0; MADT_MAX_CPUS],
        cpu_count: 0,
        ioapics: [IoApicInfo::default(); MADT_MAX_IOAPICS],
        ioapic_count: 0,
        overrides: [Override::default(); MADT_MAX_OVERRIDES],
        override_count: 0,
    };
    let add_cpu = |m: &mut Madt, id: u32, flags: u32| {
        if flags & 0b11 == 0 {
            return; // neither enabled nor online-capable
        }
        if m.cpu_ids[..m.cpu_count.min(MADT_MAX_CPUS)].contains(&id) {
            return; // listed as both LAPIC and x2APIC
        }
        if m.cpu_count < MADT_MAX_CPUS {
            m.cpu_ids[m.cpu_count] = id;
        }
        m.cpu_count += 1;
    };
    let mut off = 44;
    while off + 2 <= t.len() {
        let kind = t[off];
        let elen = t[off + 1] as usize;
        if elen < 2 || off + elen > t.len() {
            return Err(AcpiError::Truncated("madt entry"));
        }
        let e = &t[off..off + elen];
        match (kind, elen) {
            (0, 8..) => add_cpu(&mut m, u32::from(e[3]), u32_at(e, 4)),
            (1, 12..) if m.ioapic_count < MADT_MAX_IOAPICS => {
                m.ioapics[m.ioapic_count] = IoApicInfo {
                    id: e[2],
                    address: u32_at(e, 4),
                    gsi_base: u32_at(e, 8),
                };
                m.ioapic_count += 1;
            }
            (2, 10..) if m.override_count < MADT_MAX_OVERRIDES => {
                m.overrides[m.override_count] = Override {
                    source: e[3],
                    gsi: u32_at(e, 4),
                    flags: inti_flags(u16_at(e, 8)),
                };
                m.override_count += 1;
            }
            (5, 12..) => m.lapic_address = u64_at(e, 4),
            (9, 16..) => add_cpu(&mut m, u32_at(e, 4), u32_at(e, 8)),
            _ => {}
        }
        off += elen;
    }
    Ok(m)
}

/// What the ACPI `HPET` table says about the (first) HPET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hpet {
    /// Physical address of its 1 KiB register block (system memory space).
    pub address: u64,
    /// The Event Timer Block ID: a copy of the capabilities register's
    /// low 32 bits (revision, comparators, counter size, vendor).
    pub block_id: u32,
    /// Which HPET of the machine this is.
    pub number: u8,
    /// Smallest periodic tick the firmware advises, in counter ticks.
    pub min_tick: u16,
}

/// Decodes a whole `HPET` table (header included, 56 bytes).
///
/// The register block's address is the Generic Address Structure at
/// offset 40: address space at 40 (0: system memory, the only one an HPET
/// can sit in that the kernel reaches), the 64-bit address at 44..52.
pub fn parse_hpet(t: &[u8]) -> Result<Hpet, AcpiError> {
    if t.len() < 56 || &t[0..4] != b"HPET" {
        return Err(AcpiError::Truncated("hpet"));
    }
    let len = sdt_length(t)?;
    if len > t.len() || len < 56 {
        return Err(AcpiError::Truncated("hpet"));
    }
    let t = &t[..len];
    if !checksum_ok(t) {
        return Err(AcpiError::BadChecksum("hpet"));
    }
    if t[40] != 0 {
        return Err(AcpiError::Unusable("hpet: registers not in system memory"));
    }
    let address = u64_at(t, 44);
    if address == 0 || !address.is_multiple_of(1024) {
        return Err(AcpiError::Unusable("hpet: bad register block address"));
    }
    Ok(Hpet {
        address,
        block_id: u32_at(t, 36),
        number: t[52],
        min_tick: u16_at(t, 53),
    })
}

/// Reads `len` bytes of physical memory through the direct map.
///
/// # Safety
/// The range must be mapped RAM or firmware tables that stay unchanged.
#[cfg(target_os = "none")]
unsafe fn phys_slice(phys: u64, len: usize) -> &'static [u8] {
    // SAFETY: forwarded to the caller; the direct map covers all of RAM.
    unsafe { core::slice::from_raw_parts(super::paging::phys_to_virt(phys) as *const u8, len) }
}

/// Walks RSDP → XSDT/RSDT to the first table whose signature is `sig`
/// and returns all of it (header included, `length` bytes, checksum not
/// yet checked: each parser checks its own table).
///
/// # Safety
/// `rsdp_phys` must be the RSDP address the boot loader reported.
#[cfg(target_os = "none")]
pub unsafe fn find_table(rsdp_phys: u64, sig: &[u8; 4]) -> Result<&'static [u8], AcpiError> {
    if rsdp_phys == 0 {
        return Err(AcpiError::BadRsdp);
    }
    // SAFETY: firmware tables are in reserved RAM that nothing overwrites.
    let rsdp = unsafe { phys_slice(rsdp_phys, 36) };
    if &rsdp[0..8] != b"RSD PTR " || !checksum_ok(&rsdp[..20]) {
        return Err(AcpiError::BadRsdp);
    }
    let (root, entry_size) = if rsdp[15] >= 2 && u64_at(rsdp, 24) != 0 {
        (u64_at(rsdp, 24), 8)
    } else {
        (u64::from(u32_at(rsdp, 16)), 4)
    };
    // SAFETY: as above: the root table is a firmware table.
    let root_len = sdt_length(unsafe { phys_slice(root, 36) })?;
    // SAFETY: as above, now with the table's own length.
    let root_table = unsafe { phys_slice(root, root_len) };
    if !checksum_ok(root_table) {
        return Err(AcpiError::BadChecksum("rsdt/xsdt"));
    }
    let mut off = 36;
    while off + entry_size <= root_len {
        let addr = if entry_size == 8 {
            u64_at(root_table, off)
        } else {
            u64::from(u32_at(root_table, off))
        };
        // SAFETY: entries of the root table point at firmware tables.
        let header = unsafe { phys_slice(addr, 36) };
        if &header[0..4] == sig {
            let len = sdt_length(header)?;
            // SAFETY: as above, with the table's own length.
            return Ok(unsafe { phys_slice(addr, len) });
        }
        off += entry_size;
    }
    Err(AcpiError::NotFound(table_name(sig)))
}

/// A static name for the signatures looked up, for error messages.
#[cfg(target_os = "none")]
fn table_name(sig: &[u8; 4]) -> &'static str {
    match sig {
        b"APIC" => "APIC (MADT)",
        b"HPET" => "HPET",
        _ => "table",
    }
}

/// Walks RSDP → XSDT/RSDT → MADT.
///
/// # Safety
/// `rsdp_phys` must be the RSDP address the boot loader reported.
#[cfg(target_os = "none")]
pub unsafe fn find_madt(rsdp_phys: u64) -> Result<Madt, AcpiError> {
    // SAFETY: forwarded to the caller.
    parse_madt(unsafe { find_table(rsdp_phys, b"APIC") }?)
}

/// Walks RSDP → XSDT/RSDT → HPET table; `NotFound` on a machine without one.
///
/// # Safety
/// `rsdp_phys` must be the RSDP address the boot loader reported.
#[cfg(target_os = "none")]
pub unsafe fn find_hpet(rsdp_phys: u64) -> Result<Hpet, AcpiError> {
    // SAFETY: forwarded to the caller.
    parse_hpet(unsafe { find_table(rsdp_phys, b"HPET") }?)
}

#[cfg(test)]
mod tests;
