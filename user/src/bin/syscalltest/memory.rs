//! sbrk's limits: `ENOMEM` past the memory limit or free memory, `EINVAL`
//! below the initial break; a failed sbrk leaves the break where it was.

use ulib::abi::limits::MAX_USER_MEMORY;
use ulib::heap::initial_break;
use ulib::prelude::*;
use ulib::process::sbrk;
use ulib::test::{errno, in_child, TestResult};
use ulib::{ensure, ensure_eq};

use crate::common::PAGE;

pub fn sbrk_limits() -> TestResult {
    let brk = sbrk(0).map_err(errno("sbrk(0)"))? as u64;
    let initial = initial_break() as u64;
    ensure!(
        initial <= brk && initial.is_multiple_of(PAGE),
        "initial break {initial:#x}, current {brk:#x}"
    );
    let below = (brk - initial) as isize + 1;
    let cases: [(&str, isize, Errno); 6] = [
        ("1 << 40", 1 << 40, Errno::ENOMEM),
        ("isize::MAX", isize::MAX, Errno::ENOMEM),
        (
            "past MAX_USER_MEMORY",
            (MAX_USER_MEMORY - brk + PAGE) as isize,
            Errno::ENOMEM,
        ),
        (
            "to just past MAX_USER_MEMORY",
            (MAX_USER_MEMORY - brk + 1) as isize,
            Errno::ENOMEM,
        ),
        ("below the initial break", -below, Errno::EINVAL),
        ("isize::MIN", isize::MIN, Errno::EINVAL),
    ];
    let mut wrong = Vec::new();
    for (name, delta, want) in cases {
        let got = sbrk(delta);
        let now = sbrk(0).map_err(errno("sbrk(0)"))? as u64;
        if got != Err(want) || now != brk {
            wrong.push((name, got, want, now));
        }
    }
    ensure!(
        wrong.is_empty(),
        "{}",
        wrong
            .iter()
            .map(|(n, got, want, now)| format!(
                "sbrk({n}): got {got:?}, want -{want:?}, break {now:#x} (was {brk:#x})"
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Ok(())
}

/// Growing to just below the memory limit needs more memory than the
/// machine has (QEMU runs with less than 2 GiB): `ENOMEM`, the break stays,
/// and the memory taken on the way is given back (a later growth works).
/// On a machine with the memory, the growth must work instead: its first
/// and last pages are touched and it is given back.
pub fn sbrk_past_free_memory() -> TestResult {
    in_child(|| {
        let brk = sbrk(0).map_err(errno("sbrk(0)"))? as u64;
        let n = (MAX_USER_MEMORY - PAGE - brk) as isize;
        match sbrk(n) {
            Err(Errno::ENOMEM) => {
                ensure_eq!(
                    sbrk(0).map_err(errno("sbrk(0)"))? as u64,
                    brk,
                    "break after ENOMEM"
                );
            }
            Ok(p) => {
                // SAFETY: [p, p + n) was just given to us.
                unsafe {
                    p.write_volatile(1);
                    p.add(n as usize - 1).write_volatile(2);
                }
                sbrk(-n).map_err(errno("giving the memory back"))?;
            }
            Err(e) => {
                return Err(format!(
                    "sbrk of {n} bytes: -{e:?}, want -ENOMEM or success"
                ))
            }
        }
        let p = sbrk(4 << 20).map_err(errno("sbrk(4 MiB) after the big one"))?;
        // SAFETY: 4 MiB were just given to us.
        unsafe { p.add((4 << 20) - 1).write_volatile(3) };
        sbrk(-(4 << 20)).map_err(errno("sbrk(-4 MiB)"))?;
        Ok(())
    })
}
