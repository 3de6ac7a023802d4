//! proctests: processes end to end: fork/wait trees, exit statuses, pipes
//! between processes, sbrk, kill, exec, user faults, many processes at
//! once, yield and the process listing.
//!
//! Prints `test NAME: ok` or `test NAME: FAILED: why` per test and ends with
//! `N passed, M failed`; exits 0 only if nothing failed. Arguments select
//! tests by name. Tests that could hurt the runner (faults, big memory)
//! run in child processes; every test reaps the children it creates.
#![no_std]
#![no_main]

mod exec;
mod faults;
mod kill;
mod memory;
mod pipes;
mod sched;
mod tree;

use ulib::prelude::*;
use ulib::test::{self, Test};

entry!(main);

const TESTS: &[Test] = &[
    Test::new("fork_exit_status", tree::fork_exit_status),
    Test::new("getpid_in_child", tree::getpid_in_child),
    Test::new("wait_null_status", tree::wait_null_status),
    Test::new("wait_without_children", tree::wait_without_children),
    Test::new("fork_tree", tree::fork_tree),
    Test::new("many_children", tree::many_children),
    Test::new("orphan_keeps_running", tree::orphan_keeps_running),
    Test::new("fork_copies_memory", memory::fork_copies_memory),
    Test::new("pipe_ping_pong", pipes::ping_pong),
    Test::new("pipe_eof_after_all_writers", pipes::eof_after_all_writers),
    Test::new("pipe_bulk_transfer", pipes::bulk_transfer),
    Test::new("pipe_chain", pipes::chain),
    Test::new("sbrk_grow_touch_shrink", memory::sbrk_grow_touch_shrink),
    Test::new(
        "sbrk_shrunk_memory_unmapped",
        memory::sbrk_shrunk_memory_unmapped,
    ),
    Test::new("heap_grows", memory::heap_grows),
    Test::new("kill_sleeping_child", kill::sleeping_child),
    Test::new("kill_running_child", kill::running_child),
    Test::new("exec_echoargs", exec::echoargs),
    Test::new("exec_failure_returns", exec::failure_returns),
    Test::new("fault_null_deref", faults::null_deref),
    Test::new("fault_kernel_read", faults::kernel_read),
    Test::new("fault_kernel_jump", faults::kernel_jump),
    Test::new("fault_write_text", faults::write_text),
    Test::new("fault_execute_heap", faults::execute_heap),
    Test::new("fault_execute_stack", faults::execute_stack),
    Test::new("sleep_uptime", sched::sleep_uptime),
    Test::new("yield_cpu", sched::yield_cpu),
    Test::new(
        "ps_lists_self_and_children",
        sched::ps_lists_self_and_children,
    ),
];

fn main(args: Args) -> i32 {
    test::run(TESTS, args)
}
