//! Several threads (each standing in for a CPU) using one file system.

use std::sync::atomic::{AtomicUsize, Ordering};

use berth_abi::errno::Errno::{self, *};

use super::*;

#[test]
fn threads_in_their_own_directories() {
    let t = fresh(8000, 500);
    std::thread::scope(|s| {
        for th in 0..4u64 {
            let t = &t;
            s.spawn(move || {
                let dir = format!("/t{th}");
                t.fs.mkdir(&t.root, dir.as_bytes()).unwrap();
                for i in 0..24u64 {
                    let p = format!("{dir}/f{i}");
                    let data = pattern(th * 100 + i, (i as usize * 3001) % 20_000);
                    t.put(&p, &data).unwrap();
                    assert_eq!(t.get(&p).unwrap(), data);
                    if i % 2 == 0 {
                        t.fs.unlink(&t.root, p.as_bytes()).unwrap();
                    }
                }
                t.fs.mkdir(&t.root, format!("{dir}/sub").as_bytes())
                    .unwrap();
            });
        }
    });
    for th in 0..4u64 {
        assert_eq!(t.nlink(&format!("/t{th}")), 2);
        for i in (1..24u64).step_by(2) {
            let data = pattern(th * 100 + i, (i as usize * 3001) % 20_000);
            assert_eq!(t.get(&format!("/t{th}/f{i}")).unwrap(), data);
        }
    }
    assert_eq!(t.nlink("/"), 5);
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn threads_racing_in_one_directory() {
    let t = fresh(8000, 500);
    t.fs.mkdir(&t.root, b"/s").unwrap();
    let successes = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for th in 0..4u64 {
            let (t, successes) = (&t, &successes);
            s.spawn(move || {
                let own = format!("/s/own{th}");
                t.put(&own, b"own").unwrap();
                for i in 0..60u64 {
                    // A handful of names every thread fights over.
                    let name = format!("/s/n{}", (i * 7 + th) % 6);
                    let r: Result<(), Errno> = match (i + th) % 5 {
                        0 => t.put(&name, &pattern(i, 3000)),
                        1 => t.fs.unlink(&t.root, name.as_bytes()),
                        2 => t.fs.mkdir(&t.root, name.as_bytes()),
                        3 => t.fs.link(&t.root, own.as_bytes(), name.as_bytes()),
                        _ => t.get(&name).map(drop),
                    };
                    match r {
                        Ok(()) => {
                            successes.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(ENOENT | EEXIST | EISDIR | ENOTEMPTY) => {}
                        Err(e) => panic!("{name}: unexpected {e:?}"),
                    }
                    let unique = format!("/s/u{th}_{i}");
                    t.put(&unique, &pattern(th * 1000 + i, 500 + i as usize * 37))
                        .unwrap();
                    if i % 3 == 0 {
                        t.fs.unlink(&t.root, unique.as_bytes()).unwrap();
                    }
                }
            });
        }
    });
    assert!(successes.load(Ordering::Relaxed) > 20);
    for th in 0..4u64 {
        for i in (0..60u64).filter(|i| i % 3 != 0) {
            let data = pattern(th * 1000 + i, 500 + i as usize * 37);
            assert_eq!(t.get(&format!("/s/u{th}_{i}")).unwrap(), data);
        }
    }
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn concurrent_big_writes_share_the_log() {
    // A cache at its minimum forces recycling while the log pins blocks.
    let t = fresh_with(8000, 100, crate::fs::MIN_NBUF, 64);
    let readers_done = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for th in 0..3u64 {
            let t = &t;
            s.spawn(move || {
                let p = format!("/big{th}");
                let data = pattern(th, 400 * 1024 + 17);
                t.put(&p, &data).unwrap();
                assert_eq!(t.get(&p).unwrap(), data);
            });
        }
        // A reader walking paths and reading the root meanwhile.
        let (t, readers_done) = (&t, &readers_done);
        s.spawn(move || {
            for _ in 0..200 {
                let _ = t.get("/big0");
                read_all(&t.fs, &t.root).unwrap();
            }
            readers_done.store(1, Ordering::Relaxed);
        });
    });
    assert_eq!(readers_done.load(Ordering::Relaxed), 1);
    t.assert_consistent(false);
    for th in 0..3u64 {
        t.fs.unlink(&t.root, format!("/big{th}").as_bytes())
            .unwrap();
    }
    t.assert_consistent(false);
    t.assert_quiet();
}

#[test]
fn unlink_while_another_thread_writes() {
    let t = fresh(8000, 100);
    let free = t.free_blocks();
    std::thread::scope(|s| {
        for th in 0..2u64 {
            let t = &t;
            s.spawn(move || {
                for round in 0..10u64 {
                    let p = format!("/w{}", round % 2);
                    if let Ok(ip) = t.fs.open_inode(
                        &t.root,
                        p.as_bytes(),
                        berth_abi::fcntl::O_CREATE | berth_abi::fcntl::O_RDWR,
                    ) {
                        let data = pattern(th + round, 30_000);
                        // The file may be unlinked (and recreated) under us: the write still lands.
                        assert_eq!(t.fs.write_file(&ip, 0, &data), Ok(data.len()));
                        let mut back = vec![0u8; data.len()];
                        assert_eq!(t.fs.read_file(&ip, 0, &mut back), Ok(data.len()));
                    }
                    let _ = t.fs.unlink(&t.root, p.as_bytes());
                }
            });
        }
    });
    for p in ["/w0", "/w1"] {
        let _ = t.fs.unlink(&t.root, p.as_bytes());
    }
    assert_eq!(t.free_blocks(), free);
    t.assert_consistent(false);
    t.assert_quiet();
}

/// The last reference of an unlinked file frees it; its number is then
/// allocated again into the table entry that reference still counts (the
/// freeing thread stalled between its free and its count-down, as a
/// preempted CPU does), and that new file is unlinked and let go before
/// the stalled thread comes back. The stalled thread must free it too: it
/// used to count down without looking, leaving an allocated inode with no
/// links (an orphan after stress-fs at 8 CPUs).
#[test]
fn number_reused_while_its_freer_stalls_is_freed() {
    use std::sync::atomic::AtomicU32;
    let t = Arc::new(fresh(4000, 200));
    let (inodes, blocks) = (t.free_inodes(), t.free_blocks());
    t.put("/a", &pattern(1, 1306)).unwrap();
    let a = t.fs.namei(&t.root, b"/a").unwrap();
    let a_inum = a.inum();
    t.fs.unlink(&t.root, b"/a").unwrap();
    let reused = Arc::new(AtomicU32::new(0));
    let (t2, reused2) = (t.clone(), reused.clone());
    crate::fs::inode::seam::set_after_free(move || {
        t2.put("/b", &pattern(2, 3852)).unwrap();
        let b = t2.fs.namei(&t2.root, b"/b").unwrap();
        reused2.store(b.inum(), Ordering::Relaxed);
        drop(b);
        t2.fs.unlink(&t2.root, b"/b").unwrap();
    });
    drop(a);
    assert_eq!(
        reused.load(Ordering::Relaxed),
        a_inum,
        "/b must get /a's number while /a's freer stalls, or this tests nothing"
    );
    assert_eq!(t.free_inodes(), inodes, "an inode stayed allocated");
    assert_eq!(t.free_blocks(), blocks, "blocks stayed allocated");
    t.assert_consistent(false);
    t.assert_quiet();
}
