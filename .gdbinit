# Loaded by gdb started in the repo root (add `set auto-load safe-path /` to ~/.gdbinit if gdb refuses).
# Use `hbreak` for breakpoints: software breakpoints set before paging is on do not survive.
set architecture i386:x86-64
file build/kernel.elf
target remote localhost:1234
