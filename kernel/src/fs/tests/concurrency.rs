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
