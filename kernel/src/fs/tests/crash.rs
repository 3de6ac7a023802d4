//! Crash recovery: a write-heavy workload is cut off after K block writes
//! (the disk drops every later write), the frozen image is remounted, and
//! it must be consistent with every operation that finished before the
//! crash point fully present and every one that had not started absent.

use std::string::String;
use std::sync::Arc;
use std::vec::Vec;

use berth_abi::errno::Errno::{self, ENOENT};
use berth_abi::fcntl::*;

use super::*;
use crate::fs::{FileSystem, RamDisk};

/// Large enough that the workload never recycles a buffer, so the run after
/// the crash point (reading only its cache) behaves exactly like the reference run.
const CRASH_NBUF: usize = 4096;

/// A change to one path: block writes `start..end` made it; afterwards the
/// path holds `after` (`None`: absent).
struct Event {
    path: String,
    start: u64,
    end: u64,
    after: Option<Vec<u8>>,
}

/// Runs the workload; with `crash` set, stops at the first step after the
/// disk started dropping writes (the machine is "off"; what follows is
/// irrelevant and may read stale blocks).
fn workload(t: &TestFs, events: &mut Vec<Event>, crash: bool) {
    let mut step =
        |path: &str, after: Option<Vec<u8>>, f: &mut dyn FnMut() -> Result<(), Errno>| -> bool {
            if crash && t.disk.dropped_writes() > 0 {
                return false;
            }
            let start = t.disk.writes();
            let r = f();
            if !crash {
                r.unwrap_or_else(|e| panic!("{path}: {e:?}"));
            }
            events.push(Event {
                path: path.into(),
                start,
                end: t.disk.writes(),
                after,
            });
            true
        };
    let fs = &t.fs;
    let root = &t.root;
    if !step("/a", None, &mut || fs.mkdir(root, b"/a"))
        || !step("/b", None, &mut || fs.mkdir(root, b"/b"))
    {
        return;
    }
    let sizes = [
        0usize,
        10,
        1024,
        3000,
        11 * 1024 + 5,
        40_000,
        100_000,
        300_000,
    ];
    let mut tmp = None;
    for i in 0..16usize {
        let path = format!("/a/f{i}");
        let data = pattern(i as u64, sizes[i % sizes.len()]);
        if !step(&path, Some(data.clone()), &mut || t.put(&path, &data)) {
            return;
        }
        if i % 3 == 2 {
            let victim = format!("/a/f{}", i - 2);
            if !step(&victim, None, &mut || fs.unlink(root, victim.as_bytes())) {
                return;
            }
        }
        if i % 4 == 3 {
            let path = format!("/a/f{}", i - 1);
            let data = pattern(1000 + i as u64, 5000 + i * 100);
            if !step(&path, Some(data.clone()), &mut || t.put(&path, &data)) {
                return;
            }
        }
        if i == 5 {
            // A file that is open and unlinked while the rest goes on: an orphan at most crash points.
            let data = pattern(77, 30_000);
            let ok = step("/b/tmp", Some(data.clone()), &mut || {
                let ip = fs.open_inode(root, b"/b/tmp", O_CREATE | O_RDWR)?;
                fs.write_file(&ip, 0, &data)?;
                tmp = Some(ip);
                Ok(())
            });
            if !ok || !step("/b/tmp", None, &mut || fs.unlink(root, b"/b/tmp")) {
                return;
            }
        }
        if i == 9 {
            let ip = tmp.take();
            let ok = step("/b/x2", Some(b"x".to_vec()), &mut || {
                if let Some(ip) = &ip {
                    fs.write_file(ip, 30_000, &pattern(78, 20_000))?;
                }
                fs.mkdir(root, b"/b/sub")?;
                t.put("/b/sub/x", b"x")?;
                fs.link(root, b"/b/sub/x", b"/b/x2")?;
                fs.unlink(root, b"/b/sub/x")?;
                fs.unlink(root, b"/b/sub")
            });
            tmp = ip;
            if !ok {
                return;
            }
        }
    }
    let mut last = tmp.take();
    // Closing the orphan frees it.
    step("/b/x2", Some(b"x".to_vec()), &mut || {
        drop(last.take());
        Ok(())
    });
}

/// The state of `path` at crash point `k`: `Some(expected)` unless an
/// event on it was in flight.
fn expected_at(events: &[Event], path: &str, k: u64) -> Option<Option<Vec<u8>>> {
    let mut state = None;
    for e in events.iter().filter(|e| e.path == path) {
        if e.end <= k {
            state = e.after.clone();
        } else if e.start < k {
            return None; // in flight: any prefix of it may have reached the disk
        }
    }
    Some(state)
}

#[test]
fn every_crash_point_recovers_to_a_consistent_image() {
    let initial = formatted_image(6000, 200);
    // Reference run: learn the events and the total number of writes.
    let reference = mount_image(initial.clone(), CRASH_NBUF, 64);
    let mut events = Vec::new();
    workload(&reference, &mut events, false);
    let total = reference.disk.writes();
    reference.assert_consistent(false);
    drop(reference);
    assert!(total > 1000, "workload too small: {total} writes");

    // Crash points: an even sweep, plus each event's boundaries (just
    // before the final header clear, at the end, and just after the start).
    let mut points: Vec<u64> = (0..=total).step_by((total / 250).max(1) as usize).collect();
    for e in &events {
        points.extend([e.start + 1, e.end.saturating_sub(1), e.end]);
    }
    points.sort_unstable();
    points.dedup();
    points.retain(|&k| k <= total);

    let paths: Vec<String> = {
        let mut p: Vec<String> = events.iter().map(|e| e.path.clone()).collect();
        p.sort();
        p.dedup();
        p
    };
    let replayed = std::sync::atomic::AtomicUsize::new(0);
    let orphans = std::sync::atomic::AtomicUsize::new(0);
    let chunks: Vec<&[u64]> = points.chunks(points.len().div_ceil(2)).collect();
    std::thread::scope(|s| {
        for chunk in chunks {
            let (initial, events, paths, replayed, orphans) =
                (&initial, &events, &paths, &replayed, &orphans);
            s.spawn(move || {
                for &k in chunk {
                    let disk = Arc::new(RamDisk::from_bytes(initial.clone()).unwrap());
                    {
                        let fs = FileSystem::mount(disk.clone(), CRASH_NBUF).unwrap();
                        let t = TestFs {
                            disk: disk.clone(),
                            root: fs.root().unwrap(),
                            fs,
                        };
                        disk.crash_after(k);
                        workload(&t, &mut Vec::new(), true);
                    }
                    let t = mount_image(disk.snapshot(), NBUF, 64);
                    let info = t.fs.mount_info();
                    if info.replayed_blocks > 0 {
                        replayed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    if info.orphans_freed > 0 {
                        orphans.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    let problems = check::check_image(&t.image(), false);
                    assert!(
                        problems.is_empty(),
                        "crash after {k} writes:\n{}",
                        problems.join("\n")
                    );
                    if expected_at(events, "/b/x2", k).is_some() {
                        // /b/sub lives only inside the step that makes /b/x2.
                        assert_eq!(
                            t.fs.namei(&t.root, b"/b/sub").unwrap_err(),
                            ENOENT,
                            "crash after {k}"
                        );
                    }
                    for path in paths {
                        let Some(expect) = expected_at(events, path, k) else {
                            continue;
                        };
                        if path == "/a" || path == "/b" {
                            let made = events.iter().find(|e| &e.path == path).unwrap().end;
                            assert_eq!(
                                t.fs.namei(&t.root, path.as_bytes()).is_ok(),
                                k >= made,
                                "crash after {k}: {path}"
                            );
                            continue;
                        }
                        match (expect, t.get(path)) {
                            (Some(want), Ok(got)) => assert!(
                                got == want,
                                "crash after {k}: {path} has {} bytes, want {}",
                                got.len(),
                                want.len()
                            ),
                            (None, Err(ENOENT)) => {}
                            (want, got) => panic!(
                                "crash after {k}: {path}: want {:?} bytes, got {:?}",
                                want.map(|w| w.len()),
                                got.map(|g| g.len())
                            ),
                        }
                    }
                }
            });
        }
    });
    let (replayed, orphans) = (replayed.into_inner(), orphans.into_inner());
    assert!(replayed > 0, "no crash point needed a log replay");
    assert!(orphans > 0, "no crash point left an orphan");
    std::eprintln!(
        "{} crash points of {total} writes: {replayed} replayed the log, {orphans} freed an orphan",
        points.len()
    );
}

#[test]
fn crash_during_a_multi_operation_truncation() {
    // 8 MiB: 31 second-level tables, more than one operation may log.
    let data = pattern(21, 8 << 20);
    let start = {
        let t = fresh_with(12_000, 50, CRASH_NBUF, 64);
        t.put("/f", &data).unwrap();
        t.image()
    };
    let (total, commits) = {
        let t = mount_image(start.clone(), CRASH_NBUF, 64);
        let c = t.fs.commits();
        t.fs.truncate(&t.fs.namei(&t.root, b"/f").unwrap()).unwrap();
        (t.disk.writes(), t.fs.commits() - c)
    };
    assert!(commits >= 2, "truncation took {commits} operation(s)");
    let mut sizes = std::collections::BTreeSet::new();
    for k in 0..=total {
        let t = mount_image(start.clone(), CRASH_NBUF, 64);
        t.disk.crash_after(k);
        t.fs.truncate(&t.fs.namei(&t.root, b"/f").unwrap()).unwrap();
        let img = t.disk.snapshot();
        drop(t);
        let t = mount_image(img, NBUF, 64);
        t.assert_consistent(false);
        // Truncation frees from the end: what is left is a prefix.
        let left = t.get("/f").unwrap();
        assert!(
            left[..] == data[..left.len()],
            "crash after {k}: not a prefix"
        );
        sizes.insert(left.len());
    }
    assert!(sizes.len() >= 3, "crash points saw sizes {sizes:?}");
}

/// Contents `concurrent_workload` gives the file `/t{th}/f{i}`.
fn concurrent_contents(th: u64, i: u64) -> Vec<u8> {
    pattern(th * 100 + i, ((i * 7919) % 60_000) as usize)
}

/// Three threads creating, linking and removing files at once (so several
/// operations share each commit). Errors are tolerated only after a crash.
fn concurrent_workload(t: &TestFs, crashed: bool) {
    std::thread::scope(|s| {
        for th in 0..3u64 {
            s.spawn(move || {
                let ok = |r: Result<(), Errno>| assert!(crashed || r.is_ok(), "{r:?}");
                ok(t.fs.mkdir(&t.root, format!("/t{th}").as_bytes()));
                for i in 0..12u64 {
                    let p = format!("/t{th}/f{i}");
                    ok(t.put(&p, &concurrent_contents(th, i)));
                    if i % 3 == 0 {
                        ok(t.fs.link(&t.root, p.as_bytes(), format!("/s/l{th}_{i}").as_bytes()));
                    }
                    if i % 4 == 1 {
                        ok(t.fs.unlink(&t.root, p.as_bytes()));
                    }
                }
            });
        }
    });
}

#[test]
fn crash_during_concurrent_operations() {
    let initial = {
        let t = mount_image(formatted_image(6000, 200), NBUF, 64);
        t.fs.mkdir(&t.root, b"/s").unwrap();
        t.image()
    };
    let total = {
        let t = mount_image(initial.clone(), CRASH_NBUF, 64);
        concurrent_workload(&t, false);
        t.assert_consistent(false);
        t.disk.writes()
    };
    for k in (0..total).step_by((total / 24).max(1) as usize) {
        let t = mount_image(initial.clone(), CRASH_NBUF, 64);
        t.disk.crash_after(k);
        concurrent_workload(&t, true);
        let img = t.disk.snapshot();
        drop(t);
        let t = mount_image(img, NBUF, 64);
        t.assert_consistent(false);
        // Whatever survived is a prefix of what was being written (O_TRUNC, then the data in order).
        for th in 0..3u64 {
            for i in 0..12u64 {
                for p in [format!("/t{th}/f{i}"), format!("/s/l{th}_{i}")] {
                    if let Ok(got) = t.get(&p) {
                        let want = concurrent_contents(th, i);
                        assert!(
                            got.len() <= want.len() && got[..] == want[..got.len()],
                            "crash after {k}: {p}"
                        );
                    }
                }
            }
        }
    }
}
