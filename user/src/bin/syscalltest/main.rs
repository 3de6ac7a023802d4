//! syscalltest: every system call with hostile arguments. The process must
//! survive all of them and get the documented error each time.
//!
//! Bad pointers (null, kernel half, kernel image, non-canonical, unmapped,
//! above the stack, below the stack, wrapping around the address space,
//! read-only memory for calls that write, ranges running off the end of
//! mapped memory), huge lengths, bad descriptors, unknown call numbers,
//! junk in the upper half of `int` arguments, and each call's documented
//! errors (`ECHILD`, `ESRCH`, `EPERM`, `ENOENT`, `ENOEXEC`, `E2BIG`,
//! `ENAMETOOLONG`, `ENOMEM`, `EINVAL`, `EMFILE`, `ENOSYS`), and a pipe
//! write cut short by its reader. (It runs without a disk; the cases that
//! need files are in usertests' `cabi` module.)
//!
//! Prints `test NAME: ok` or `test NAME: FAILED: why` per test and ends with
//! `N passed, M failed`; exits 0 only if nothing failed. Arguments select
//! tests by name.
#![no_std]
#![no_main]

mod common;
mod cow;
mod exec;
mod fds;
mod memory;
mod misc;
mod pointers;

use ulib::prelude::*;
use ulib::test::{self, Test};

entry!(main);

const TESTS: &[Test] = &[
    Test::new("entry_contract", misc::entry_contract),
    Test::new("unknown_syscall_numbers", misc::unknown_numbers),
    Test::new("int_args_use_low_32_bits", misc::int_args_use_low_32_bits),
    Test::new("bad_fds", fds::bad_fds),
    Test::new("wrong_direction_fds", fds::wrong_direction),
    Test::new("close_twice", fds::close_twice),
    Test::new("dup_and_pipe_emfile", fds::emfile),
    Test::new(
        "closed_files_free_their_memory",
        fds::closed_files_free_their_memory,
    ),
    Test::new(
        "pipe_write_counts_what_went_in",
        fds::pipe_write_counts_what_went_in,
    ),
    Test::new("read_bad_buffers", pointers::read_bad_buffers),
    Test::new("read_huge_lengths", pointers::read_huge_lengths),
    Test::new("write_bad_buffers", pointers::write_bad_buffers),
    Test::new("write_huge_lengths", pointers::write_huge_lengths),
    Test::new("zero_length_io_ignores_pointer", pointers::zero_length),
    Test::new(
        "write_from_read_only_memory",
        pointers::write_from_read_only_memory,
    ),
    Test::new("unaligned_pointers_work", pointers::unaligned),
    Test::new("pipe_bad_pointers", pointers::pipe_bad_pointers),
    Test::new("wait_bad_pointers", pointers::wait_bad_pointers),
    Test::new("fstat_bad_pointers", pointers::fstat_bad_pointers),
    Test::new("ps_bad_pointers", pointers::ps_bad_pointers),
    Test::new("path_bad_pointers", pointers::path_bad_pointers),
    Test::new("open_unknown_flags", misc::open_unknown_flags),
    Test::new("exec_bad_pointers", exec::bad_pointers),
    Test::new("exec_errors", exec::errors),
    Test::new("exec_limits_accepted", exec::limits_accepted),
    Test::new("wait_no_children", misc::wait_no_children),
    Test::new("kill_no_such_process", misc::kill_no_such_process),
    Test::new("kill_zombie", misc::kill_zombie),
    Test::new("kill_init_refused", misc::kill_init_refused),
    Test::new("sleep_negative", misc::sleep_negative),
    Test::new("sbrk_limits", memory::sbrk_limits),
    Test::new("sbrk_past_free_memory", memory::sbrk_past_free_memory),
    Test::new(
        "cow_child_writes_stay_private",
        cow::writes_after_fork_stay_private,
    ),
    Test::new(
        "cow_parent_writes_stay_private",
        cow::parent_writes_stay_private,
    ),
    Test::new("cow_many_children", cow::many_children_share_and_copy),
];

fn main(args: Args) -> i32 {
    test::run(TESTS, args)
}
