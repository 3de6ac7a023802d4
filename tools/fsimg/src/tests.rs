//! Images built in memory with the mkfs library: every file `get` returns
//! must be byte-for-byte what went in (direct, indirect and doubly-indirect
//! blocks), and `ls` must list each entry with its type, inode and size.

use crate::{get, kind_name, ls, output_path};
use berth_abi::fs::{BSIZE, FSMAGIC, NDIRECT, NINDIRECT, ROOTINO, WHITEOUT_MAJOR};
use std::path::PathBuf;

pub(crate) fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 10) as u8)
        .collect()
}

/// `/hello`, `/big` (300 KiB: past the direct and the indirect blocks),
/// `/empty`, `/sub/nested`, `/sub/deeper/leaf` and the device `/console`;
/// returns the image and the inode numbers of big and sub.
fn sample() -> (Vec<u8>, u32, u32) {
    let mut b = berth_mkfs::Builder::new(2048, 64).unwrap();
    b.add_file(ROOTINO, b"hello", b"hello, berth\n".to_vec())
        .unwrap();
    let big = b.add_file(ROOTINO, b"big", pattern(7, 300 * 1024)).unwrap();
    b.add_file(ROOTINO, b"empty", Vec::new()).unwrap();
    let sub = b.mkdir(ROOTINO, b"sub").unwrap();
    b.add_file(sub, b"nested", pattern(9, 5000)).unwrap();
    let deeper = b.mkdir(sub, b"deeper").unwrap();
    b.add_file(deeper, b"leaf", pattern(11, 3 * BSIZE)).unwrap();
    b.mknod(ROOTINO, b"console", 1, 0).unwrap();
    (b.finish().unwrap(), big, sub)
}

// The 300 KiB file reaches past the direct and indirect blocks.
const _: () = assert!(300 * 1024 / BSIZE > NDIRECT + NINDIRECT);

#[test]
fn get_returns_every_file_byte_for_byte() {
    let (img, _, _) = sample();
    let read = |p: &str| get(&img, p).unwrap().0;
    assert_eq!(read("/hello"), b"hello, berth\n");
    assert_eq!(read("hello"), b"hello, berth\n");
    assert_eq!(read("/big"), pattern(7, 300 * 1024));
    assert_eq!(read("/empty"), b"");
    assert_eq!(read("/sub/nested"), pattern(9, 5000));
    assert_eq!(read("sub/deeper/leaf"), pattern(11, 3 * BSIZE));
    assert_eq!(read("/sub/deeper/../nested"), pattern(9, 5000));
    assert_eq!(get(&img, "/big").unwrap().1, 0, "no log to replay");
}

#[test]
fn ls_lists_names_types_inodes_and_sizes() {
    let (img, big, sub) = sample();
    let (text, _) = ls(&img, "/").unwrap();
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines[0], ["NAME", "TYPE", "INODE", "SIZE"]);
    let names: Vec<&str> = lines[1..].iter().map(|l| l[0]).collect();
    assert_eq!(
        names,
        [".", "..", "hello", "big", "empty", "sub", "console"]
    );
    let line = |name: &str| lines.iter().find(|l| l[0] == name).unwrap().clone();
    assert_eq!(line("big"), ["big", "file", &big.to_string(), "307200"]);
    assert_eq!(line("hello")[1], "file");
    assert_eq!(line("hello")[3], "13");
    assert_eq!(line("sub")[..3], ["sub", "dir", &sub.to_string()]);
    assert_eq!(line("console")[1], "device");
    assert_eq!(line(".")[2], ROOTINO.to_string());

    let (text, _) = ls(&img, "/sub").unwrap();
    let names: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(names, [".", "..", "nested", "deeper"]);
    assert_eq!(ls(&img, "sub/").unwrap().0, text);

    // A file lists just its own entry.
    let (text, _) = ls(&img, "/sub/nested").unwrap();
    assert_eq!(text.lines().count(), 2);
    assert!(
        text.lines().nth(1).unwrap().starts_with("nested "),
        "{text}"
    );
}

#[test]
fn errors_are_messages() {
    let (img, _, _) = sample();
    let get_err = |p: &str| get(&img, p).unwrap_err();
    assert_eq!(get_err("/nope"), "/nope: no such file or directory");
    assert_eq!(
        get_err("/sub/deeper/nope"),
        "/sub/deeper/nope: no such file or directory"
    );
    assert_eq!(get_err("/sub"), "/sub: a directory");
    assert_eq!(get_err("/"), "/: a directory");
    assert_eq!(get_err("/console"), "/console: not a regular file");
    assert_eq!(get_err("/hello/x"), "/hello: not a directory");
    assert_eq!(
        ls(&img, "/nope").unwrap_err(),
        "/nope: no such file or directory"
    );

    let truncated = &img[..img.len() / 2];
    assert!(get(truncated, "/hello")
        .unwrap_err()
        .contains("superblock says 2048 blocks"));
    assert!(ls(&img[..100], "/").unwrap_err().contains("too small"));
    let mut random = vec![0u8; 64 * BSIZE];
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    for b in random.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    assert!(ls(&random, "/").unwrap_err().contains("bad magic"));
    // Garbage behind a good magic number: still an error, not a panic.
    random[BSIZE..BSIZE + 4].copy_from_slice(&FSMAGIC.to_le_bytes());
    assert!(get(&random, "/x").is_err());
}

#[test]
fn reads_through_a_committed_log() {
    let (mut img, _, _) = sample();
    let sb = berth_abi::fs::SuperBlock::from_bytes(&img[BSIZE..]).unwrap();
    // Find hello's data block: the one holding its contents.
    let needle = b"hello, berth\n";
    let block = (sb.data_start() as usize..sb.size as usize)
        .find(|&b| img[b * BSIZE..].starts_with(needle))
        .unwrap();
    let mut logged = img[block * BSIZE..(block + 1) * BSIZE].to_vec();
    logged[..5].copy_from_slice(b"HELLO");
    let log = sb.logstart as usize * BSIZE;
    img[log..log + 4].copy_from_slice(&1u32.to_le_bytes());
    img[log + 4..log + 8].copy_from_slice(&(block as u32).to_le_bytes());
    img[log + BSIZE..log + 2 * BSIZE].copy_from_slice(&logged);
    assert_eq!(
        get(&img, "/hello").unwrap(),
        (b"HELLO, berth\n".to_vec(), 1)
    );
}

#[test]
fn output_paths() {
    let p = |path: &str, o: Option<&str>| output_path(path, o.map(PathBuf::from).as_ref());
    assert_eq!(p("/sub/nested", None), Ok(Some(PathBuf::from("nested"))));
    assert_eq!(p("big/", None), Ok(Some(PathBuf::from("big"))));
    assert_eq!(p("/big", Some("x/y")), Ok(Some(PathBuf::from("x/y"))));
    assert_eq!(p("/big", Some("-")), Ok(None));
    assert!(p("/", None).is_err());
    assert!(p("/sub/..", None).is_err());
}

#[test]
fn kind_names() {
    assert_eq!(
        kind_name(berth_abi::fs::T_DEVICE, WHITEOUT_MAJOR),
        "whiteout"
    );
    assert_eq!(kind_name(9, 0), "type 9");
}

mod cli {
    use crate::{Cli, Command};
    use clap::error::ErrorKind;
    use clap::Parser;
    use std::path::PathBuf;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("fsimg").chain(args.iter().copied()))
    }

    #[test]
    fn command_lines() {
        let ls = |image: &str, path: &str| Command::Ls {
            image: image.into(),
            path: path.into(),
        };
        assert_eq!(parse(&["ls", "fs.img"]).unwrap().command, ls("fs.img", "/"));
        assert_eq!(
            parse(&["ls", "fs.img", "/sub"]).unwrap().command,
            ls("fs.img", "/sub")
        );
        let get = parse(&["get", "fs.img", "/big", "-o", "-"])
            .unwrap()
            .command;
        assert_eq!(
            get,
            Command::Get {
                image: "fs.img".into(),
                path: "/big".into(),
                output: Some(PathBuf::from("-")),
            }
        );
        assert_eq!(get.image(), &PathBuf::from("fs.img"));
        let Command::Get { output, .. } = parse(&["get", "--output=out", "fs.img", "/big"])
            .unwrap()
            .command
        else {
            panic!()
        };
        assert_eq!(output, Some(PathBuf::from("out")));
    }

    #[test]
    fn usage_errors() {
        let kind = |args: &[&str]| parse(args).unwrap_err().kind();
        assert_eq!(
            kind(&[]),
            ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        );
        assert_eq!(kind(&["cat", "fs.img"]), ErrorKind::InvalidSubcommand);
        assert_eq!(kind(&["ls"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(kind(&["get", "fs.img"]), ErrorKind::MissingRequiredArgument);
        assert_eq!(
            kind(&["get", "fs.img", "/a", "--bogus"]),
            ErrorKind::UnknownArgument
        );
        assert_eq!(kind(&["ls", "a", "b", "c"]), ErrorKind::UnknownArgument);
        assert_eq!(kind(&["--help"]), ErrorKind::DisplayHelp);
        assert_eq!(kind(&["--version"]), ErrorKind::DisplayVersion);
        assert_eq!(parse(&["get", "--bogus"]).unwrap_err().exit_code(), 2);
    }
}
