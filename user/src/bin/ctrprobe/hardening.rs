//! Escapes a hostile container might try, each refused (from a review of
//! the container code): device nodes outside its layer, taking the console's ^C away from
//! the host, every process slot, every inode of the table, an endless
//! current directory, names that forge `ctr diff` lines or drive the
//! host's terminal, and directory listings that would fill the kernel heap.

use ulib::abi::errno::Errno;
use ulib::abi::fcntl::{O_CREATE, O_RDONLY, O_WRONLY};
use ulib::abi::stat::T_DIR;
use ulib::container::{self, Spec};
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::test::{errno, TestResult};
use ulib::{ensure, ensure_eq};

use crate::common::{inside, Ctr};

/// A device node made in a container lives in its layer (the host never
/// sees it), and the whiteout marker's major cannot be forged.
pub fn device_nodes_stay_in_the_layer() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    inside(c.id, || {
        fd::mknod("/ctrprobe_con", 1, 0).map_err(errno("mknod of a console node"))?;
        let f = fd::open("/ctrprobe_con", O_RDONLY).map_err(errno("open the node"))?;
        let _ = fd::close(f);
        ensure_eq!(
            fd::mknod("/ctrprobe_wh", i32::from(ulib::abi::fs::WHITEOUT_MAJOR), 0),
            Err(Errno::EINVAL),
            "mknod with the whiteout major"
        );
        Ok(())
    })?;
    ensure_eq!(
        fd::open("/ctrprobe_con", O_RDONLY),
        Err(Errno::ENOENT),
        "the container's node from the host"
    );
    Ok(())
}

/// A container whose process did not get the console cannot make itself
/// the foreground (^C would stop reaching the host's jobs).
pub fn foreground_stays_with_the_host() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    ulib::test::in_child(|| {
        // Out of the console's foreground group first, so the join does
        // not carry the console into the container.
        process::setpgid(0, 0).map_err(errno("setpgid(0, 0)"))?;
        container::join(c.id).map_err(errno("join_container"))?;
        ensure_eq!(
            process::tcsetpgrp(1),
            Err(Errno::EPERM),
            "tcsetpgrp from inside"
        );
        ensure_eq!(
            process::tcsetpgrp(0),
            Err(Errno::EPERM),
            "tcsetpgrp(0) from inside"
        );
        Ok(())
    })
}

/// Containers at no process limit of their own still leave the host its
/// last process slots: a container forks until EAGAIN, then the host forks.
pub fn host_keeps_process_slots() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    let (r, w) = fd::pipe().map_err(errno("pipe"))?;
    let member = process::fork().map_err(errno("fork"))?;
    if let Fork::Child = member {
        let _ = fd::close(r);
        if container::join(c.id).is_err() {
            process::exit(1);
        }
        let mut n = 0u32;
        loop {
            match process::fork() {
                Ok(Fork::Child) => {
                    // Hold the slot until the container goes.
                    let _ = process::sleep(1_000_000);
                    process::exit(0)
                }
                Ok(Fork::Parent(_)) => n += 1,
                Err(_) => break,
            }
        }
        let _ = fd::write_all(w, &n.to_le_bytes());
        let _ = process::sleep(1_000_000);
        process::exit(0)
    }
    let _ = fd::close(w);
    let mut b = [0u8; 4];
    let got = fd::read_exact(r, &mut b);
    let _ = fd::close(r);
    got.map_err(errno("read the member's count"))?;
    let n = u32::from_le_bytes(b);
    // While the container holds all it could, the host can still fork.
    let host_fork = process::spawn(|| 0).map_err(errno("host fork with the container full"));
    drop(c); // destroy: every member goes
    let child = host_fork?;
    let mut others = Vec::new();
    process::wait_for(child, &mut others).map_err(errno("wait"))?;
    let _ = process::wait_all();
    ensure!(n > 100, "the container forked only {n} processes");
    ensure!(
        (n as usize) < ulib::abi::limits::NPROC - 32,
        "the container took {n} of {} slots",
        ulib::abi::limits::NPROC
    );
    Ok(())
}

/// One container's processes hold at most 512 files open (ENFILE past it),
/// so they cannot fill the kernel's inode table for everyone.
pub fn open_files_are_capped() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    inside(c.id, || {
        // 10 processes of 55 files each would be 550 files.
        let mut kids = Vec::new();
        let (r, w) = fd::pipe().map_err(errno("pipe"))?;
        for k in 0..10 {
            match process::fork().map_err(errno("fork"))? {
                Fork::Child => {
                    let _ = fd::close(r);
                    let mut refused = 0i32;
                    for i in 0..55 {
                        let name = format!("/f{k}_{i}");
                        match fd::open(&name, O_CREATE | O_WRONLY) {
                            Ok(_) => {}
                            Err(Errno::ENFILE) => refused += 1,
                            Err(e) => {
                                refused = -(e as i32);
                                break;
                            }
                        }
                    }
                    let _ = fd::write_all(w, &refused.to_le_bytes());
                    let _ = process::sleep(1_000_000);
                    process::exit(0)
                }
                Fork::Parent(p) => kids.push(p),
            }
        }
        let _ = fd::close(w);
        let mut refused = 0;
        for _ in 0..10 {
            let mut b = [0u8; 4];
            fd::read_exact(r, &mut b).map_err(errno("read"))?;
            match i32::from_le_bytes(b) {
                n if n < 0 => return Err(format!("open in a child: errno {}", -n)),
                n => refused += n,
            }
        }
        for p in kids {
            let _ = process::kill(p);
        }
        let _ = process::wait_all();
        ensure!(
            refused > 0,
            "180 files opened in one container, none refused"
        );
        ensure!(refused <= 180 - 100, "only {} files opened", 180 - refused);
        Ok(())
    })
}

/// A current directory in a container cannot grow without bound: past 256
/// components a path is ENAMETOOLONG; below that, however long the whole
/// path (far over MAXPATH), files work relative to it, before and after
/// the container's first change.
pub fn view_paths_are_bounded() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    // Before any change: walking down an existing host tree of 70 levels
    // (140 bytes of path) from inside, read-only.
    let host_deep = "/ctrprobe_deep";
    let _ = fd::mkdir(host_deep);
    fd::chdir(host_deep).map_err(errno("chdir on the host"))?;
    for _ in 0..70 {
        let _ = fd::mkdir("d");
        fd::chdir("d").map_err(errno("chdir d on the host"))?;
    }
    let f = fd::open("leaf", O_CREATE | O_WRONLY).map_err(errno("create leaf on the host"))?;
    let _ = fd::close(f);
    fd::chdir("/").map_err(errno("chdir /"))?;
    inside(c.id, || {
        fd::chdir(host_deep).map_err(errno("chdir to the host tree"))?;
        for i in 0..70 {
            fd::chdir("d").map_err(|e| format!("read-only chdir d at depth {i}: {e:?}"))?;
        }
        let f = fd::open("leaf", O_RDONLY).map_err(errno("open leaf 140 bytes down"))?;
        let _ = fd::close(f);
        // Now changes: deeper, making directories, to the bound.
        let mut depth = 71;
        loop {
            match fd::mkdir("d") {
                Ok(()) => {}
                Err(Errno::ENAMETOOLONG) => break,
                Err(e) => return Err(format!("mkdir d at depth {depth}: {e:?}")),
            }
            match fd::chdir("d") {
                Ok(()) => depth += 1,
                Err(Errno::ENAMETOOLONG) => break,
                Err(e) => return Err(format!("chdir d at depth {depth}: {e:?}")),
            }
            if depth == 200 {
                let f = fd::open("f", O_CREATE | O_WRONLY).map_err(errno("create at depth 200"))?;
                let _ = fd::close(f);
                let f = fd::open("f", O_RDONLY).map_err(errno("reopen at depth 200"))?;
                let _ = fd::close(f);
            }
            if depth > 300 {
                return Err(String::from("300 nested directories were all accepted"));
            }
        }
        ensure!(
            depth >= 250,
            "ENAMETOOLONG already at depth {depth} (the bound is 256 components)"
        );
        Ok(())
    })
}

/// Names with a newline or control bytes cannot forge `ctr diff` lines,
/// and a hostname is printable ASCII.
pub fn diff_and_hostname_cannot_forge_output() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    inside(c.id, || {
        let f = fd::open("/x\nD bin", O_CREATE | O_WRONLY).map_err(errno("create"))?;
        let _ = fd::close(f);
        ensure_eq!(
            container::set_hostname("a\x1b[2J"),
            Err(Errno::EINVAL),
            "a hostname with an escape"
        );
        ensure_eq!(
            container::set_hostname("a b"),
            Err(Errno::EINVAL),
            "a hostname with a space"
        );
        Ok(())
    })?;
    let text = container::diff(c.id).map_err(errno("container_diff"))?;
    let text = String::from_utf8_lossy(&text).into_owned();
    ensure_eq!(
        text.as_str(),
        "A /x\\x0aD bin\n",
        "the diff of a name with a newline"
    );
    Ok(())
}

/// An open directory keeps meaning the directory it opened after its name
/// is removed or taken (syzfuzz found it looked its path up again): fstat
/// still answers, with no links, and reads give no entries; on the host a
/// directory's descriptor holds its inode the same way.
pub fn open_dir_outlives_its_name() -> TestResult {
    let c = Ctr::new(Spec::new())?;
    // A host directory the container removes from its view only.
    let _ = fd::mkdir("/ctrprobe_hd");
    inside(c.id, || {
        for (made_in_layer, name) in [(true, "/ctrprobe_od"), (false, "/ctrprobe_hd")] {
            if made_in_layer {
                fd::mkdir(name).map_err(errno("mkdir"))?;
            }
            let d = fd::open(name, O_RDONLY).map_err(errno("open the directory"))?;
            let before = fd::fstat(d).map_err(errno("fstat"))?;
            fd::unlink(name).map_err(errno("unlink the directory"))?;
            let st = fd::fstat(d).map_err(errno("fstat after unlink"))?;
            ensure_eq!(
                (st.kind, st.ino, st.nlink),
                (T_DIR, before.ino, 0),
                "fstat of {name} after its removal"
            );
            let mut buf = [0u8; 64];
            ensure_eq!(
                fd::read(d, &mut buf),
                Ok(0),
                "read of {name} after its removal"
            );
            // A file takes the name: the descriptor is still the old directory.
            let f = fd::open(name, O_CREATE | O_WRONLY).map_err(errno("create the file"))?;
            let _ = fd::close(f);
            let st = fd::fstat(d).map_err(errno("fstat once a file took the name"))?;
            ensure_eq!(
                (st.kind, st.nlink),
                (T_DIR, 0),
                "fstat of {name}, a file there now"
            );
            ensure_eq!(
                fd::read(d, &mut buf),
                Ok(0),
                "read of {name}, a file there now"
            );
            let _ = fd::close(d);
            fd::unlink(name).map_err(errno("unlink the file"))?;
        }
        Ok(())
    })?;
    let d = fd::open("/ctrprobe_hd", O_RDONLY).map_err(errno("the host's directory"))?;
    let _ = fd::close(d);
    fd::unlink("/ctrprobe_hd").map_err(errno("unlink the host's directory"))
}
