//! The QEMU command line for one test run.
//!
//! It matches the Makefile's flags for the machine (`-machine pc`, qboot,
//! `-no-reboot`, `isa-debug-exit` at 0xf4) so a test boots what `make qemu`
//! boots; only the console wiring differs: the serial port is QEMU's plain
//! stdio with no monitor multiplexed in, so every byte on stdout is the
//! kernel's and every byte written to stdin reaches the guest's COM1.

use std::path::{Path, PathBuf};

use crate::accel::Accel;

/// What to boot and on what virtual machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QemuConfig {
    /// `-smp`: number of CPUs.
    pub cpus: usize,
    /// KVM or TCG.
    pub accel: Accel,
    /// `-m`: guest memory, in QEMU's syntax (`512M`).
    pub mem: String,
    /// Kernel command line (`-append`); empty means none.
    pub append: String,
    /// Extra QEMU arguments, appended last.
    pub extra_args: Vec<String>,
    /// A raw disk image attached as the first IDE disk.
    pub disk: Option<PathBuf>,
}

impl QemuConfig {
    /// `cpus` CPUs under `accel`, 512 MiB, no command line, no disk.
    pub fn new(cpus: usize, accel: Accel) -> QemuConfig {
        QemuConfig {
            cpus,
            accel,
            mem: "512M".to_string(),
            append: String::new(),
            extra_args: Vec::new(),
            disk: None,
        }
    }

    /// Sets the guest memory (`-m`, e.g. `128M`).
    pub fn mem(mut self, mem: &str) -> QemuConfig {
        self.mem = mem.to_string();
        self
    }

    /// Sets the kernel command line (e.g. `test=boot`).
    pub fn append(mut self, cmdline: &str) -> QemuConfig {
        self.append = cmdline.to_string();
        self
    }

    /// Attaches a raw disk image.
    pub fn disk(mut self, image: impl Into<PathBuf>) -> QemuConfig {
        self.disk = Some(image.into());
        self
    }

    /// Adds QEMU arguments after all the others.
    pub fn extra_args<S: Into<String>>(mut self, args: impl IntoIterator<Item = S>) -> QemuConfig {
        self.extra_args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Arguments for `qemu-system-x86_64` booting `kernel`.
    pub fn args(&self, kernel: &Path) -> Vec<String> {
        let mut args: Vec<String> = [
            "-machine",
            "pc",
            "-bios",
            "/usr/share/qemu/qboot.rom",
            "-kernel",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(kernel.display().to_string());
        args.extend(["-smp".to_string(), self.cpus.to_string()]);
        args.extend(["-m".to_string(), self.mem.clone()]);
        args.extend(
            [
                "-display",
                "none",
                "-serial",
                "stdio",
                "-monitor",
                "none",
                "-no-reboot",
                "-device",
                "isa-debug-exit,iobase=0xf4,iosize=0x04",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        args.extend(self.accel.qemu_args().iter().map(|s| s.to_string()));
        if !self.append.is_empty() {
            args.extend(["-append".to_string(), self.append.clone()]);
        }
        if let Some(disk) = &self.disk {
            args.push("-drive".to_string());
            args.push(format!("file={},format=raw,if=ide,index=0", disk.display()));
        }
        args.extend(self.extra_args.iter().cloned());
        args
    }

    /// One line for failure messages: `8 CPUs, KVM, -append "test=boot"`.
    pub fn summary(&self) -> String {
        let mut s = format!("{} CPUs, {}, {}", self.cpus, self.accel, self.mem);
        if !self.append.is_empty() {
            s += &format!(", -append {:?}", self.append);
        }
        if let Some(disk) = &self.disk {
            s += &format!(", disk {}", disk.display());
        }
        if !self.extra_args.is_empty() {
            s += &format!(", extra {}", self.extra_args.join(" "));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcg_command_line_matches_the_makefile() {
        let args = QemuConfig::new(2, Accel::Tcg)
            .append("test=boot")
            .args(Path::new("k.elf"));
        assert_eq!(
            args.join(" "),
            "-machine pc -bios /usr/share/qemu/qboot.rom -kernel k.elf -smp 2 -m 512M \
             -display none -serial stdio -monitor none -no-reboot \
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg -append test=boot"
        );
    }

    #[test]
    fn kvm_disk_and_extra_args() {
        let args = QemuConfig::new(8, Accel::Kvm)
            .disk("/tmp/fs.img")
            .extra_args(["-S"])
            .args(Path::new("k.elf"));
        let line = args.join(" ");
        assert!(line.contains("-smp 8 "));
        assert!(line.contains("-enable-kvm -cpu host,-arch-capabilities"));
        assert!(!line.contains("-append"));
        assert!(line.ends_with("-drive file=/tmp/fs.img,format=raw,if=ide,index=0 -S"));
    }

    #[test]
    fn append_with_spaces_stays_one_argument() {
        let args = QemuConfig::new(1, Accel::Tcg)
            .append("a=1 b=2")
            .args(Path::new("k"));
        assert_eq!(args.last().map(String::as_str), Some("a=1 b=2"));
    }
}
