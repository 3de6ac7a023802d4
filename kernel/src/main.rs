//! The kernel image: all code lives in the `berth_kernel` library; the PVH
//! entry point (`pvh_start32`, in `arch/x86_64/boot.rs`) is its ELF entry.
#![no_std]
#![no_main]

// Linking the library brings in the entry stub, the panic handler and the allocator.
use berth_kernel as _;
