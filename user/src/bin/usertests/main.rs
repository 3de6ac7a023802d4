//! usertests: berth's version of xv6's usertests, in Rust.
//!
//! `usertests [NAME...]` runs the named tests (all when none), in table
//! order. Each runs in its own child process, in an empty scratch
//! directory (`/usertests.tmp`) that must be empty again afterwards (see
//! `harness`), so a test that crashes or leaves files behind fails alone.
//! Output: `test NAME: ok` or `test NAME: FAILED: why` per test, then
//! exactly `N passed, M failed`; the exit status is 0 only if M is 0. An
//! unknown NAME counts as a failed test. The slow tests (`disk_full`,
//! `inodes_full`: ENOSPC for blocks and inodes) run only when named.
//!
//! The tests are grouped by subject, one module each: `files`, `bigfiles`,
//! `dirs`, `pointers` (bad addresses and descriptors), `limits`, `procs`,
//! `memory`, `concurrent`, `shell` (the shell and tools end to end),
//! `cabi` (what C callers pass that the Rust wrappers never do), `slow`.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

mod bigfiles;
mod cabi;
mod concurrent;
mod dirs;
mod files;
mod harness;
mod limits;
mod memory;
mod pointers;
mod procs;
mod shell;
mod slow;
mod util;

use ulib::prelude::*;
use ulib::test::{self, Test};

entry!(main);

/// The table: `name: function`, each wrapped to run isolated.
macro_rules! tests {
    ($($name:ident: $f:path,)*) => {
        &[$(Test { name: stringify!($name), run: || harness::isolated($f) },)*]
    };
}

const TESTS: &[Test] = tests! {
    // Bad pointers and descriptors first: the kernel's guards.
    copyin: pointers::copyin,
    copyout: pointers::copyout,
    copyinstr: pointers::copyinstr,
    result_pointers: pointers::result_pointers,
    exec_bad_argv: pointers::exec_bad_argv,
    bad_descriptors: pointers::bad_descriptors,
    // Files.
    open_read_write_close: files::open_read_write_close,
    small_file: files::small_file,
    fstat_fields: files::fstat_fields,
    truncate: files::truncate,
    append: files::append,
    access_modes: files::access_modes,
    directory_writes: files::directory_writes,
    unlink_open_file: files::unlink_open_file,
    shared_offsets: files::shared_offsets,
    fd_exhaustion: limits::fd_exhaustion,
    // Sizes and counts.
    big_file: bigfiles::big_file,
    block_boundaries: bigfiles::block_boundaries,
    many_files: bigfiles::many_files,
    big_dir: bigfiles::big_dir,
    fourteen: bigfiles::fourteen,
    // Directories and paths.
    mkdir_nested: dirs::mkdir_nested,
    directory_links: dirs::directory_links,
    rmdir_rules: dirs::rmdir_rules,
    dot_dot: dirs::dot_dot,
    chdir_relative: dirs::chdir_relative,
    not_a_directory: dirs::not_a_directory,
    missing_paths: dirs::missing_paths,
    long_names: dirs::long_names,
    already_exists: dirs::already_exists,
    link_unlink: dirs::link_unlink,
    device_files: dirs::device_files,
    // Processes.
    fork_exit_wait: procs::fork_exit_wait,
    exit_wait_loop: procs::exit_wait_loop,
    reparent: procs::reparent,
    fork_fork: procs::fork_fork,
    exec_args: procs::exec_args,
    exec_errors: procs::exec_errors,
    open_flags_low_32_bits: cabi::open_flags_low_32_bits,
    non_utf8_names_and_args: cabi::non_utf8_names_and_args,
    pipe_transfer: procs::pipe_transfer,
    pipe_broken: procs::pipe_broken,
    kill_status: procs::kill_status,
    kill_pipe_reader: procs::kill_pipe_reader,
    kill_races_sleep: procs::kill_races_sleep,
    sleep_uptime: procs::sleep_uptime,
    exit_closes_files: procs::exit_closes_files,
    inode_refs: procs::inode_refs,
    // Memory.
    sbrk_basic: memory::sbrk_basic,
    sbrk_much: memory::sbrk_much,
    sbrk_invalid: memory::sbrk_invalid,
    kernel_memory: memory::kernel_memory,
    // Concurrency.
    four_files: concurrent::four_files,
    create_delete: concurrent::create_delete,
    concreate: concurrent::concreate,
    link_unlink_race: concurrent::link_unlink_race,
    shared_fd: concurrent::shared_fd,
    // The shell and the tools.
    sh_pipes_redirects: shell::sh_pipes_redirects,
    sh_errors: shell::sh_errors,
    sh_script: shell::sh_script,
    sh_background: shell::sh_background,
    tools: shell::tools,
};

/// Tests run only when named: each takes longer than all of `TESTS`.
const SLOW: &[Test] = tests! {
    disk_full: slow::disk_full,
    inodes_full: slow::inodes_full,
    pipe_bomb: limits::pipe_bomb,
};

fn main(args: Args) -> i32 {
    if let Err(why) = harness::prepare() {
        println!("usertests: {why}");
        println!("0 passed, 1 failed");
        return 1;
    }
    // With names, any test may be chosen; without, the slow ones are left out.
    let status = if args.len() > 1 {
        let all: Vec<Test> = TESTS.iter().chain(SLOW).copied().collect();
        test::run(&all, args)
    } else {
        test::run(TESTS, args)
    };
    harness::finish();
    status
}
