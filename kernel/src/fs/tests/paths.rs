//! Path resolution.

use berth_abi::errno::Errno::*;
use berth_abi::fs::*;

use super::*;
use crate::fs::At;

fn setup() -> TestFs {
    let t = fresh(2000, 200);
    t.fs.mkdir(&t.root, b"/a").unwrap();
    t.fs.mkdir(&t.root, b"/a/b").unwrap();
    t.put("/a/b/f", b"f").unwrap();
    t
}

#[test]
fn absolute_relative_dots_and_slashes() {
    let t = setup();
    let inum = |cwd: &InodeRef, p: &str| t.fs.namei(cwd, p.as_bytes()).map(|ip| ip.inum());
    let f = inum(&t.root, "/a/b/f").unwrap();
    let b = inum(&t.root, "/a/b").unwrap();
    let a = inum(&t.root, "/a").unwrap();
    for p in [
        "a/b/f",
        "//a///b//f",
        "/a/./b/./f",
        "/a/b/../b/f",
        "/../a/b/f",
        "/a/b/../../a/b/f",
        "./a/b/f",
    ] {
        assert_eq!(inum(&t.root, p), Ok(f), "{p}");
    }
    assert_eq!(inum(&t.root, "/"), Ok(ROOTINO));
    assert_eq!(
        inum(&t.root, "/.."),
        Ok(ROOTINO),
        "the root's .. is the root"
    );
    assert_eq!(inum(&t.root, "///"), Ok(ROOTINO));
    assert_eq!(inum(&t.root, "/a/b/"), Ok(b));
    let cwd = t.fs.namei(&t.root, b"/a/b").unwrap();
    assert_eq!(inum(&cwd, "f"), Ok(f));
    assert_eq!(inum(&cwd, ".."), Ok(a));
    assert_eq!(inum(&cwd, "../.."), Ok(ROOTINO));
    assert_eq!(inum(&cwd, "."), Ok(b));
    assert_eq!(inum(&cwd, "/a"), Ok(a), "absolute ignores the cwd");
    drop(cwd);
    t.assert_quiet();
}

#[test]
fn errors() {
    let t = setup();
    let err = |p: &[u8]| t.fs.namei(&t.root, p).unwrap_err();
    assert_eq!(err(b""), ENOENT);
    assert_eq!(err(b"/nope"), ENOENT);
    assert_eq!(err(b"/a/nope/f"), ENOENT);
    assert_eq!(err(b"/a/b/f/g"), ENOTDIR);
    assert_eq!(err(b"/a/b/f/.."), ENOTDIR);
    assert_eq!(err(b"/a/abcdefghijklmnopqrstuvwxyz/f"), ENAMETOOLONG);
    // MAXPATH counts the terminator: MAXPATH - 1 bytes is the longest path.
    let long = |n: usize| {
        let mut p = b"/a/b".to_vec();
        p.resize(n - 1, b'/');
        p.push(b'f');
        p
    };
    assert_eq!(
        t.fs.namei(&t.root, &long(MAXPATH - 1)).map(|ip| ip.inum()),
        t.fs.namei(&t.root, b"/a/b/f").map(|ip| ip.inum())
    );
    assert_eq!(err(&long(MAXPATH)), ENAMETOOLONG);
    assert_eq!(err(&long(MAXPATH + 500)), ENAMETOOLONG);
    t.assert_quiet();
}

#[test]
fn nameiparent_splits_off_the_last_component() {
    let t = setup();
    let split = |p: &[u8]| {
        let (dp, name) = t.fs.nameiparent(&t.root, p).unwrap();
        (dp.inum(), name.as_bytes().to_vec())
    };
    let inum = |p: &[u8]| t.fs.namei(&t.root, p).unwrap().inum();
    assert_eq!(split(b"/a/b/new"), (inum(b"/a/b"), b"new".to_vec()));
    assert_eq!(split(b"a//b//"), (inum(b"/a"), b"b".to_vec()));
    assert_eq!(split(b"top"), (ROOTINO, b"top".to_vec()));
    assert_eq!(
        split(b"/a/b/f"),
        (inum(b"/a/b"), b"f".to_vec()),
        "the last component need not be a directory"
    );
    assert_eq!(t.fs.nameiparent(&t.root, b"/").unwrap_err(), ENOENT);
    assert_eq!(t.fs.nameiparent(&t.root, b"").unwrap_err(), ENOENT);
    assert_eq!(t.fs.nameiparent(&t.root, b"/a/b/f/x").unwrap_err(), ENOTDIR);
    assert_eq!(
        t.fs.nameiparent(&t.root, b"/a/abcdefghijklmnopq")
            .unwrap_err(),
        ENAMETOOLONG
    );
    assert_eq!(t.fs.nameiparent(&t.root, b"/x/y").unwrap_err(), ENOENT);
    t.assert_quiet();
}

#[test]
fn a_walk_rooted_at_a_subdirectory_stays_inside() {
    let t = setup();
    t.put("/a/x", b"x").unwrap();
    t.put("/x", b"outside").unwrap();
    let inum = |p: &str| t.fs.namei(&t.root, p.as_bytes()).unwrap().inum();
    let (a, b, f, ax) = (inum("/a"), inum("/a/b"), inum("/a/b/f"), inum("/a/x"));
    let root = t.fs.namei(&t.root, b"/a").unwrap();
    let sub = t.fs.namei(&t.root, b"/a/b").unwrap();
    {
        let in_view = |cwd: &InodeRef, p: &str| {
            t.fs.namei(At::new(&root, cwd), p.as_bytes())
                .map(|ip| ip.inum())
        };
        assert_eq!(in_view(&root, "/"), Ok(a), "/ is the view's root");
        assert_eq!(in_view(&root, ".."), Ok(a), "the root's .. is the root");
        assert_eq!(in_view(&root, "/.."), Ok(a));
        assert_eq!(in_view(&root, "/../.."), Ok(a));
        assert_eq!(in_view(&root, "../../x"), Ok(ax), "not the host's /x");
        assert_eq!(in_view(&root, "/x"), Ok(ax));
        assert_eq!(in_view(&root, "/b/f"), Ok(f));
        assert_eq!(
            in_view(&root, "/a"),
            Err(ENOENT),
            "the host path is not seen"
        );
        assert_eq!(in_view(&sub, ".."), Ok(a));
        assert_eq!(in_view(&sub, "../.."), Ok(a));
        assert_eq!(in_view(&sub, "../../../x"), Ok(ax));
        assert_eq!(in_view(&sub, "f"), Ok(f));
        assert_eq!(in_view(&sub, "/b/../.."), Ok(a));
        assert_eq!(in_view(&sub, "."), Ok(b));
        let (dp, name) =
            t.fs.nameiparent(At::new(&root, &sub), b"../../new")
                .unwrap();
        assert_eq!((dp.inum(), name.as_bytes()), (a, &b"new"[..]));
        drop(dp);
        t.fs.mkdir(At::new(&root, &sub), b"/../made").unwrap();
        assert!(t.fs.namei(&t.root, b"/a/made").is_ok(), "created inside");
        assert_eq!(t.fs.namei(&t.root, b"/made").unwrap_err(), ENOENT);
    }
    drop((root, sub));
    t.assert_quiet();
}
