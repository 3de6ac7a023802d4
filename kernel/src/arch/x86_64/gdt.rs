//! Per-CPU GDT and TSS.
//!
//! Layout (selectors): 0x08 kernel code, 0x10 kernel data, 0x18 user data,
//! 0x20 user code, 0x28 TSS. The user pair is in the order `sysret` wants
//! (STAR[63:48] + 8 = SS, + 16 = CS). The TSS carries `rsp0` for traps from
//! user mode and two IST stacks: one for NMI and machine checks, one for
//! double faults, so a blown kernel stack still gets reported.

use core::arch::asm;
use core::cell::UnsafeCell;

pub const KERNEL_CODE: u16 = 0x08;
pub const KERNEL_DATA: u16 = 0x10;
pub const USER_DATA: u16 = 0x18 | 3;
pub const USER_CODE: u16 = 0x20 | 3;
pub const TSS_SELECTOR: u16 = 0x28;

/// IST slot (1-based) for NMI and machine check.
pub const IST_NMI: u8 = 1;
/// IST slot (1-based) for double fault.
pub const IST_DOUBLE_FAULT: u8 = 2;

#[repr(C, packed)]
struct Tss {
    reserved0: u32,
    rsp: [u64; 3],
    reserved1: u64,
    ist: [u64; 7],
    reserved2: u64,
    reserved3: u16,
    iomap_base: u16,
}

/// One CPU's descriptor tables.
#[repr(C, align(16))]
pub struct CpuTables {
    gdt: UnsafeCell<[u64; 7]>,
    tss: UnsafeCell<Tss>,
}

impl CpuTables {
    pub const fn new() -> Self {
        CpuTables {
            gdt: UnsafeCell::new([
                0,
                0x00AF_9A00_0000_FFFF, // kernel code, 64-bit
                0x00CF_9200_0000_FFFF, // kernel data
                0x00CF_F200_0000_FFFF, // user data, DPL 3
                0x00AF_FA00_0000_FFFF, // user code, 64-bit, DPL 3
                0,
                0,
            ]),
            tss: UnsafeCell::new(Tss {
                reserved0: 0,
                rsp: [0; 3],
                reserved1: 0,
                ist: [0; 7],
                reserved2: 0,
                reserved3: 0,
                iomap_base: core::mem::size_of::<Tss>() as u16,
            }),
        }
    }

    /// Fills in the IST stacks and loads GDT, segments and TSS on this CPU.
    ///
    /// # Safety
    /// Call once per CPU, on the CPU owning these tables, with interrupts off;
    /// the stack tops must be valid, unused kernel stacks.
    pub unsafe fn load(&self, nmi_stack_top: u64, double_fault_stack_top: u64) {
        // SAFETY: only this CPU touches its tables, and only here (and in set_rsp0).
        let (gdt, tss) = unsafe { (&mut *self.gdt.get(), &mut *self.tss.get()) };
        tss.ist[IST_NMI as usize - 1] = nmi_stack_top;
        tss.ist[IST_DOUBLE_FAULT as usize - 1] = double_fault_stack_top;
        let base = tss as *const Tss as u64;
        let limit = (core::mem::size_of::<Tss>() - 1) as u64;
        gdt[5] = limit | ((base & 0xFF_FFFF) << 16) | (0x89 << 40) | (((base >> 24) & 0xFF) << 56);
        gdt[6] = base >> 32;
        let ptr = x86::dtables::DescriptorTablePointer {
            limit: (core::mem::size_of::<[u64; 7]>() - 1) as u16,
            base: gdt.as_ptr(),
        };
        // SAFETY: the GDT is static per-CPU memory with valid descriptors; the
        // far return reloads CS with the kernel code selector it describes.
        unsafe {
            x86::dtables::lgdt(&ptr);
            asm!(
                "push {code}",
                "lea {tmp}, [rip + 2f]",
                "push {tmp}",
                "retfq",
                "2:",
                "mov ss, {data:x}",
                "mov ds, {data:x}",
                "mov es, {data:x}",
                "ltr {tss:x}",
                code = in(reg) KERNEL_CODE as u64,
                data = in(reg) KERNEL_DATA as u64,
                tss = in(reg) TSS_SELECTOR as u64,
                tmp = out(reg) _,
            );
        }
    }

    /// Sets the stack the CPU switches to on a trap from user mode.
    ///
    /// # Safety
    /// On the owning CPU only; `top` must be the current process's kernel stack top.
    pub unsafe fn set_rsp0(&self, top: u64) {
        // SAFETY: see above; the TSS is only touched by its CPU.
        unsafe { (*self.tss.get()).rsp[0] = top };
    }
}

impl Default for CpuTables {
    fn default() -> Self {
        Self::new()
    }
}
