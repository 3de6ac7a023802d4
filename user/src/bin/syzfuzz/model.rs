//! What the fuzz child believes its descriptor table holds: for each fd
//! its kind (pipe end, file, directory, device, the report pipe) and
//! access, and for each pipe how many bytes it buffers and how many of the
//! child's descriptors name each end. The generators use it to avoid calls
//! that would block forever (reading an empty pipe that has a writer,
//! writing a full one that has a reader, reading the console) and the
//! checks use it to know the right answer (`EBADF`, the lowest free fd,
//! `EPIPE`, how many bytes a pipe read returns).

use ulib::abi::limits::NOFILE;

/// Bytes a pipe buffers (the kernel's `PIPESIZE`: one page).
pub const PIPE_SIZE: usize = 4096;
/// Pipes the model can track at once.
pub const PIPES: usize = NOFILE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Free,
    /// Read end of pipe `n`.
    PipeR(u8),
    /// Write end of pipe `n`.
    PipeW(u8),
    File,
    Dir,
    Device,
    /// The report pipe (or a dup of it): never written, never closed
    /// (dups may be closed).
    Report,
}

#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub kind: Kind,
    pub read: bool,
    pub write: bool,
    /// A file outside `/fz` or a device: written only with bad pointers.
    pub precious: bool,
}

impl Entry {
    pub const FREE: Entry = Entry {
        kind: Kind::Free,
        read: false,
        write: false,
        precious: false,
    };
}

#[derive(Clone, Copy, Debug, Default)]
pub struct PipeState {
    pub buffered: usize,
    pub readers: u32,
    pub writers: u32,
}

impl PipeState {
    fn in_use(&self) -> bool {
        self.readers + self.writers > 0
    }
}

pub struct Model {
    pub fds: [Entry; NOFILE],
    pub pipes: [PipeState; PIPES],
    /// The report pipe's fd (never closed).
    pub report: i32,
}

impl Model {
    pub fn new(report: i32) -> Model {
        let mut m = Model {
            fds: [Entry::FREE; NOFILE],
            pipes: [PipeState::default(); PIPES],
            report,
        };
        m.fds[report as usize] = Entry {
            kind: Kind::Report,
            read: false,
            write: true,
            precious: true,
        };
        m
    }

    /// The entry of `fd` (a C `int`), `None` if out of range.
    pub fn get(&self, fd: i32) -> Option<&Entry> {
        usize::try_from(fd).ok().and_then(|i| self.fds.get(i))
    }

    /// Whether `fd` is open.
    pub fn is_open(&self, fd: i32) -> bool {
        self.get(fd).is_some_and(|e| e.kind != Kind::Free)
    }

    /// The lowest free fd, if any.
    pub fn lowest_free(&self) -> Option<i32> {
        self.fds
            .iter()
            .position(|e| e.kind == Kind::Free)
            .map(|i| i as i32)
    }

    /// A new pipe slot, if any.
    pub fn new_pipe(&mut self) -> Option<u8> {
        let i = self.pipes.iter().position(|p| !p.in_use())?;
        self.pipes[i] = PipeState::default();
        Some(i as u8)
    }

    /// Records that `fd` now names `e` (a pipe end counts as one more holder).
    pub fn install(&mut self, fd: i32, e: Entry) {
        match e.kind {
            Kind::PipeR(p) => self.pipes[p as usize].readers += 1,
            Kind::PipeW(p) => self.pipes[p as usize].writers += 1,
            _ => {}
        }
        self.fds[fd as usize] = e;
    }

    /// Records that `fd` was closed.
    pub fn remove(&mut self, fd: i32) {
        let e = self.fds[fd as usize];
        match e.kind {
            Kind::PipeR(p) => self.pipes[p as usize].readers -= 1,
            Kind::PipeW(p) => self.pipes[p as usize].writers -= 1,
            _ => {}
        }
        self.fds[fd as usize] = Entry::FREE;
    }

    /// The pipe behind a pipe-end entry.
    pub fn pipe_of(&self, e: &Entry) -> Option<PipeState> {
        match e.kind {
            Kind::PipeR(p) | Kind::PipeW(p) => Some(self.pipes[p as usize]),
            _ => None,
        }
    }

    pub fn pipe_mut(&mut self, e: &Entry) -> Option<&mut PipeState> {
        match e.kind {
            Kind::PipeR(p) | Kind::PipeW(p) => Some(&mut self.pipes[p as usize]),
            _ => None,
        }
    }

    /// The open fds, into `out`; returns how many.
    pub fn open_fds(&self, out: &mut [i32; NOFILE]) -> usize {
        let mut n = 0;
        for (i, e) in self.fds.iter().enumerate() {
            if e.kind != Kind::Free {
                out[n] = i as i32;
                n += 1;
            }
        }
        n
    }
}
