//! Trap entry: 256 stubs, the common save/restore path and the dispatcher.
//!
//! Each stub pushes a zero error code (unless the CPU pushed one), then its
//! vector, and jumps to `trap_common`, which swaps GS when the trap came
//! from user mode, saves the general registers into a [`TrapFrame`] on the
//! kernel stack and calls [`trap_dispatch`]. Kernel-mode exceptions are
//! fatal and reported with vector, error code, rip, rsp, cr2 and CPU.
//! `trap_return` turns interrupts off before it swaps GS back, whatever
//! state its caller left them in.

use core::arch::global_asm;

use super::idt::*;
use super::{apic, cpu, percpu};
use berth_abi::trace::event;

use crate::mm::uvm::Fault;

/// Pushes the general registers in [`TrapFrame`] order (rax first, so r15
/// ends up lowest); every kernel entry saves them this way.
macro_rules! push_general_registers {
    () => {
        "
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
"
    };
}

/// Pops what [`push_general_registers`] pushed.
macro_rules! pop_general_registers {
    () => {
        "
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
"
    };
}

pub(super) use {pop_general_registers, push_general_registers};

global_asm!(
    concat!(
        r#"
    .text
    .balign 16
    .global trap_vectors
trap_vectors:
    .set vec, 0
    .rept 256
    .balign 16
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp trap_common
    .set vec, vec + 1
    .endr

    .balign 16
    .global trap_common
trap_common:
    testb $3, 24(%rsp)
    jz 1f
    swapgs
1:
    "#,
        push_general_registers!(),
        r#"
    cld
    movq %rsp, %rdi
    call trap_dispatch
    .global trap_return
trap_return:
    /* Interrupts stay off from here to iretq (which restores the frame's
       rflags): one arriving after the swapgs below would enter the kernel
       with the user's GS. Some paths get here with them on (a process's
       first entry, a grown stack). */
    cli
    "#,
        pop_general_registers!(),
        r#"
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:  addq $16, %rsp
    iretq
    "#
    ),
    options(att_syntax)
);

extern "C" {
    static trap_vectors: u8;
}

/// Address of the entry stub of `vector` (stubs are 16 bytes apart).
pub fn stub_address(vector: usize) -> u64 {
    core::ptr::addr_of!(trap_vectors) as u64 + 16 * vector as u64
}

/// Registers saved on every trap, in the order `trap_common` pushes them.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

impl TrapFrame {
    /// Whether the trap interrupted user mode.
    pub fn from_user(&self) -> bool {
        self.cs & 3 == 3
    }
}

/// Names of the architectural exceptions, for reports.
pub fn exception_name(vector: u64) -> &'static str {
    const NAMES: [&str; 32] = [
        "divide error",
        "debug",
        "non-maskable interrupt",
        "breakpoint",
        "overflow",
        "bound range exceeded",
        "invalid opcode",
        "device not available",
        "double fault",
        "coprocessor segment overrun",
        "invalid TSS",
        "segment not present",
        "stack-segment fault",
        "general protection fault",
        "page fault",
        "reserved",
        "x87 floating-point error",
        "alignment check",
        "machine check",
        "SIMD floating-point error",
        "virtualization exception",
        "control protection exception",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "reserved",
        "hypervisor injection",
        "VMM communication",
        "security exception",
        "reserved",
    ];
    NAMES.get(vector as usize).copied().unwrap_or("interrupt")
}

/// The interrupt-enable flag in a frame's rflags.
const RFLAGS_IF: u64 = 1 << 9;

#[no_mangle]
extern "C" fn trap_dispatch(frame: &mut TrapFrame) {
    let vector = frame.vector as u8;
    if vector >= 32 && crate::trace::on(event::IRQ) {
        crate::trace::emit_irqs_off(
            event::IRQ,
            crate::proc::sched::current_pid().unwrap_or(-1),
            -1,
            u32::from(vector),
            0,
        );
    }
    match vector {
        VECTOR_NMI => crate::panic::on_nmi(),
        VECTOR_TIMER => {
            apic::end_of_interrupt();
            apic::arm_next_tick();
            crate::time::on_timer_tick(percpu::cpu_index());
            crate::proc::sched::on_tick();
        }
        VECTOR_RESCHEDULE => {
            apic::end_of_interrupt();
            crate::proc::sched::on_reschedule_ipi();
        }
        VECTOR_TLB_SHOOTDOWN => {
            apic::end_of_interrupt();
            super::tlb::on_shootdown(crate::proc::sched::drop_lazy_table);
        }
        VECTOR_COM1 => {
            crate::console::on_uart_interrupt();
            apic::end_of_interrupt();
        }
        VECTOR_IDE => {
            crate::drivers::ide::on_interrupt();
            apic::end_of_interrupt();
        }
        VECTOR_APIC_ERROR => {
            apic::end_of_interrupt();
            crate::println!("apic: error interrupt on cpu {}", percpu::cpu_index());
        }
        VECTOR_SPURIOUS => {}
        0..=31 if frame.from_user() => user_exception(frame),
        0..=31 => fatal_exception(frame),
        _ => {
            apic::end_of_interrupt();
            crate::println!(
                "trap: unexpected vector {} on cpu {}",
                vector,
                percpu::cpu_index()
            );
        }
    }
    if frame.from_user() {
        if let Some(p) = crate::proc::current() {
            if crate::container::members::must_freeze(&p) {
                // The return path turns them off again before iretq.
                cpu::enable_interrupts();
                crate::container::members::freeze_point(&p);
            }
            if p.killed() {
                crate::proc::lifecycle::exit_killed(p);
            }
        }
    }
    // A trap from user mode, or an interrupt of kernel code that had
    // interrupts on (so it holds no spinlock): the process may switch here.
    // (An NMI can land with them off, inside a lock.)
    if frame.from_user() || frame.rflags & RFLAGS_IF != 0 {
        crate::proc::sched::preempt_if_asked();
    }
}

/// A fault in user mode: grow the stack if that is what it is, else kill
/// only the faulting process, with one line saying who, what and where.
fn user_exception(frame: &mut TrapFrame) {
    let p = crate::proc::current().expect("user-mode trap without a process");
    let cr2 = cpu::read_cr2();
    if super::syscall_entry::is_misdelivered_syscall(frame, cr2) {
        drop(p);
        super::syscall_entry::redeliver_syscall(frame);
        return;
    }
    if frame.vector == u64::from(VECTOR_PAGE_FAULT) {
        if crate::trace::on(event::PAGE_FAULT) {
            crate::trace::emit_irqs_off(
                event::PAGE_FAULT,
                p.pid,
                p.container.load(core::sync::atomic::Ordering::Relaxed),
                frame.error_code as u32,
                cr2,
            );
        }
        cpu::enable_interrupts();
        // Bit 1 of a page fault's error code: a write.
        let write = frame.error_code & 2 != 0;
        let outcome = p
            .lock_mm()
            .as_mut()
            .map_or(Fault::Refused, |mm| mm.resolve_fault(cr2, write));
        match outcome {
            Fault::Resolved => return,
            Fault::Refused => {}
            Fault::OutOfMemory(what) => {
                crate::println!(
                    "pid {} ({}) container {}: out of memory: {} at {:#x} (rip {:#x}): killed",
                    p.pid,
                    p.name(),
                    p.container.load(core::sync::atomic::Ordering::Relaxed),
                    what,
                    cr2,
                    frame.rip
                );
                crate::proc::lifecycle::exit_killed(p);
            }
        }
    }
    let addr = if frame.vector == u64::from(VECTOR_PAGE_FAULT) {
        cr2
    } else {
        frame.rip
    };
    crate::println!(
        "pid {} ({}) container {}: {} at {:#x} (rip {:#x}, error {:#x}): killed",
        p.pid,
        p.name(),
        p.container.load(core::sync::atomic::Ordering::Relaxed),
        exception_name(frame.vector),
        addr,
        frame.rip,
        frame.error_code
    );
    cpu::enable_interrupts();
    crate::proc::lifecycle::exit_killed(p);
}

fn fatal_exception(frame: &TrapFrame) -> ! {
    // A double fault keeps the address of the page fault that caused it
    // (a push into a stack's guard page: the CPU could not push the page
    // fault's frame either).
    let cr2 =
        if frame.vector == VECTOR_PAGE_FAULT as u64 || frame.vector == VECTOR_DOUBLE_FAULT as u64 {
            cpu::read_cr2()
        } else {
            0
        };
    // Formatted in place: this CPU may hold the heap's lock.
    struct Overflow(Option<u64>);
    impl core::fmt::Display for Overflow {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match self.0 {
                Some(slot) => write!(
                    f,
                    ": kernel stack overflow (guard page of stack slot {slot})"
                ),
                None => Ok(()),
            }
        }
    }
    let overflow = Overflow(crate::mm::kstack::guard_slot(cr2));
    panic!(
        "{} (vector {}) in {} mode: error {:#x} rip {:#x} rsp {:#x} cr2 {:#x}{}",
        exception_name(frame.vector),
        frame.vector,
        if frame.from_user() { "user" } else { "kernel" },
        frame.error_code,
        frame.rip,
        frame.rsp,
        cr2,
        overflow
    );
}
