//! `usys OUTDIR`: writes `OUTDIR/usys.S` and `OUTDIR/user.h` (see the library).
//!
//! A file whose contents would not change is left alone, so its timestamp
//! only moves when the ABI does and `make` rebuilds the C programs only then.

use std::path::Path;
use std::process::ExitCode;

fn write_if_changed(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(());
    }
    std::fs::write(path, text)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: usys OUTDIR   (writes OUTDIR/usys.S and OUTDIR/user.h)");
        return ExitCode::from(2);
    };
    let dir = Path::new(&dir);
    let calls = berth_usys::calls();
    let result = std::fs::create_dir_all(dir)
        .and_then(|()| write_if_changed(&dir.join("usys.S"), &berth_usys::usys_s(&calls)))
        .and_then(|()| write_if_changed(&dir.join("user.h"), &berth_usys::user_h(&calls)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usys: cannot write to {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
