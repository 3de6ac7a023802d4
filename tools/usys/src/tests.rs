//! The generated text, checked against the table, plus a C compiler's view of it.

use super::*;

fn call(nr: usize, name: &'static str, args: &[(&'static str, &'static str)]) -> Call {
    Call {
        nr,
        name,
        args: args.to_vec(),
        ret: "long",
    }
}

#[test]
fn the_table_is_complete_and_typed() {
    let calls = calls();
    assert_eq!(calls.len(), berth_abi::syscall::TABLE.len());
    for (c, (nr, name, argc)) in calls.iter().zip(berth_abi::syscall::TABLE) {
        assert_eq!((c.nr, c.name, c.args.len()), (*nr, *name, *argc));
        assert_eq!(c.ret, "long");
    }
}

#[test]
fn every_call_gets_a_stub_with_its_number() {
    let calls = calls();
    let s = usys_s(&calls);
    for c in &calls {
        let stub = format!("{0}:\n    mov ${1}, %eax\n", c.name, c.nr);
        assert!(s.contains(&stub), "missing stub for {}:\n{s}", c.name);
        assert!(s.contains(&format!(".globl {}\n", c.name)));
    }
    assert_eq!(
        s.matches("syscall\n    ret\n").count(),
        calls.len() + 1,
        "one per call, plus syscall()"
    );
}

#[test]
fn the_fourth_argument_moves_from_rcx_to_r10() {
    let three = call(90, "three", &[("a", "long"), ("b", "long"), ("c", "long")]);
    let five = call(
        91,
        "five",
        &[
            ("a", "long"),
            ("b", "long"),
            ("c", "long"),
            ("d", "long"),
            ("e", "long"),
        ],
    );
    let s = usys_s(&[three, five]);
    assert!(s.contains("three:\n    mov $90, %eax\n    syscall\n"));
    assert!(s.contains("five:\n    mov $91, %eax\n    mov %rcx, %r10\n    syscall\n"));
}

#[test]
fn prototypes_use_c_types() {
    let calls = calls();
    let proto = |name: &str| prototype(calls.iter().find(|c| c.name == name).unwrap());
    assert_eq!(proto("fork"), "long fork(void);");
    assert_eq!(
        proto("exit"),
        "__attribute__((noreturn)) void exit(int status);"
    );
    assert_eq!(
        proto("read"),
        "long read(int fd, void *buf, unsigned long n);"
    );
    assert_eq!(
        proto("write"),
        "long write(int fd, const void *buf, unsigned long n);"
    );
    assert_eq!(
        proto("exec"),
        "long exec(const void *path, char *const *argv);"
    );
    assert_eq!(proto("sbrk"), "long sbrk(long n);");
    assert_eq!(proto("fstat"), "long fstat(int fd, struct stat *st);");
    assert_eq!(
        proto("ps"),
        "long ps(struct procinfo *out, unsigned long max);"
    );
}

#[test]
fn the_header_carries_the_abi_constants() {
    let h = user_h(&calls());
    for line in [
        "#define SYS_fork 1\n",
        "#define SYS_close 21\n",
        "#define EFAULT 14\n",
        "#define ENOSYS 38\n",
        "#define O_CREATE 0x200\n",
        "#define T_DEVICE 3\n",
        "#define NOFILE 64\n",
        "#define MAXPATH 128\n",
        "#define KILLED_STATUS (-1)\n",
        "#define USER_TEXT_BASE 0x400000UL\n",
        "_Static_assert(sizeof(struct stat) == 24,",
        "_Static_assert(__builtin_offsetof(struct stat, size) == 16,",
        "_Static_assert(sizeof(struct procinfo) == 56,",
        "_Static_assert(sizeof(struct container_info) == 392,",
        "#define SPEC_ALLOW_LEAVE 1\n",
        "long syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);\n",
    ] {
        assert!(h.contains(line), "header lacks {line:?}");
    }
}

/// The C compiler accepts both files, and the header's static assertions
/// (sizes and offsets against the Rust layouts) hold. gcc is a build
/// prerequisite of the C user programs, so it must be there.
#[test]
fn gcc_accepts_the_generated_files() {
    let dir = std::env::temp_dir().join(format!("berth-usys-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let calls = calls();
    std::fs::write(dir.join("user.h"), user_h(&calls)).unwrap();
    std::fs::write(dir.join("usys.S"), usys_s(&calls)).unwrap();
    std::fs::write(
        dir.join("t.c"),
        "#include \"user.h\"\nint f(void) { return (int)write(1, \"x\", 1); }\n",
    )
    .unwrap();
    for (src, extra) in [
        ("t.c", &["-Wall", "-Wextra", "-Werror", "-std=c11"][..]),
        ("usys.S", &[][..]),
    ] {
        let out = std::process::Command::new("gcc")
            .args(["-ffreestanding", "-c", "-o", "/dev/null"])
            .args(extra)
            .arg(dir.join(src))
            .output()
            .expect("gcc is needed to build the C user programs");
        assert!(
            out.status.success(),
            "gcc rejected {src}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
