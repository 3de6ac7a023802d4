//! The shell and the tools, end to end: pipes, redirections, scripts,
//! background jobs, error messages and exit statuses, as a user sees them.

use ulib::abi::fcntl::O_RDONLY;
use ulib::fd;
use ulib::prelude::*;
use ulib::process::{self, Fork};
use ulib::test::TestResult;
use ulib::{ensure, ensure_eq};

use crate::util::{ok, stat, unlink, write_file};

/// Runs `/sh -c line` (or `/sh` with `stdin` as its input file) with fds 1
/// and 2 both going into one pipe; returns everything written and the status.
fn sh(line: Option<&str>, stdin: Option<&str>) -> Result<(String, i32), String> {
    let (r, w) = ok("pipe", fd::pipe())?;
    let pid = match process::fork() {
        Ok(Fork::Child) => {
            let _ = fd::close(r);
            let redirected = fd::redirect(w, fd::STDOUT).and_then(|()| fd::redirect(w, fd::STDERR));
            let _ = fd::close(w);
            if redirected.is_err() {
                process::exit(125);
            }
            if let Some(path) = stdin {
                match fd::open(path, O_RDONLY) {
                    Ok(f) => {
                        let _ = fd::redirect(f, fd::STDIN);
                        let _ = fd::close(f);
                    }
                    Err(_) => process::exit(125),
                }
            }
            let e = match line {
                Some(l) => process::exec("/sh", &["sh", "-c", l]),
                None => process::exec("/sh", &["sh"]),
            };
            ulib::eprintln!("exec /sh: {}", e.description());
            process::exit(126)
        }
        Ok(Fork::Parent(pid)) => pid,
        Err(e) => return Err(format!("fork: {e:?}")),
    };
    let _ = fd::close(w);
    let mut out = Vec::new();
    let read = fd::read_to_end(r, &mut out);
    let _ = fd::close(r);
    let (p, status) = ok("wait", process::wait())?;
    ensure_eq!(p, pid, "pid from wait");
    ok("read the output", read)?;
    Ok((String::from_utf8_lossy(&out).into_owned(), status))
}

/// `sh -c line` must print exactly `want` and exit with `status`.
fn expect(line: &str, want: &str, status: i32) -> TestResult {
    let (out, s) = sh(Some(line), None)?;
    ensure_eq!(out, want, "output of sh -c {line:?}");
    ensure_eq!(s, status, "status of sh -c {line:?}");
    Ok(())
}

/// Pipelines of several stages, `<`, `>`, `>>`, `;` and groups.
pub fn sh_pipes_redirects() -> TestResult {
    expect("echo hello world | wc", "1 2 12\n", 0)?;
    expect("echo a | cat | cat | cat | cat | wc", "1 1 2\n", 0)?;
    expect(
        "echo one > o; echo two >> o; cat o; cat < o | grep w; rm o",
        "one\ntwo\ntwo\n",
        0,
    )?;
    expect("echo x > o > p; cat o p; rm o p", "x\n", 0)?;
    expect(
        "(echo a; echo b) | wc; (mkdir g; cd g; echo in > f); cat g/f; rm g/f g",
        "2 2 4\nin\n",
        0,
    )?;
    expect(
        "echo 'quoted | not a pipe'  \"and;this\"",
        "quoted | not a pipe and;this\n",
        0,
    )?;
    expect("exit 7; echo not reached", "", 7)
}

/// Error messages and statuses of the shell.
pub fn sh_errors() -> TestResult {
    expect("nosuchcmd arg", "sh: nosuchcmd: command not found\n", 127)?;
    expect("./nosuch", "sh: ./nosuch: no such file or directory\n", 127)?;
    expect(
        "echo a |",
        "sh: syntax error: missing command after '|'\n",
        2,
    )?;
    expect("echo a; | echo b", "sh: syntax error: unexpected '|'\n", 2)?;
    expect("(echo a", "sh: syntax error: missing ')'\n", 2)?;
    expect(
        "echo a >",
        "sh: syntax error: missing file name after '>'\n",
        2,
    )?;
    expect(
        "cat < missing; echo after",
        "sh: cannot open missing: no such file or directory\nafter\n",
        0,
    )?;
    expect(
        "echo x > nodir/f",
        "sh: cannot open nodir/f: no such file or directory\n",
        1,
    )?;
    expect(
        "cd missing",
        "sh: cd: missing: no such file or directory\n",
        1,
    )?;
    expect("/", "sh: /: permission denied\n", 126)
}

/// `sh < script`: no prompt, each line run in order, cd sticks, exit 0 at end of input.
pub fn sh_script() -> TestResult {
    write_file(
        "script",
        b"mkdir sd\ncd sd\necho in sd > f\ncat f\ncd ..\nrm sd/f sd\nnosuch\necho done",
    )?;
    let (out, status) = sh(None, Some("script"))?;
    ensure_eq!(
        out,
        "in sd\nsh: nosuch: command not found\ndone\n",
        "output of the script"
    );
    ensure_eq!(status, 0, "status at end of input");
    unlink("script")
}

/// `&` returns at once; the job runs on and nobody waits for it in the shell.
pub fn sh_background() -> TestResult {
    let t0 = process::uptime();
    expect("sleep 20 & echo started", "started\n", 0)?;
    // The output pipe closes only when the background sleep has exited too.
    ensure!(
        process::uptime() - t0 >= 20,
        "the background job did not run"
    );
    expect("echo bg > bgf & sleep 10; cat bgf; rm bgf", "bg\n", 0)
}

/// The tools' output formats and error messages.
pub fn tools() -> TestResult {
    write_file("t", b"x\ny\nxy\n")?;
    let ino = stat("t")?.ino;
    expect("echo a  b   c", "a b c\n", 0)?;
    expect("echo", "\n", 0)?;
    expect("cat t t | wc", "6 6 14\n", 0)?;
    expect("wc t t", "3 3 7 t\n3 3 7 t\n6 6 14 total\n", 0)?;
    expect("grep x t", "x\nxy\n", 0)?;
    expect("grep ^y t; grep 'y$' t", "y\ny\nxy\n", 0)?;
    expect("grep x. t t", "t:xy\nt:xy\n", 0)?;
    expect("grep z t", "", 1)?;
    expect("ls t", &format!("t              2 {ino} 7\n"), 0)?;
    let (out, status) = sh(Some("mkdir d; ls d; rm d"), None)?;
    ensure_eq!(status, 0, "status of ls of an empty directory");
    let lines: Vec<&str> = out.lines().collect();
    ensure!(
        lines.len() == 2
            && lines[0].starts_with(".              1 ")
            && lines[1].starts_with("..             1 "),
        "ls of an empty directory: {out:?}"
    );
    ensure!(
        lines[0].ends_with(" 32"),
        "size of an empty directory in ls: {out:?}"
    );
    expect("ln t u; cat u; rm u", "x\ny\nxy\n", 0)?;
    expect(
        "cat missing t",
        "cat: missing: no such file or directory\nx\ny\nxy\n",
        1,
    )?;
    expect("rm missing", "rm: missing: no such file or directory\n", 1)?;
    expect("mkdir t", "mkdir: t: file exists\n", 1)?;
    expect("ln t t", "ln: t: file exists\n", 1)?;
    expect(
        "ln missing v",
        "ln: missing: no such file or directory\n",
        1,
    )?;
    expect("kill abc", "kill: abc: invalid argument\n", 1)?;
    expect("kill", "usage: kill pid...\n", 2)?;
    expect("rm", "usage: rm file...\n", 2)?;
    expect("mkdir", "usage: mkdir dir...\n", 2)?;
    expect("sleep x", "sleep: x: invalid argument\n", 1)?;
    expect("wc missing", "wc: missing: no such file or directory\n", 1)?;
    expect(
        "grep x missing",
        "grep: missing: no such file or directory\n",
        2,
    )?;
    expect("ls missing", "ls: missing: no such file or directory\n", 1)?;
    let (out, status) = sh(Some("ps"), None)?;
    ensure_eq!(status, 0, "status of ps");
    ensure!(
        out.starts_with("  PID  PPID CTR STATE  CPU    MEM  VPID NAME\n"),
        "ps header: {out:?}"
    );
    ensure!(
        out.lines()
            .any(|l| l.ends_with(" ps") && l.contains(" run ")),
        "ps lists itself running: {out:?}"
    );
    unlink("t")
}
