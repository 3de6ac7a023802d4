//! Embeds the user programs found in `$BERTH_USER_DIR` (set by the
//! Makefile) into the kernel image; an unset or missing directory embeds none.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=BERTH_USER_DIR");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("embedded_programs.rs");
    let mut code = String::from("/// (name, ELF image) of each embedded program.\npub static PROGRAMS: &[(&str, &[u8])] = &[\n");
    if let Ok(dir) = std::env::var("BERTH_USER_DIR") {
        println!("cargo:rerun-if-changed={dir}");
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        entries.sort();
        for path in entries {
            println!("cargo:rerun-if-changed={}", path.display());
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            writeln!(
                code,
                "    ({name:?}, include_bytes!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
    }
    code.push_str("];\n");
    std::fs::write(out, code).unwrap();
}
