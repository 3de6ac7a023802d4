//! exec: a program with arguments, its output read through a pipe; failures return.

use ulib::prelude::*;
use ulib::process;
use ulib::test::{capture, TestResult};
use ulib::{ensure, ensure_eq};

/// echoargs runs with the arguments given, found as `name` and as `/name`.
pub fn echoargs() -> TestResult {
    for path in ["echoargs", "/echoargs"] {
        let (out, status) = capture(|| {
            let e = process::exec(path, &["echoargs", "hello", "two words", ""]);
            ulib::eprintln!("exec {path}: {}", e.description());
            127
        })?;
        ensure_eq!(
            status,
            0,
            "status of echoargs run as {path} (127: exec failed)"
        );
        ensure_eq!(
            String::from_utf8_lossy(&out),
            "argv[0]=echoargs\nargv[1]=hello\nargv[2]=two words\nargv[3]=\n",
            "output of echoargs run as {path}"
        );
    }
    Ok(())
}

/// A failed exec returns its error and the caller carries on unchanged.
pub fn failure_returns() -> TestResult {
    let keep = vec![7u8; 1000];
    let marker = core::hint::black_box(0x5eed_u32);
    let e = process::exec("nosuchprogram", &["nosuchprogram", "arg"]);
    ensure_eq!(e, Errno::ENOENT, "exec of a missing program");
    ensure!(
        marker == 0x5eed && keep.iter().all(|&b| b == 7),
        "the caller's memory changed"
    );
    Ok(())
}
