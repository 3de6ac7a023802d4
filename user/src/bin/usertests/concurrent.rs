//! Several processes on the file system at once: private files written in
//! parallel, creates racing unlinks in one directory, links racing
//! unlinks, one descriptor shared by two writers.

use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_RDWR};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::test::TestResult;
use ulib::{ensure, ensure_eq};

use crate::util::{fork_child, list_dir, ok, read_file, stat, unlink, wait_ok, write_file, Rng};

/// xv6's fourfiles: four processes each write their own file at once;
/// every file holds exactly what its writer wrote.
pub fn four_files() -> TestResult {
    const WRITES: usize = 12;
    const SZ: usize = 500;
    let names = ["f0", "f1", "f2", "f3"];
    for (i, name) in names.iter().enumerate() {
        fork_child(move || {
            let f = ok("create", fd::open(name, O_CREATE | O_RDWR))?;
            let buf = [b'0' + i as u8; SZ];
            for w in 0..WRITES {
                ensure_eq!(ok("write", fd::write(f, &buf))?, SZ, "write {w} of {name}");
            }
            ok("close", fd::close(f))
        })?;
    }
    wait_ok(names.len())?;
    for (i, name) in names.iter().enumerate() {
        let data = read_file(name)?;
        ensure_eq!(data.len(), WRITES * SZ, "size of {name}");
        ensure!(
            data.iter().all(|&b| b == b'0' + i as u8),
            "{name} holds bytes of another writer"
        );
        unlink(name)?;
    }
    Ok(())
}

/// xv6's createdelete: four processes create files in one directory and
/// delete every other one as they go; the survivors are exactly right.
pub fn create_delete() -> TestResult {
    const N: usize = 20;
    const PROCS: usize = 4;
    for p in 0..PROCS {
        fork_child(move || {
            for i in 0..N {
                write_file(&format!("p{p}.{i}"), b"")?;
                if i > 0 && i % 2 == 0 {
                    unlink(&format!("p{p}.{}", i / 2))?;
                }
            }
            Ok(())
        })?;
    }
    wait_ok(PROCS)?;
    for p in 0..PROCS {
        for i in 0..N {
            let name = format!("p{p}.{i}");
            let removed = i > 0 && i < N / 2;
            let exists = fd::open(&name, O_RDONLY).map(fd::close).is_ok();
            ensure_eq!(exists, !removed, "whether {name} exists");
            if exists {
                unlink(&name)?;
            }
        }
    }
    Ok(())
}

/// xv6's concreate: two processes create, link and unlink the same names
/// at once; the directory never holds a name twice, every name is
/// there, and a second round of racing opens and unlinks leaves nothing.
pub fn concreate() -> TestResult {
    const N: usize = 40;
    write_file("C.src", b"")?;
    for i in 0..N {
        let name = format!("C{i}");
        let _ = fd::unlink(&name);
        let child = match process::fork() {
            Ok(Fork::Child) => true,
            Ok(Fork::Parent(_)) => false,
            Err(e) => return Err(format!("fork: {e:?}")),
        };
        // Both make the name; whichever is second fails with EEXIST or
        // finds the file there (O_CREATE), never corrupts the directory.
        if (!child && i % 3 == 1) || (child && i % 5 == 1) {
            let _ = fd::link("C.src", &name);
        } else if let Ok(f) = fd::open(&name, O_CREATE | O_RDWR) {
            let _ = fd::close(f);
        }
        if child {
            process::exit(0);
        }
        wait_ok(1)?;
    }
    let mut seen = vec![0usize; N];
    for (_, name) in ok("list .", list_dir("."))? {
        if let Some(i) = name.strip_prefix('C').and_then(|n| n.parse::<usize>().ok()) {
            ensure!(i < N, "unexpected entry {name}");
            seen[i] += 1;
        }
    }
    for (i, &n) in seen.iter().enumerate() {
        ensure_eq!(n, 1, "entries named C{i}");
    }
    for i in 0..N {
        let name = format!("C{i}");
        let child = match process::fork() {
            Ok(Fork::Child) => true,
            Ok(Fork::Parent(_)) => false,
            Err(e) => return Err(format!("fork: {e:?}")),
        };
        if (i % 3 == 0 && child) || (i % 3 == 1 && !child) {
            for _ in 0..4 {
                if let Ok(f) = fd::open(&name, O_RDONLY) {
                    let _ = fd::close(f);
                }
            }
        } else {
            for _ in 0..4 {
                let _ = fd::unlink(&name);
            }
        }
        if child {
            process::exit(0);
        }
        wait_ok(1)?;
    }
    ensure_eq!(
        stat("C.src")?.nlink,
        1,
        "links of the source file after every C name is gone"
    );
    let left: Vec<String> = crate::util::names_in(".")?
        .into_iter()
        .filter(|n| n != "C.src")
        .collect();
    ensure!(
        left.is_empty(),
        "names left after the unlink race: {}",
        left.join(" ")
    );
    unlink("C.src")
}

/// xv6's linkunlink: two processes create, link and unlink one name at
/// random; afterwards the link counts agree with the directory.
pub fn link_unlink_race() -> TestResult {
    write_file("lu.src", b"src")?;
    let child = match process::fork() {
        Ok(Fork::Child) => true,
        Ok(Fork::Parent(_)) => false,
        Err(e) => return Err(format!("fork: {e:?}")),
    };
    let mut rng = Rng::new(if child { 97 } else { 1 });
    for _ in 0..100 {
        match rng.next() % 3 {
            0 => {
                if let Ok(f) = fd::open("x", O_CREATE | O_RDWR) {
                    let _ = fd::close(f);
                }
            }
            1 => {
                let _ = fd::link("lu.src", "x");
            }
            _ => {
                let _ = fd::unlink("x");
            }
        }
    }
    if child {
        process::exit(0);
    }
    wait_ok(1)?;
    let src = stat("lu.src")?;
    let x = stat("x").ok();
    let want = 1 + i16::from(x.is_some_and(|x| x.ino == src.ino));
    ensure_eq!(src.nlink, want, "links of lu.src (x is {x:?})");
    if let Some(x) = x {
        ensure!(x.ino == src.ino || x.nlink == 1, "x has {} links", x.nlink);
        unlink("x")?;
    }
    ensure_eq!(read_file("lu.src")?, b"src", "contents of lu.src");
    unlink("lu.src")
}

/// xv6's sharedfd: parent and child write through one descriptor; all
/// their bytes are in the file, none overwritten.
pub fn shared_fd() -> TestResult {
    const N: usize = 200;
    const SZ: usize = 10;
    let f = ok("create", fd::open("sf", O_CREATE | O_RDWR))?;
    let child = match process::fork() {
        Ok(Fork::Child) => true,
        Ok(Fork::Parent(_)) => false,
        Err(e) => return Err(format!("fork: {e:?}")),
    };
    let buf = [if child { b'c' } else { b'p' }; SZ];
    for _ in 0..N {
        if fd::write(f, &buf) != Ok(SZ) {
            if child {
                process::exit(1);
            }
            return Err(String::from("a write of the parent failed"));
        }
    }
    if child {
        process::exit(0);
    }
    wait_ok(1)?;
    ok("close", fd::close(f))?;
    let data = read_file("sf")?;
    let (c, p) = (
        data.iter().filter(|&&b| b == b'c').count(),
        data.iter().filter(|&&b| b == b'p').count(),
    );
    ensure_eq!(
        (c, p, data.len()),
        (N * SZ, N * SZ, 2 * N * SZ),
        "bytes of child, parent, total"
    );
    unlink("sf")
}
