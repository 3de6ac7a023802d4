//! The readers: what the crash tests use to look at file contents, and
//! the [`Image`] API host tools use.

use super::util::{pattern, sample, BIG_BLOCKS};
use crate::{list_dir, read_file, read_path, Image, ReadError};
use berth_abi::fs::{BSIZE, FSMAGIC, NDIRECT, ROOTINO, T_DEVICE, T_DIR, T_FILE};

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

#[test]
fn image_api_lists_and_reads() {
    let (img, s) = sample();
    let image = Image::open(&img.bytes).unwrap();
    assert_eq!(image.log_replayed(), 0);
    assert_eq!(image.lookup("/").unwrap(), ROOTINO);
    assert_eq!(image.lookup("").unwrap(), ROOTINO);
    assert_eq!(image.lookup("d/f").unwrap(), s.f);
    let root = image.list("/").unwrap();
    let names: Vec<_> = root.iter().map(|e| e.name.as_slice()).collect();
    assert_eq!(
        names,
        [&b"."[..], b"..", b"a", b"two", b"big", b"d", b"console"]
    );
    let big = root.iter().find(|e| e.name == b"big").unwrap();
    assert_eq!(
        (big.inum, big.kind, big.size as usize),
        (s.big, T_FILE, BIG_BLOCKS * BSIZE - 7)
    );
    assert_eq!(root.iter().find(|e| e.name == b"d").unwrap().kind, T_DIR);
    assert_eq!(
        root.iter().find(|e| e.name == b"console").unwrap().kind,
        T_DEVICE
    );
    assert_eq!(
        image.read_file("/big").unwrap(),
        pattern(3, BIG_BLOCKS * BSIZE - 7)
    );
    assert_eq!(image.contents(s.a).unwrap(), pattern(1, 100));
}

#[test]
fn image_api_errors_say_what_is_wrong() {
    let (img, s) = sample();
    let image = Image::open(&img.bytes).unwrap();
    let err = |r: Result<Vec<u8>, ReadError>| r.unwrap_err().to_string();
    assert_eq!(
        err(image.read_file("/d/nope")),
        "/d/nope: no such file or directory"
    );
    assert_eq!(err(image.read_file("/d")), "/d: a directory");
    assert_eq!(
        err(image.read_file("/console")),
        "/console: not a regular file"
    );
    assert_eq!(err(image.read_file("/a/x")), "/a: not a directory");
    assert_eq!(
        image.list("/a").unwrap_err().to_string(),
        "/a: not a directory"
    );
    assert!(matches!(image.inode(u32::MAX), Err(ReadError::Corrupt(_))));

    let mut bad = img.clone();
    bad.bytes[BSIZE..BSIZE + 4].copy_from_slice(&(FSMAGIC + 1).to_le_bytes());
    let e = Image::open(&bad.bytes).err().unwrap();
    assert!(e.to_string().contains("bad magic"), "{e}");
    let e = Image::open(&img.bytes[..5000]).err().unwrap();
    assert!(matches!(e, ReadError::BadImage(_)), "{e}");
    assert!(Image::open(&[]).is_err());

    let mut bad = img.clone();
    bad.edit_inode(s.two, |d| d.addrs[1] = 3);
    let image = Image::open(&bad.bytes).unwrap();
    assert!(matches!(image.read_file("two"), Err(ReadError::Corrupt(_))));
}

#[test]
fn image_api_reads_through_a_committed_log() {
    let (mut img, s) = sample();
    let block = img.inode(s.a).addrs[0];
    let mut new = img.block(block).to_vec();
    new[..5].copy_from_slice(b"after");
    img.commit_log(&[block], &[new]);
    let image = Image::open(&img.bytes).unwrap();
    assert_eq!(image.log_replayed(), 1);
    assert_eq!(&image.read_file("a").unwrap()[..5], b"after");
    assert_ne!(
        &img.block(block)[..5],
        b"after",
        "the bytes are not changed"
    );

    img.commit_log(&[0], &[vec![0; BSIZE]]);
    assert!(matches!(Image::open(&img.bytes), Err(ReadError::BadLog(_))));
}
