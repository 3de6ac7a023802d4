//! ctrprobe: isolation, limits and bad input of the container calls, one
//! named test each (the ulib test runner, as syscalltest), run from the
//! host.
//!
//! Isolation: pids start at 1 inside and ps there lists only the
//! container's processes; `--pid=host`; kill/setpgid/wait across
//! containers (ESRCH/ECHILD); files written in a container are invisible
//! to the host and to another container and gone after destroy;
//! hostnames. Limits: a fork bomb stops at its pids limit with EAGAIN
//! while the host keeps forking; a memory hog stops at its page limit with
//! ENOMEM; a denied call is EPERM and counted; usage returns to zero;
//! counters move. Control: management calls from inside are EPERM; leave
//! needs allow-leave; pause freezes (a counter in a pipe stands still) and
//! resume thaws; destroy of a container whose processes run, sleep, block
//! on pipes or are paused leaves none of them. Bad input: ids -1, 0, 65,
//! 1000, destroyed ids, double destroy, names too long or taken, weights,
//! flags and deny bits out of range, wild pointers, a full table.
//! Hardening: device nodes stay in the layer, the console's foreground stays the
//! host's, the host keeps process slots, open files are capped, view paths
//! are bounded, no forged `ctr diff` lines or hostnames.
//!
//! Prints `test NAME: ok` or `test NAME: FAILED: why` per test and ends
//! with `N passed, M failed`; exits 0 only if nothing failed. Arguments
//! select tests by name. Every test destroys the containers it made.
// No host tests here: `cargo test`/`clippy --all-targets` build an empty crate.
#![cfg(not(test))]
#![no_std]
#![no_main]

mod common;
mod control;
mod hardening;
mod input;
mod isolation;
mod limits;

use ulib::prelude::*;
use ulib::test::{self, Test};

entry!(main);

const TESTS: &[Test] = &[
    Test::new("pids_start_at_1_and_ps_is_private", isolation::pids_and_ps),
    Test::new("pid_host_keeps_host_pids", isolation::pid_host),
    Test::new(
        "kill_wait_setpgid_across_containers",
        isolation::kill_wait_setpgid_across,
    ),
    Test::new("files_isolated", isolation::files_isolated),
    Test::new("hostname_per_container", isolation::hostname_per_container),
    Test::new(
        "fork_bomb_stops_at_pids_limit",
        limits::fork_bomb_stops_at_pids_limit,
    ),
    Test::new(
        "memory_hog_stops_at_page_limit",
        limits::memory_hog_stops_at_page_limit,
    ),
    Test::new(
        "denied_call_is_eperm_and_counted",
        limits::denied_call_is_eperm_and_counted,
    ),
    Test::new("usage_returns_to_zero", limits::usage_returns_to_zero),
    Test::new("counters_move", limits::counters_move),
    Test::new(
        "management_inside_is_eperm",
        control::management_inside_is_eperm,
    ),
    Test::new("leave_needs_allow_leave", control::leave_needs_allow_leave),
    Test::new(
        "join_leave_under_preemption",
        control::join_leave_under_preemption,
    ),
    Test::new(
        "pause_freezes_resume_thaws",
        control::pause_freezes_resume_thaws,
    ),
    Test::new("destroy_running", control::destroy_running),
    Test::new("destroy_paused", control::destroy_paused),
    Test::new("bad_ids", input::bad_ids),
    Test::new("destroyed_ids", input::destroyed_ids),
    Test::new("names_and_ids_taken", input::names_and_ids_taken),
    Test::new("bad_values", input::bad_values),
    Test::new("bad_pointers", input::bad_pointers),
    Test::new("table_full_is_eagain", input::table_full_is_eagain),
    Test::new(
        "device_nodes_stay_in_the_layer",
        hardening::device_nodes_stay_in_the_layer,
    ),
    Test::new(
        "foreground_stays_with_the_host",
        hardening::foreground_stays_with_the_host,
    ),
    Test::new(
        "host_keeps_process_slots",
        hardening::host_keeps_process_slots,
    ),
    Test::new("open_files_are_capped", hardening::open_files_are_capped),
    Test::new("view_paths_are_bounded", hardening::view_paths_are_bounded),
    Test::new(
        "open_dir_outlives_its_name",
        hardening::open_dir_outlives_its_name,
    ),
    Test::new(
        "diff_and_hostname_cannot_forge_output",
        hardening::diff_and_hostname_cannot_forge_output,
    ),
];

fn main(args: Args) -> i32 {
    if ulib::container::getcid() != 0 {
        eprintln!("ctrprobe: run it on the host");
        return 1;
    }
    test::run(TESTS, args)
}
