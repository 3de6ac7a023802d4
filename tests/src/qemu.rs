//! A running QEMU: its console, its serial input, its exit, its end.
//!
//! Two reader threads copy QEMU's stdout (the guest's COM1) and stderr into
//! a shared [`ConsoleBuffer`] and wake waiters through a condition variable,
//! so a wait returns as soon as the text arrives and never sleeps a fixed
//! time. Every wait has a deadline; every failure carries the console tail.
//! Dropping a [`Qemu`] kills the process if it is still running, so a failed
//! or panicking test never leaves a QEMU behind.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use berth_abi::exit::ExitCode;
use berth_abi::markers::PANIC_PREFIX;

use crate::config::QemuConfig;
use crate::console::ConsoleBuffer;
use crate::exit::ExitOutcome;
use crate::kernel::kernel_elf;
use crate::report::{TestFailure, TAIL_LINES};

/// The emulator binary.
pub const QEMU_BINARY: &str = "qemu-system-x86_64";

/// After QEMU has exited its pipes close at once; this only bounds the wait
/// for the reader threads to see that.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// How often `wait_exit` re-checks the process when no output wakes it.
const EXIT_POLL: Duration = Duration::from_millis(10);

/// QEMU stderr lines carried by a failure (its errors are short).
const STDERR_TAIL_LINES: usize = 10;

/// What the reader threads share with the test thread.
struct Shared {
    streams: Mutex<Streams>,
    /// Notified on every chunk of output and when a stream closes.
    changed: Condvar,
}

#[derive(Default)]
struct Streams {
    console: ConsoleBuffer,
    stderr: ConsoleBuffer,
    console_closed: bool,
    stderr_closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Streams> {
        // A reader thread never panics while holding the lock; if a test's
        // predicate did, the buffers are still intact.
        self.streams.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Clone, Copy)]
enum Stream {
    Console,
    Stderr,
}

/// Copies one of QEMU's output pipes into the shared buffers until EOF.
fn pump(mut pipe: impl Read, shared: Arc<Shared>, stream: Stream) {
    let mut buf = [0u8; 4096];
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) => 0,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => 0,
        };
        let mut streams = shared.lock();
        match (stream, n) {
            (Stream::Console, 0) => streams.console_closed = true,
            (Stream::Stderr, 0) => streams.stderr_closed = true,
            (Stream::Console, n) => streams.console.push(&buf[..n]),
            (Stream::Stderr, n) => streams.stderr.push(&buf[..n]),
        }
        drop(streams);
        shared.changed.notify_all();
        if n == 0 {
            return;
        }
    }
}

/// A QEMU process booting berth, with its console.
pub struct Qemu {
    config: QemuConfig,
    child: Child,
    stdin: Option<ChildStdin>,
    shared: Arc<Shared>,
    /// Console offset up to which the test has read.
    cursor: usize,
    /// Console offset up to which complete lines were checked for a panic.
    panic_checked: usize,
    started: Instant,
    /// Set once the process has been reaped.
    outcome: Option<ExitOutcome>,
}

impl Qemu {
    /// Boots the kernel (built once per test binary) under `config`.
    pub fn spawn(config: QemuConfig) -> Result<Qemu, TestFailure> {
        let kernel = kernel_elf()?;
        let started = Instant::now();
        let mut child = Command::new(QEMU_BINARY)
            .args(config.args(&kernel))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                TestFailure::new(format!(
                    "cannot start {QEMU_BINARY}: {e} (Debian: apt-get install qemu-system-x86)"
                ))
            })?;
        let shared = Arc::new(Shared {
            streams: Mutex::new(Streams::default()),
            changed: Condvar::new(),
        });
        // `take` cannot fail: all three were requested as pipes above.
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let stdin = child.stdin.take();
        for (pipe, stream) in [
            (Box::new(stdout) as Box<dyn Read + Send>, Stream::Console),
            (Box::new(stderr), Stream::Stderr),
        ] {
            let shared = Arc::clone(&shared);
            // The threads end by themselves at EOF, which comes when QEMU
            // exits or is killed, so they are never joined.
            thread::Builder::new()
                .name("qemu-output".to_string())
                .spawn(move || pump(pipe, shared, stream))
                .map_err(|e| TestFailure::new(format!("cannot start a reader thread: {e}")))?;
        }
        Ok(Qemu {
            config,
            child,
            stdin,
            shared,
            cursor: 0,
            panic_checked: 0,
            started,
            outcome: None,
        })
    }

    /// The configuration this QEMU runs.
    pub fn config(&self) -> &QemuConfig {
        &self.config
    }

    /// QEMU's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wall time since QEMU was spawned.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Everything the console printed so far (`\r` removed).
    pub fn output(&self) -> String {
        self.shared.lock().console.text()
    }

    /// Console offset up to which waits have consumed output.
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Waits until `text` appears after the cursor; moves the cursor past it.
    pub fn wait_for(&mut self, text: &str, timeout: Duration) -> Result<(), TestFailure> {
        self.wait_until(&format!("{text:?}"), timeout, |console, cursor, _| {
            console.find(cursor, text).map(|end| ((), end))
        })
    }

    /// Waits for a complete line after the cursor that satisfies `pred`;
    /// returns it and moves the cursor past it. `description` says what is
    /// awaited, for the failure message.
    pub fn wait_for_line_matching(
        &mut self,
        description: &str,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Result<String, TestFailure> {
        self.wait_until(description, timeout, |console, cursor, ended| {
            console.next_line_matching(cursor, ended, &pred)
        })
    }

    /// Waits for a line starting with `prefix`; returns the whole line.
    pub fn wait_for_line_starting_with(
        &mut self,
        prefix: &str,
        timeout: Duration,
    ) -> Result<String, TestFailure> {
        let description = format!("a line starting {prefix:?}");
        self.wait_for_line_matching(&description, |l| l.starts_with(prefix), timeout)
    }

    /// Waits for a line equal to `line`.
    pub fn wait_for_line(&mut self, line: &str, timeout: Duration) -> Result<(), TestFailure> {
        let description = format!("the line {line:?}");
        self.wait_for_line_matching(&description, |l| l == line, timeout)
            .map(drop)
    }

    /// Writes raw bytes to the guest's serial port.
    pub fn send(&mut self, text: &str) -> Result<(), TestFailure> {
        let result = match self.stdin.as_mut() {
            Some(stdin) => stdin
                .write_all(text.as_bytes())
                .and_then(|()| stdin.flush()),
            None => Err(std::io::Error::other("stdin already closed")),
        };
        result.map_err(|e| self.failure(format!("cannot send {text:?} to the serial port: {e}")))
    }

    /// Types a line: `line` then the Enter key (`\r`, as a terminal sends it).
    pub fn send_line(&mut self, line: &str) -> Result<(), TestFailure> {
        self.send(&format!("{line}\r"))
    }

    /// Waits for QEMU to exit and decodes how; kills it after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitOutcome, TestFailure> {
        if let Some(outcome) = self.outcome {
            return Ok(outcome);
        }
        let deadline = Instant::now() + timeout;
        let shared = Arc::clone(&self.shared);
        let mut streams = shared.lock();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    drop(streams);
                    return Ok(self.reaped(ExitOutcome::from_status(status)));
                }
                Ok(None) => {}
                Err(e) => {
                    drop(streams);
                    return Err(self.failure(format!("cannot wait for QEMU: {e}")));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                drop(streams);
                let killed = self.kill();
                return Err(self.failure(format!(
                    "QEMU did not exit within {timeout:?} (killed it: {killed})"
                )));
            }
            // Output or a closed pipe wakes us early; the poll interval
            // bounds the delay between the exit and noticing it.
            let wait = (deadline - now).min(EXIT_POLL);
            streams = shared
                .changed
                .wait_timeout(streams, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Waits for QEMU to exit with the kernel's `expected` code.
    pub fn expect_exit(
        &mut self,
        expected: ExitCode,
        timeout: Duration,
    ) -> Result<(), TestFailure> {
        let outcome = self.wait_exit(timeout)?;
        self.ensure(outcome == ExitOutcome::Kernel(expected), || {
            format!("expected kernel exit {expected:?}, got {outcome}")
        })
    }

    /// A failure with this run's console tail, for a test's own checks.
    pub fn failure(&self, message: impl Into<String>) -> TestFailure {
        let streams = self.shared.lock();
        let mut run = format!(
            "{}; {:.2} s after start",
            self.config.summary(),
            self.elapsed().as_secs_f64()
        );
        if let Some(outcome) = self.outcome {
            run += &format!("; exited: {outcome}");
        }
        TestFailure {
            message: message.into(),
            run: Some(run),
            console_tail: streams.console.tail(TAIL_LINES),
            stderr_tail: streams.stderr.tail(STDERR_TAIL_LINES),
        }
    }

    /// `Ok` if `condition` holds, else a failure with `message()`.
    pub fn ensure(
        &self,
        condition: bool,
        message: impl FnOnce() -> String,
    ) -> Result<(), TestFailure> {
        if condition {
            Ok(())
        } else {
            Err(self.failure(message()))
        }
    }

    /// Waits until `found` sees what it wants at the cursor, the kernel
    /// prints a panic line (a panicked kernel halts without exiting, so
    /// waiting on would only run into the timeout), QEMU's output ends, or
    /// `timeout` passes. `found` gets the console, the cursor and
    /// whether output has ended, and returns a value and the new cursor.
    fn wait_until<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut found: impl FnMut(&ConsoleBuffer, usize, bool) -> Option<(T, usize)>,
    ) -> Result<T, TestFailure> {
        let deadline = Instant::now() + timeout;
        let shared = Arc::clone(&self.shared);
        let mut streams = shared.lock();
        loop {
            let ended = streams.console_closed;
            if let Some((value, next)) = found(&streams.console, self.cursor, ended) {
                self.cursor = next;
                return Ok(value);
            }
            let panic = streams
                .console
                .next_line_matching(self.panic_checked, false, |l| l.starts_with(PANIC_PREFIX));
            self.panic_checked = streams.console.complete_len();
            if let Some((line, _)) = panic {
                drop(streams);
                return Err(self.failure(format!(
                    "the kernel panicked while the test waited for {what}: {line}"
                )));
            }
            if ended {
                drop(streams);
                let how = self.reap_after_close();
                return Err(self.failure(format!(
                    "QEMU ended ({how}) before the console showed {what}"
                )));
            }
            let now = Instant::now();
            if now >= deadline {
                drop(streams);
                return Err(self.failure(format!("timed out after {timeout:?} waiting for {what}")));
            }
            streams = shared
                .changed
                .wait_timeout(streams, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The console closed: QEMU has exited or is about to; reap it.
    fn reap_after_close(&mut self) -> String {
        match self.wait_exit(DRAIN_TIMEOUT) {
            Ok(outcome) => outcome.to_string(),
            Err(_) => "closed its console but kept running; killed".to_string(),
        }
    }

    /// Records the outcome once the process is gone, after letting the
    /// reader threads collect the last output.
    fn reaped(&mut self, outcome: ExitOutcome) -> ExitOutcome {
        self.outcome = Some(outcome);
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        let mut streams = self.shared.lock();
        while !(streams.console_closed && streams.stderr_closed) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            streams = self
                .shared
                .changed
                .wait_timeout(streams, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        outcome
    }

    /// Kills and reaps QEMU; describes the result.
    fn kill(&mut self) -> String {
        let _ = self.child.kill();
        match self.child.wait() {
            Ok(status) => self.reaped(ExitOutcome::from_status(status)).to_string(),
            Err(e) => format!("wait failed: {e}"),
        }
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        self.stdin.take();
        if self.outcome.is_none() {
            // Killing an already-exited (unreaped) process is harmless; the
            // wait reaps it either way.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
