//! QEMU runner
