//! Driving berth's shell over the serial console: boot with a private copy
//! of the file-system image, wait for the `$ ` prompt, run a command line
//! and collect what it printed before the next prompt.

use std::time::Duration;

use crate::accel::Accel;
use crate::config::QemuConfig;
use crate::image::{fs_image, ImageCopy};
use crate::lines::{parse_free_memory, FreeMemory};
use crate::qemu::Qemu;
use crate::report::TestFailure;
use berth_abi::markers::FREE_MEMORY_PREFIX;

/// The shell's prompt as it appears at the start of a line.
pub const PROMPT: &str = "$ ";

/// A booted berth with a disk, at the shell prompt.
pub struct Shell {
    pub qemu: Qemu,
    /// The disk the machine runs on (removed when the shell is dropped,
    /// after QEMU: fields drop in order).
    pub image: ImageCopy,
}

impl Shell {
    /// Boots `cpus` CPUs under `accel` with a fresh copy of the image and
    /// waits for the first prompt.
    pub fn boot(cpus: usize, accel: Accel, timeout: Duration) -> Result<Shell, TestFailure> {
        Shell::boot_with(QemuConfig::new(cpus, accel), timeout)
    }

    /// Like [`Shell::boot`], with a given configuration (its disk is replaced
    /// by a fresh copy of the image).
    pub fn boot_with(config: QemuConfig, timeout: Duration) -> Result<Shell, TestFailure> {
        let image = ImageCopy::of(&fs_image()?)?;
        let mut qemu = Qemu::spawn(config.disk(image.path()))?;
        qemu.wait_for(PROMPT, timeout)?;
        Ok(Shell { qemu, image })
    }

    /// Types `line`, waits for the next prompt, and returns the output
    /// between the echoed command line and that prompt (`\r` removed).
    pub fn run(&mut self, line: &str, timeout: Duration) -> Result<String, TestFailure> {
        let start = self.qemu.cursor();
        self.qemu.send_line(line)?;
        self.qemu.wait_for(&format!("\n{PROMPT}"), timeout)?;
        let end = self.qemu.cursor();
        let all = self.qemu.output();
        let chunk = &all[start..end - PROMPT.len()];
        // Drop the echo of the command itself.
        let body = match chunk.find('\n') {
            Some(i) => &chunk[i + 1..],
            None => "",
        };
        Ok(body.to_string())
    }

    /// Types ^P at the prompt and returns the listing's memory line.
    pub fn free_memory(&mut self, timeout: Duration) -> Result<FreeMemory, TestFailure> {
        self.qemu.send("\x10")?;
        let line = self
            .qemu
            .wait_for_line_starting_with(FREE_MEMORY_PREFIX, timeout)?;
        parse_free_memory(&line).ok_or_else(|| {
            self.qemu
                .failure(format!("unreadable memory line {line:?}"))
        })
    }

    /// Kills QEMU now (power cut) and returns the disk's bytes.
    pub fn power_off(self) -> Result<Vec<u8>, TestFailure> {
        let Shell { qemu, image } = self;
        drop(qemu);
        image.bytes()
    }

    /// [`Shell::power_off`], then the host's fsck on the disk: an error
    /// naming `after` unless it is clean.
    pub fn power_off_clean(self, after: &str) -> Result<Vec<u8>, TestFailure> {
        let bytes = self.power_off()?;
        let report = berth_fsck::check_image(&bytes);
        if !report.is_clean() {
            return Err(TestFailure::new(format!(
                "fsck after {after}: {:?}",
                report.errors
            )));
        }
        Ok(bytes)
    }
}
