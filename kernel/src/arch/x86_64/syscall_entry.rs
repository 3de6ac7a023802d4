//! The `syscall` instruction's entry and the MSRs that route it here.
//!
//! On `syscall` the CPU leaves the user rip in rcx and rflags in r11 and
//! masks rflags with FMASK (interrupts off). The entry swaps to the kernel
//! GS, parks the user rsp in the per-CPU block, switches to the process's
//! kernel stack (also kept in the per-CPU block), and builds a
//! [`TrapFrame`](super::trap::TrapFrame) identical to an interrupt's, so
//! `fork`, `exec` and signals-to-come see one frame type. Returning uses
//! `sysretq` when the frame still holds a canonical user rip (the common
//! case), and the `iretq` path otherwise (exec'd entry points are checked,
//! but iretq is always safe).
//!
//! This machine's KVM is a software PVM that does not switch to ring 0 on
//! a non-PVM guest's `syscall`: the CPU arrives at `syscall_entry` still in
//! user mode and takes an instruction-fetch page fault there, with rcx and
//! r11 already holding the return rip and rflags. The page-fault path
//! recognises exactly that signature ([`is_misdelivered_syscall`]) and runs
//! the system call from the fault's frame, returning with `iretq`. A user
//! program jumping to `syscall_entry` on purpose gets nothing it could not
//! get from `syscall` itself.

use core::arch::global_asm;

use super::cpu::{rdmsr, wrmsr, MSR_EFER};
use super::gdt::{KERNEL_CODE, KERNEL_DATA};
use super::percpu::{PERCPU_KERNEL_STACK, PERCPU_USER_STACK};
use super::trap::{pop_general_registers, push_general_registers, TrapFrame};

const MSR_STAR: u32 = 0xC000_0081;
const MSR_LSTAR: u32 = 0xC000_0082;
const MSR_FMASK: u32 = 0xC000_0084;
const EFER_SCE: u64 = 1;

/// Pseudo-vector stored in the frame of a system call.
pub const SYSCALL_VECTOR: u64 = 0x80;

global_asm!(
    concat!(
    r#"
    .text
    .global syscall_entry
syscall_entry:
    swapgs
    movq %rsp, %gs:{user_stack}
    movq %gs:{kernel_stack}, %rsp
    pushq ${user_ss}
    pushq %gs:{user_stack}
    pushq %r11
    pushq ${user_cs}
    pushq %rcx
    pushq $0
    pushq ${vector}
    "#,
    push_general_registers!(),
    r#"
    cld
    movq %rsp, %rdi
    call {dispatch}
    /* sysret needs a canonical user rip: bits 47..63 all zero. */
    movq 17*8(%rsp), %rax
    shrq $47, %rax
    jnz trap_return
    "#,
    pop_general_registers!(),
    r#"
    /* vector, error, rip, cs, rflags, rsp, ss remain */
    cli
    movq 16(%rsp), %rcx
    movq 32(%rsp), %r11
    movq 40(%rsp), %rsp
    swapgs
    sysretq
    "#
    ),
    user_stack = const PERCPU_USER_STACK,
    kernel_stack = const PERCPU_KERNEL_STACK,
    user_ss = const super::gdt::USER_DATA as u64,
    user_cs = const super::gdt::USER_CODE as u64,
    vector = const SYSCALL_VECTOR,
    dispatch = sym crate::syscall::syscall_dispatch,
    options(att_syntax)
);

extern "C" {
    fn syscall_entry();
}

/// Flags a user program can set itself (`popf` at CPL 3): carry, parity,
/// adjust, zero, sign, trap, direction, overflow, nested task, alignment
/// check, ID. IOPL, IF, VM and RF are the kernel's.
const USER_SETTABLE_RFLAGS: u64 = 0x24_4DD5;
/// IF and the always-one bit 1.
const USER_FIXED_RFLAGS: u64 = 0x202;

/// Whether a user-mode fault is a `syscall` the hypervisor delivered without
/// raising the privilege level (see the module header). The return address
/// in rcx must be a user address, as the CPU's own `syscall` leaves it: a
/// program jumping here with anything else in rcx just faults.
pub fn is_misdelivered_syscall(frame: &TrapFrame, cr2: u64) -> bool {
    let entry = syscall_entry as *const () as u64;
    frame.vector == u64::from(super::idt::VECTOR_PAGE_FAULT)
        && frame.rip == entry
        && cr2 == entry
        && frame.rcx < super::paging::USER_END
}

/// Runs the system call a misdelivered `syscall` asked for, from the fault's
/// frame. r11 comes from the program (nothing stops it from jumping here with
/// IOPL 3 asked for in r11), so only the flags it could set anyway survive.
pub fn redeliver_syscall(frame: &mut TrapFrame) {
    frame.rip = frame.rcx;
    frame.rflags = (frame.r11 & USER_SETTABLE_RFLAGS) | USER_FIXED_RFLAGS;
    frame.vector = SYSCALL_VECTOR;
    frame.error_code = 0;
    crate::syscall::syscall_dispatch(frame);
}

/// Enables `syscall`/`sysret` on this CPU and points them at the entry.
pub fn init_this_cpu() {
    // STAR: kernel CS in 47:32; sysret takes SS = base + 8, CS = base + 16,
    // with base 0x10 giving user data 0x18 and user code 0x20 (see gdt.rs).
    let star = ((u64::from(KERNEL_DATA)) << 48) | ((u64::from(KERNEL_CODE)) << 32);
    // SAFETY: the entry point exists, GDT layout matches STAR, and the FMASK
    // clears IF/TF/DF/AC/NT so the entry runs with interrupts off, DF clear,
    // and without a user's NT flag (with NT set, the kernel's next `iretq`
    // would fault: a task return, which long mode refuses).
    unsafe {
        wrmsr(MSR_STAR, star);
        wrmsr(MSR_LSTAR, syscall_entry as *const () as u64);
        wrmsr(MSR_FMASK, 0x4_4700);
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    }
}
