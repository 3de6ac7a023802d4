//! The layer area (inode `LAYERS_INO`): a good one is clean, and each kind
//! of damage to it, or of misuse of its markers elsewhere, is named.
//!
//! mkfs puts nothing in the layer area, so the sample layer is built in an
//! ordinary directory `/stage/c1` and then moved under inode 2 by editing
//! the image: `upper/` holds a new file, two whiteouts (`gone`, `old`) and
//! an opaque directory `o`; `work/` is empty; `wh` is the whiteout marker.

use super::util::{assert_clean, assert_error, Img};
use crate::Problem;
use berth_abi::fs::{DIR_OPAQUE, LAYERS_INO, ROOTINO, T_DIR, T_FILE, T_FREE, WHITEOUT_MAJOR};
use berth_mkfs::Builder;

struct Layer {
    stage: u32,
    c1: u32,
    upper: u32,
    opaque: u32,
    wh: u32,
    host_dir: u32,
}

fn layered() -> (Img, Layer) {
    let mut b = Builder::new(2048, 64).unwrap();
    b.add_file(ROOTINO, b"host", b"host file".to_vec()).unwrap();
    let host_dir = b.mkdir(ROOTINO, b"hd").unwrap();
    let stage = b.mkdir(ROOTINO, b"stage").unwrap();
    let c1 = b.mkdir(stage, b"c1").unwrap();
    let upper = b.mkdir(c1, b"upper").unwrap();
    b.mkdir(c1, b"work").unwrap();
    let wh = b.mknod(c1, b"wh", 0, 0).unwrap();
    b.add_file(upper, b"new", b"added".to_vec()).unwrap();
    b.link(upper, b"gone", wh).unwrap();
    b.link(upper, b"old", wh).unwrap();
    let opaque = b.mkdir(upper, b"o").unwrap();
    let mut img = Img::new(b.finish().unwrap());
    assert_clean(&img.report());

    img.edit_inode(wh, |d| d.major = WHITEOUT_MAJOR);
    img.edit_inode(opaque, |d| d.major = DIR_OPAQUE);
    // Move c1 from /stage to the layer area.
    let slot = img.slot_of(stage, b"c1");
    img.set_dirent(stage, slot, 0, b"");
    img.edit_inode(stage, |d| d.nlink -= 1);
    img.set_dirent(LAYERS_INO, 2, c1, b"c1");
    img.edit_inode(LAYERS_INO, |d| d.nlink += 1);
    img.set_dirent(c1, 1, LAYERS_INO, b"..");
    (
        img,
        Layer {
            stage,
            c1,
            upper,
            opaque,
            wh,
            host_dir,
        },
    )
}

#[test]
fn a_good_layer_area_is_clean() {
    let (img, l) = layered();
    let r = img.report();
    assert_clean(&r);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(img.inode(l.wh).nlink, 3, "wh and two whiteouts");
    assert_eq!(img.inode(LAYERS_INO).nlink, 2);
    // Nothing under the root shows the layer.
    assert_eq!(
        crate::list_dir(&img.bytes, "/").unwrap(),
        ["host", "hd", "stage"]
    );
    assert_eq!(
        crate::list_dir(&img.bytes, "/stage").unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn layer_area_missing_or_not_a_directory() {
    let (mut img, _) = layered();
    img.edit_inode(LAYERS_INO, |d| d.kind = T_FILE);
    let r = img.report();
    assert_error(&r, "layers not a dir", |p| {
        matches!(p, Problem::LayersNotDir { kind: T_FILE })
    });
    // Its contents are not walked, so they are reported unreachable.
    assert_error(&r, "unreachable upper", |p| {
        matches!(p, Problem::Unreachable { .. })
    });

    let (mut img, _) = layered();
    img.edit_inode(LAYERS_INO, |d| *d = Default::default());
    assert_error(&img.report(), "layers free", |p| {
        matches!(p, Problem::LayersNotDir { kind: T_FREE })
    });
}

#[test]
fn layer_area_named_from_the_tree() {
    let (mut img, l) = layered();
    let slot = img.inode(l.host_dir).size as usize / 16;
    img.set_dirent(l.host_dir, slot, LAYERS_INO, b"escape");
    let r = img.report();
    assert_error(
        &r,
        "linked layers",
        |p| matches!(p, Problem::LayersLinked { dir, name } if dir.inum == l.host_dir && name == "escape"),
    );
}

#[test]
fn layer_area_dot_entries_name_itself() {
    let (mut img, _) = layered();
    img.set_dirent(LAYERS_INO, 1, ROOTINO, b"..");
    assert_error(
        &img.report(),
        "bad .. of layers",
        |p| matches!(p, Problem::BadDotDot { dir, found: ROOTINO, expected: LAYERS_INO } if dir.inum == LAYERS_INO && dir.path == "[layers]"),
    );
    let (mut img, _) = layered();
    img.set_dirent(LAYERS_INO, 0, ROOTINO, b".");
    assert_error(
        &img.report(),
        "bad . of layers",
        |p| matches!(p, Problem::BadDot { dir, found: ROOTINO } if dir.inum == LAYERS_INO),
    );
}

#[test]
fn layer_link_counts_are_checked() {
    let (mut img, l) = layered();
    img.edit_inode(l.wh, |d| d.nlink = 1);
    assert_error(
        &img.report(),
        "whiteout nlink",
        |p| matches!(p, Problem::BadLinkCount { inum, nlink: 1, expected: 3, .. } if *inum == l.wh),
    );
    let (mut img, _) = layered();
    img.edit_inode(LAYERS_INO, |d| d.nlink = 1);
    assert_error(&img.report(), "layers nlink", |p| {
        matches!(
            p,
            Problem::BadLinkCount {
                inum: LAYERS_INO,
                nlink: 1,
                expected: 2,
                ..
            }
        )
    });
}

#[test]
fn a_layer_nothing_names_is_unreachable() {
    let (mut img, l) = layered();
    img.set_dirent(LAYERS_INO, 2, 0, b"");
    let r = img.report();
    assert_error(
        &r,
        "c1 unreachable",
        |p| matches!(p, Problem::Unreachable { inum, kind: T_DIR, .. } if *inum == l.c1),
    );
    assert_error(
        &r,
        "upper unreachable",
        |p| matches!(p, Problem::Unreachable { inum, .. } if *inum == l.upper),
    );
}

#[test]
fn whiteouts_outside_the_layer_area() {
    let (mut img, l) = layered();
    let slot = img.inode(ROOTINO).size as usize / 16;
    img.set_dirent(ROOTINO, slot, l.wh, b"forged");
    img.edit_inode(l.wh, |d| d.nlink += 1);
    let r = img.report();
    assert_error(
        &r,
        "stray whiteout",
        |p| matches!(p, Problem::StrayWhiteout { path } if path == "/forged"),
    );
    assert_eq!(r.errors.len(), 1, "{:#?}", r.errors);
}

#[test]
fn directory_flags() {
    let (mut img, l) = layered();
    img.edit_inode(l.host_dir, |d| d.major = DIR_OPAQUE);
    img.edit_inode(l.stage, |d| d.major = 0x40);
    img.edit_inode(l.opaque, |d| d.major = DIR_OPAQUE | 2);
    let r = img.report();
    for (inum, major) in [
        (l.host_dir, DIR_OPAQUE),
        (l.stage, 0x40),
        (l.opaque, DIR_OPAQUE | 2),
    ] {
        assert_error(
            &r,
            "dir flags",
            |p| matches!(p, Problem::BadDirFlags { dir, major: m } if dir.inum == inum && *m == major),
        );
    }
    assert_eq!(r.errors.len(), 3, "{:#?}", r.errors);
}
