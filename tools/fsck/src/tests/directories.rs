//! Directory structure, reachability and link-count damage.

use super::util::{assert_clean, assert_error, sample, NINODES};
use crate::Problem;
use berth_abi::fs::{ROOTINO, T_FREE};

#[test]
fn wrong_link_count_on_a_file() {
    let (mut img, s) = sample();
    // `a` has two names (`/a` and `/d/alias`).
    assert_eq!(img.inode(s.a).nlink, 2);
    img.edit_inode(s.a, |d| d.nlink = 1);
    let r = img.report();
    assert_error(
        &r,
        "bad nlink",
        |p| matches!(p, Problem::BadLinkCount { inum, nlink: 1, expected: 2, .. } if *inum == s.a),
    );
    assert_eq!(r.errors.len(), 1);
}

#[test]
fn wrong_link_count_on_directories() {
    let (mut img, s) = sample();
    // Root: 1 + its subdirectory d; d: its entry + its subdirectory e; e: its entry.
    assert_eq!(img.inode(ROOTINO).nlink, 2);
    assert_eq!(img.inode(s.d).nlink, 2);
    assert_eq!(img.inode(s.e).nlink, 1);
    img.edit_inode(ROOTINO, |d| d.nlink = 3);
    img.edit_inode(s.e, |d| d.nlink = 2);
    let r = img.report();
    assert_error(&r, "root nlink", |p| {
        matches!(
            p,
            Problem::BadLinkCount {
                inum: ROOTINO,
                nlink: 3,
                expected: 2,
                ..
            }
        )
    });
    assert_error(
        &r,
        "e nlink",
        |p| matches!(p, Problem::BadLinkCount { inum, path, expected: 1, .. } if *inum == s.e && path == "/d/e"),
    );
}

#[test]
fn entry_naming_a_free_inode() {
    let (mut img, s) = sample();
    img.edit_inode(s.f, |d| *d = berth_abi::fs::Dinode::default());
    let r = img.report();
    assert_error(
        &r,
        "dangling",
        |p| matches!(p, Problem::Dangling { dir, name, inum } if dir.inum == s.d && name == "f" && *inum == s.f),
    );

    let (mut img, _) = sample();
    let unused = NINODES - 1;
    assert_eq!(img.inode(unused).kind, T_FREE);
    let slot = img.inode(ROOTINO).size as usize / 16;
    img.set_dirent(ROOTINO, slot, unused, b"ghost");
    assert_error(
        &img.report(),
        "dangling ghost",
        |p| matches!(p, Problem::Dangling { inum, .. } if *inum == unused),
    );
}

#[test]
fn entry_naming_an_inode_past_the_table() {
    let (mut img, _) = sample();
    let slot = img.inode(ROOTINO).size as usize / 16;
    img.set_dirent(ROOTINO, slot, NINODES + 5, b"far");
    assert_error(&img.report(), "out of range", |p| {
        matches!(p, Problem::EntryOutOfRange { .. })
    });
}

#[test]
fn bad_dotdot() {
    let (mut img, s) = sample();
    // e's `..` should be d.
    img.set_dirent(s.e, 1, ROOTINO, b"..");
    let r = img.report();
    assert_error(
        &r,
        "bad ..",
        |p| matches!(p, Problem::BadDotDot { dir, found: ROOTINO, expected } if dir.inum == s.e && *expected == s.d),
    );
}

#[test]
fn bad_or_missing_dot() {
    let (mut img, s) = sample();
    img.set_dirent(s.d, 0, s.e, b".");
    assert_error(
        &img.report(),
        "bad .",
        |p| matches!(p, Problem::BadDot { dir, found } if dir.inum == s.d && *found == s.e),
    );

    let (mut img, s) = sample();
    img.set_dirent(s.d, 0, 0, b"");
    assert_error(
        &img.report(),
        "missing .",
        |p| matches!(p, Problem::MissingDot { dir } if dir.inum == s.d),
    );

    let (mut img, s) = sample();
    img.set_dirent(s.d, 1, s.d, b"x");
    assert_error(
        &img.report(),
        "missing ..",
        |p| matches!(p, Problem::MissingDotDot { dir } if dir.inum == s.d),
    );
}

#[test]
fn stray_dot_entry() {
    let (mut img, s) = sample();
    let slot = img.slot_of(s.d, b"alias");
    img.set_dirent(s.d, slot, s.d, b".");
    let r = img.report();
    assert_error(
        &r,
        "stray .",
        |p| matches!(p, Problem::StrayDot { dir, .. } if dir.inum == s.d),
    );
}

#[test]
fn directory_loop() {
    let (mut img, s) = sample();
    // /d/e/up names /d: a cycle d -> e -> d.
    img.set_dirent(s.e, 2, s.d, b"up");
    let r = img.report();
    assert_error(
        &r,
        "loop",
        |p| matches!(p, Problem::DirReachableTwice { inum, first, second } if *inum == s.d && first == "/d" && second == "/d/e/up"),
    );

    let (mut img, s) = sample();
    // An entry naming the root from below.
    img.set_dirent(s.e, 2, ROOTINO, b"root");
    assert_error(&img.report(), "loop to root", |p| {
        matches!(p, Problem::DirReachableTwice { inum: ROOTINO, .. })
    });
}

#[test]
fn hard_link_to_directory() {
    let (mut img, s) = sample();
    let slot = img.inode(ROOTINO).size as usize / 16;
    img.set_dirent(ROOTINO, slot, s.e, b"e2");
    let r = img.report();
    assert_error(
        &r,
        "dir hard link",
        |p| matches!(p, Problem::DirReachableTwice { inum, first, second } if *inum == s.e && first == "/d/e" && second == "/e2"),
    );
    // The extra name is the one e's `..` disowns, even though the walk met
    // it first: no bogus `..` or link-count reports follow.
    assert_eq!(r.errors.len(), 1, "{:#?}", r.errors);
}

#[test]
fn root_dotdot_must_be_root() {
    let (mut img, s) = sample();
    img.set_dirent(ROOTINO, 1, s.d, b"..");
    let r = img.report();
    assert_error(
        &r,
        "root ..",
        |p| matches!(p, Problem::BadDotDot { dir, found, expected: ROOTINO } if dir.inum == ROOTINO && *found == s.d),
    );
}

#[test]
fn bad_names() {
    let (mut img, s) = sample();
    let slot = img.slot_of(s.d, b"f");
    img.set_dirent(s.d, slot, s.f, b"f\0junk");
    assert_error(&img.report(), "unpadded", |p| {
        matches!(
            p,
            Problem::BadName {
                reason: "not NUL-padded",
                ..
            }
        )
    });

    let (mut img, s) = sample();
    let slot = img.slot_of(s.d, b"f");
    img.set_dirent(s.d, slot, s.f, b"");
    assert_error(&img.report(), "empty", |p| {
        matches!(
            p,
            Problem::BadName {
                reason: "empty",
                ..
            }
        )
    });

    let (mut img, s) = sample();
    let slot = img.slot_of(s.d, b"f");
    img.set_dirent(s.d, slot, s.f, b"x/y");
    assert_error(&img.report(), "slash", |p| {
        matches!(
            p,
            Problem::BadName {
                reason: "contains '/'",
                ..
            }
        )
    });
}

#[test]
fn duplicate_name() {
    let (mut img, s) = sample();
    let slot = img.slot_of(s.d, b"alias");
    img.set_dirent(s.d, slot, s.a, b"f");
    assert_error(
        &img.report(),
        "dup name",
        |p| matches!(p, Problem::DuplicateName { name, .. } if name == "f"),
    );
}

#[test]
fn orphan_is_a_warning() {
    // An open file unlinked just before the crash: nlink 0, no name, blocks still held.
    let (mut img, s) = sample();
    let slot = img.slot_of(s.d, b"f");
    img.set_dirent(s.d, slot, 0, b"");
    img.edit_inode(s.f, |d| d.nlink = 0);
    let r = img.report();
    assert_clean(&r);
    assert!(
        matches!(&r.warnings[..], [Problem::Orphan { inum, .. }] if *inum == s.f),
        "{:?}",
        r.warnings
    );
    assert!(r.warnings[0]
        .to_string()
        .contains("the kernel frees it at mount"));
}

#[test]
fn unreachable_inode_is_an_error() {
    let (mut img, s) = sample();
    let slot = img.slot_of(s.d, b"f");
    img.set_dirent(s.d, slot, 0, b"");
    let r = img.report();
    assert_error(
        &r,
        "unreachable",
        |p| matches!(p, Problem::Unreachable { inum, nlink: 1, .. } if *inum == s.f),
    );
}

#[test]
fn removed_subdirectory_changes_parent_count() {
    // Unlinking /d/e by hand without fixing d's nlink: d still claims e's `..`.
    let (mut img, s) = sample();
    let slot = img.slot_of(s.d, b"e");
    img.set_dirent(s.d, slot, 0, b"");
    img.edit_inode(s.e, |d| d.nlink = 0);
    let r = img.report();
    assert_error(
        &r,
        "parent nlink",
        |p| matches!(p, Problem::BadLinkCount { inum, nlink: 2, expected: 1, .. } if *inum == s.d),
    );
    assert!(r
        .warnings
        .iter()
        .any(|w| matches!(w, Problem::Orphan { inum, .. } if *inum == s.e)));
}
