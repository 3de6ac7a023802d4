//! The readers: what the crash tests use to look at file contents.

use super::util::{pattern, sample, BIG_BLOCKS};
use crate::{list_dir, read_file, read_path};
use berth_abi::fs::{BSIZE, FSMAGIC, NDIRECT};

#[test]
fn files_round_trip() {
    let (img, _) = sample();
    let b = &img.bytes;
    assert_eq!(read_file(b, "a"), Some(pattern(1, 100)));
    assert_eq!(read_file(b, "two"), Some(pattern(2, 2 * BSIZE)));
    assert_eq!(
        read_file(b, "big"),
        Some(pattern(3, BIG_BLOCKS * BSIZE - 7))
    );
    assert_eq!(read_path(b, "/d/f"), Some(pattern(4, 10)));
    assert_eq!(read_path(b, "d/alias"), Some(pattern(1, 100)));
    assert_eq!(read_path(b, "/d/e/../../d/./f"), Some(pattern(4, 10)));
}

#[test]
fn non_files_and_missing_names_read_as_none() {
    let (img, _) = sample();
    let b = &img.bytes;
    assert_eq!(read_file(b, "nothing"), None);
    assert_eq!(read_file(b, "d"), None);
    assert_eq!(read_file(b, "console"), None);
    assert_eq!(
        read_file(b, "d/f"),
        None,
        "read_file looks in the root only"
    );
    assert_eq!(read_path(b, "/a/x"), None);
    assert_eq!(read_path(b, "/"), None);
}

#[test]
fn directories_list() {
    let (img, _) = sample();
    assert_eq!(
        list_dir(&img.bytes, "/").unwrap(),
        ["a", "two", "big", "d", "console"]
    );
    assert_eq!(list_dir(&img.bytes, "/d").unwrap(), ["f", "e", "alias"]);
    assert_eq!(list_dir(&img.bytes, "/d/e").unwrap(), Vec::<String>::new());
    assert_eq!(list_dir(&img.bytes, "/a"), None);
}

#[test]
fn corrupt_images_read_as_none() {
    let (img, s) = sample();
    let mut bad = img.clone();
    bad.bytes[BSIZE..BSIZE + 4].copy_from_slice(&(FSMAGIC + 1).to_le_bytes());
    assert_eq!(read_file(&bad.bytes, "a"), None);
    assert_eq!(read_file(&img.bytes[..5000], "a"), None);

    let mut bad = img.clone();
    bad.edit_inode(s.two, |d| d.addrs[1] = 3);
    assert_eq!(read_file(&bad.bytes, "two"), None);
    assert!(read_file(&bad.bytes, "a").is_some());

    let mut bad = img.clone();
    bad.edit_inode(s.big, |d| d.addrs[NDIRECT] = u32::MAX);
    assert_eq!(read_file(&bad.bytes, "big"), None);
}
