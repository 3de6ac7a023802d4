//! User FPU/SSE state: enabled on every CPU, saved and restored per process.
//!
//! The kernel itself is built soft-float (x86_64-unknown-none), so it never
//! touches x87/SSE registers: whatever they hold while a process is switched
//! out is that process's state. The scheduler therefore saves it with
//! `fxsave` when a process leaves a CPU and restores it with `fxrstor` when
//! one arrives; interrupts and system calls need no FPU work at all.

use core::arch::asm;

/// The 512-byte `fxsave` image of one process.
#[derive(Clone)]
#[repr(C, align(16))]
pub struct FpuState([u8; 512]);

impl FpuState {
    /// The state after `fninit` with SSE exceptions masked: FCW 0x37f, MXCSR 0x1f80.
    pub const fn initial() -> FpuState {
        let mut b = [0u8; 512];
        b[0] = 0x7f;
        b[1] = 0x03;
        b[24] = 0x80;
        b[25] = 0x1f;
        FpuState(b)
    }

    /// Saves this CPU's FPU registers here.
    pub fn save(&mut self) {
        // SAFETY: fxsave writes 512 bytes to a 16-byte aligned buffer we own.
        unsafe {
            asm!("fxsave64 [{}]", in(reg) self.0.as_mut_ptr(), options(nostack, preserves_flags))
        };
    }

    /// Loads this state into the CPU's FPU registers.
    pub fn restore(&self) {
        // SAFETY: the image is either `initial()` or one fxsave produced, so
        // every reserved field is valid for fxrstor; the buffer is aligned.
        unsafe {
            asm!("fxrstor64 [{}]", in(reg) self.0.as_ptr(), options(nostack, preserves_flags, readonly))
        };
    }
}

/// Turns on x87/SSE for this CPU: CR0.MP set, EM and TS clear; CR4.OSFXSR and OSXMMEXCPT.
pub fn init_this_cpu() {
    // SAFETY: the bits only enable FPU/SSE instructions and fxsave/fxrstor,
    // which the CPU supports (x86_64 requires SSE2).
    unsafe {
        let mut cr0: u64;
        asm!("mov {}, cr0", out(reg) cr0, options(nomem, nostack, preserves_flags));
        cr0 = (cr0 | (1 << 1)) & !((1 << 2) | (1 << 3));
        asm!("mov cr0, {}", in(reg) cr0, options(nostack, preserves_flags));
        let mut cr4: u64;
        asm!("mov {}, cr4", out(reg) cr4, options(nomem, nostack, preserves_flags));
        cr4 |= (1 << 9) | (1 << 10);
        asm!("mov cr4, {}", in(reg) cr4, options(nostack, preserves_flags));
        asm!("fninit", options(nomem, nostack));
    }
}
