//! Kernel context switch: save callee-saved registers on the old stack,
//! load the new stack, restore.
//!
//! A process's saved context is just its kernel stack pointer; the six
//! callee-saved registers and the return address sit on that stack. A new
//! process's stack is prepared by [`prepare_first_entry`] so that its first
//! switch-in "returns" into `first_entry`, which finishes the scheduler
//! hand-off in Rust and leaves to user mode through the trap-return path
//! with the trap frame at the top of the stack.

use core::arch::global_asm;

use super::trap::TrapFrame;

global_asm!(
    r#"
    .text
    .global context_switch
context_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret

    .global first_entry
first_entry:
    /* rsp points at the trap frame (16-byte aligned); call keeps it aligned. */
    call {first_run}
    jmp trap_return
    "#,
    first_run = sym crate::proc::sched::process_first_run,
    options(att_syntax)
);

extern "C" {
    /// Saves the current context to `*save_rsp` and resumes the one at `load_rsp`.
    fn context_switch(save_rsp: *mut u64, load_rsp: u64);
    fn first_entry();
}

/// Switches from the current kernel context to the one saved at `load_rsp`.
///
/// # Safety
/// `load_rsp` must be a stack pointer saved by `context_switch` (or built by
/// [`prepare_first_entry`]) whose stack is still alive and not running on any
/// CPU; `save_rsp` must stay valid until this context is resumed.
pub unsafe fn switch(save_rsp: *mut u64, load_rsp: u64) {
    // SAFETY: forwarded to the caller.
    unsafe { context_switch(save_rsp, load_rsp) }
}

/// Lays out a fresh kernel stack (top at `stack_top`) holding `frame`, so
/// that switching to the returned stack pointer enters user mode with it.
///
/// # Safety
/// `stack_top` must be the 16-byte aligned top of an unused kernel stack of
/// at least a few hundred bytes.
pub unsafe fn prepare_first_entry(stack_top: u64, frame: &TrapFrame) -> u64 {
    let frame_size = core::mem::size_of::<TrapFrame>() as u64;
    // Keep the trap frame 16-byte aligned (176 bytes, so top - 176 is aligned).
    let frame_at = stack_top - frame_size;
    // SAFETY: inside the caller's unused stack.
    unsafe { (frame_at as *mut TrapFrame).write(*frame) };
    let mut sp = frame_at;
    let mut push = |v: u64| {
        sp -= 8;
        // SAFETY: inside the caller's unused stack, below the frame.
        unsafe { (sp as *mut u64).write(v) };
    };
    push(first_entry as *const () as u64); // return address of context_switch
    for _ in 0..6 {
        push(0); // rbp, rbx, r12..r15
    }
    sp
}
