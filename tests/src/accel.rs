//! The QEMU accelerator (KVM or TCG) and whether KVM can be used here.
//!
//! A KVM test on a machine without a usable `/dev/kvm` is skipped, not
//! failed: the same tests then still run under TCG.

use std::fmt;
use std::fs::OpenOptions;

use crate::report::note;

/// How QEMU runs guest code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    /// Hardware (here: software PVM) virtualization through `/dev/kvm`.
    Kvm,
    /// QEMU's binary translator; always available.
    Tcg,
}

impl Accel {
    /// KVM when it is usable, else TCG: what `make qemu` picks by default.
    pub fn preferred() -> Accel {
        if kvm_usable().is_ok() {
            Accel::Kvm
        } else {
            Accel::Tcg
        }
    }

    /// The QEMU arguments selecting this accelerator (as in the Makefile).
    /// `-arch-capabilities`: the PVM host advertises an MSR it cannot serve.
    pub fn qemu_args(self) -> &'static [&'static str] {
        match self {
            Accel::Kvm => &["-enable-kvm", "-cpu", "host,-arch-capabilities"],
            Accel::Tcg => &["-accel", "tcg"],
        }
    }
}

impl fmt::Display for Accel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Accel::Kvm => "KVM",
            Accel::Tcg => "TCG",
        })
    }
}

/// `Ok` when `/dev/kvm` opens read-write (what QEMU needs), else why not.
pub fn kvm_usable() -> Result<(), String> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map(drop)
        .map_err(|e| format!("/dev/kvm: {e}"))
}

/// True when a test for `accel` must be skipped; prints the one-line reason.
///
/// Use as `if skip_if_unusable(accel) { return Ok(()); }`.
pub fn skip_if_unusable(accel: Accel) -> bool {
    match (accel, kvm_usable()) {
        (Accel::Kvm, Err(why)) => {
            note(&format!("skipping: KVM not usable ({why})"));
            true
        }
        _ => false,
    }
}
