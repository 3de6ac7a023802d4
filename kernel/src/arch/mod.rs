//! Architecture support. berth runs on x86_64 only; the folder keeps the
//! hardware in one place so the rest of the kernel never touches it directly.

pub mod x86_64;
