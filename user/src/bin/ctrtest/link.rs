//! The parent's line to each child: a command pipe (parent to child) and a
//! reply pipe (child to parent), one text line per message. Replies are
//! `ok [payload]` or `fail <why>`.

use ulib::fd::{self, Fd};
use ulib::prelude::*;

/// Writes `line` and a newline.
pub fn send(f: Fd, line: &str) -> Result<(), String> {
    let mut msg = String::from(line);
    msg.push('\n');
    fd::write_all(f, msg.as_bytes()).map_err(|e| format!("writing {line:?}: {}", e.description()))
}

/// Reads one line (without its newline); `None` at end of file.
pub fn recv(f: Fd) -> Result<Option<String>, String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match fd::read(f, &mut byte) {
            Ok(0) if line.is_empty() => return Ok(None),
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) => return Err(format!("reading a reply: {}", e.description())),
        }
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

/// The parent's ends of one child's pipes, and who the child is.
pub struct Child {
    /// Host pid (what fork returned).
    pub pid: i32,
    /// Its container.
    pub cid: i32,
    /// Its pid inside the container (from its first reply).
    pub vpid: i32,
    /// Commands go here.
    pub cmd: Fd,
    /// Replies come from here.
    pub reply: Fd,
}

impl Child {
    /// `c<cid> pid <vpid>` for messages.
    pub fn who(&self) -> String {
        format!(
            "child {} (container {}, pid {})",
            self.pid, self.cid, self.vpid
        )
    }

    /// Sends `cmd` and waits for the reply; `Ok(payload)` for `ok payload`.
    pub fn ask(&self, cmd: &str) -> Result<String, String> {
        send(self.cmd, cmd).map_err(|e| format!("{}: {e}", self.who()))?;
        self.answer(cmd)
    }

    /// Waits for the reply to `cmd`, sent before.
    pub fn answer(&self, cmd: &str) -> Result<String, String> {
        match recv(self.reply).map_err(|e| format!("{}: {e}", self.who()))? {
            None => Err(format!("{}: died before answering {cmd:?}", self.who())),
            Some(line) => match line.strip_prefix("ok") {
                Some(rest) => Ok(String::from(rest.trim_start())),
                None => Err(format!(
                    "{} failed at {cmd:?}: {}",
                    self.who(),
                    line.strip_prefix("fail ").unwrap_or(&line)
                )),
            },
        }
    }
}
