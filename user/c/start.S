# start.S: entry point of berth's C programs.
#
# The kernel enters _start with rdi = argc, rsi = argv (argc pointers to
# NUL-terminated strings, then a null pointer) and a 16-byte aligned rsp.
# `call` pushes the return address, so main starts with rsp % 16 == 8 as
# the SysV ABI expects, and gets argc and argv untouched. main's return
# value becomes the exit status.

    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    mov %rsp, entry_rsp(%rip)
    xor %ebp, %ebp                  # end of the frame-pointer chain
    call main
    mov %eax, %edi
    call exit
    ud2                             # exit does not return
    .size _start, . - _start

    # The stack pointer the kernel handed over, for tests of the entry contract.
    .bss
    .balign 8
    .globl entry_rsp
entry_rsp:
    .quad 0

    .section .note.GNU-stack, "", @progbits
