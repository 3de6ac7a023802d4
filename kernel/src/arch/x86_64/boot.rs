//! PVH entry: from QEMU's 32-bit hand-off to Rust in the higher half.
//!
//! QEMU's `-kernel` loader finds the PVH ELF note, copies the segments to
//! their physical addresses and jumps to `pvh_start32` in 32-bit protected
//! mode with paging off and `ebx` pointing at an `hvm_start_info`. The stub
//! below zeroes `.bss`, builds boot page tables that map the first 4 GiB
//! three times (identity, direct map at `DIRECT_MAP_BASE`, and the kernel
//! image at -2 GiB), enters long mode and calls [`crate::arch::x86_64::bsp_entry`]
//! on the boot stack. The identity map stays in `boot_pml4` for the AP
//! trampoline, which needs it while it turns paging on.
//!
//! The boot info itself is parsed here ([`BootInfo::from_pvh`]), copied out
//! of firmware memory before the frame allocator can hand that memory out.

use core::arch::global_asm;

use crate::param::MAX_MEMORY_REGIONS;

global_asm!(
    r#"
    .section .note.pvh, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .balign 4
    .long pvh_start32
    .balign 4

    .section .boot.text, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    movl %ebx, %esi

    /* Zero the boot page tables and the kernel's .bss. */
    xorl %eax, %eax
    movl $__boot_bss_start, %edi
    movl $__boot_bss_end, %ecx
    subl %edi, %ecx
    rep stosb
    movl $__bss_phys_start, %edi
    movl $__bss_phys_end, %ecx
    subl %edi, %ecx
    rep stosb

    /* Four page directories of 2 MiB pages: physical 0 .. 4 GiB. */
    movl $boot_pd, %edi
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, (%edi,%ecx,8)
    movl %ecx, %eax
    shrl $11, %eax
    movl %eax, 4(%edi,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jne 1b

    movl $boot_pdpt_low, %edi
    movl $boot_pd + 0x003, %eax
    movl %eax, 0(%edi)
    addl $4096, %eax
    movl %eax, 8(%edi)
    addl $4096, %eax
    movl %eax, 16(%edi)
    addl $4096, %eax
    movl %eax, 24(%edi)

    movl $boot_pdpt_high, %edi
    movl $boot_pd + 0x003, %eax
    movl %eax, 510*8(%edi)

    movl $boot_pml4, %edi
    movl $boot_pdpt_low + 0x003, %eax
    movl %eax, 0(%edi)
    movl %eax, 256*8(%edi)
    movl $boot_pdpt_high + 0x003, %eax
    movl %eax, 511*8(%edi)

    /* PAE, CR3, EFER.LME, then paging + write protect. */
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl $boot_pml4, %eax
    movl %eax, %cr3
    movl $0xC0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax
    movl %eax, %cr0
    lgdt boot_gdtr
    ljmp $0x08, $2f

    .code64
2:  movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorw %ax, %ax
    movw %ax, %fs
    movw %ax, %gs
    movabsq $boot_stack_top, %rsp
    xorl %ebp, %ebp
    movl %esi, %edi
    movabsq $bsp_entry, %rax
    callq *%rax
3:  cli
    hlt
    jmp 3b

    .section .boot.data, "aw"
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
boot_gdtr:
    .word 23
    .long boot_gdt

    .section .boot.bss, "aw", @nobits
    .balign 4096
    .global boot_pml4
boot_pml4:
    .skip 4096
boot_pdpt_low:
    .skip 4096
boot_pdpt_high:
    .skip 4096
boot_pd:
    .skip 4 * 4096

    # Only the boot CPU's first steps run here (to `run_on_stack` in
    # start.rs): they used 3,128 bytes when measured (2026-12-03).
    .section .bss.boot_stack, "aw", @nobits
    .balign 16
boot_stack:
    .skip 16384
boot_stack_top:

    .text
    "#,
    options(att_syntax)
);

extern "C" {
    /// The boot PML4 built by the stub (physical address == link address).
    static boot_pml4: u8;
}

/// Physical address of the boot page tables (identity + higher half), used by
/// the AP trampoline before it can reach the kernel's own tables.
pub fn boot_pml4_phys() -> u64 {
    core::ptr::addr_of!(boot_pml4) as u64
}

/// `hvm_start_info.magic`.
const PVH_MAGIC: u32 = 0x336e_c578;
/// E820 type of usable RAM.
const E820_RAM: u32 = 1;
/// Longest kernel command line kept.
pub const CMDLINE_MAX: usize = 256;

/// One range of usable RAM reported by the firmware.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemoryRegion {
    pub start: u64,
    pub end: u64,
}

/// What the boot loader told us, copied out of firmware memory.
pub struct BootInfo {
    pub regions: [MemoryRegion; MAX_MEMORY_REGIONS],
    pub region_count: usize,
    pub rsdp_phys: u64,
    cmdline: [u8; CMDLINE_MAX],
    cmdline_len: usize,
}

#[repr(C)]
struct HvmStartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
struct HvmMemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

impl BootInfo {
    /// Reads the PVH `hvm_start_info` at physical address `info_phys`.
    ///
    /// # Safety
    /// `info_phys` must be the value QEMU passed in `ebx`, and the first
    /// 4 GiB of physical memory must be mapped at `phys_to_virt` (the boot
    /// page tables do this).
    pub unsafe fn from_pvh(info_phys: u64) -> Result<BootInfo, &'static str> {
        let mut boot = BootInfo {
            regions: [MemoryRegion::default(); MAX_MEMORY_REGIONS],
            region_count: 0,
            rsdp_phys: 0,
            cmdline: [0; CMDLINE_MAX],
            cmdline_len: 0,
        };
        let info_ptr = super::paging::phys_to_virt(info_phys) as *const HvmStartInfo;
        // SAFETY: the caller guarantees info_phys is QEMU's start-info page, mapped.
        let info = unsafe { core::ptr::read_unaligned(info_ptr) };
        if info.magic != PVH_MAGIC {
            return Err("not booted through PVH (bad hvm_start_info magic)");
        }
        if info.version < 1 || info.memmap_paddr == 0 {
            return Err("PVH start info carries no memory map");
        }
        boot.rsdp_phys = info.rsdp_paddr;
        let entries = super::paging::phys_to_virt(info.memmap_paddr) as *const HvmMemmapEntry;
        for i in 0..info.memmap_entries as usize {
            // SAFETY: QEMU wrote memmap_entries entries at memmap_paddr (mapped, < 4 GiB).
            let e = unsafe { core::ptr::read_unaligned(entries.add(i)) };
            if e.kind == E820_RAM && e.size > 0 && boot.region_count < MAX_MEMORY_REGIONS {
                boot.regions[boot.region_count] = MemoryRegion {
                    start: e.addr,
                    end: e.addr + e.size,
                };
                boot.region_count += 1;
            }
        }
        if info.cmdline_paddr != 0 {
            let p = super::paging::phys_to_virt(info.cmdline_paddr) as *const u8;
            while boot.cmdline_len < CMDLINE_MAX {
                // SAFETY: the command line is a NUL-terminated string QEMU placed in RAM.
                let c = unsafe { p.add(boot.cmdline_len).read() };
                if c == 0 {
                    break;
                }
                boot.cmdline[boot.cmdline_len] = c;
                boot.cmdline_len += 1;
            }
        }
        Ok(boot)
    }

    /// Usable RAM regions, in firmware order.
    pub fn regions(&self) -> &[MemoryRegion] {
        &self.regions[..self.region_count]
    }

    /// The kernel command line (`-append`), or "" when absent or not UTF-8.
    pub fn cmdline(&self) -> &str {
        core::str::from_utf8(&self.cmdline[..self.cmdline_len]).unwrap_or("")
    }
}
