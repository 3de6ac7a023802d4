# berth: build, run and test.
#
#   make qemu CPUS=8      build everything and boot to the console (quit: Ctrl-A then X)
#   make qemu-gdb         same, QEMU waits for gdb on localhost:1234 (see .gdbinit)
#   make test             host unit tests + QEMU integration tests (CPUS=1,2,8; KVM and TCG)
#   make check            cargo fmt --check and clippy (host and kernel)
#   make clean
#
# Knobs: CPUS=1..8 (default 2), KVM=1|0 (default: 1 when /dev/kvm is usable), MEM=512M,
#   TRACE=path (make qemu: the trace serial port, COM2, writes to that host file;
#   `perf record -s` / `perf dump -s` send dumps there), NO_PROBES=1 (a kernel
#   built without its trace probes, to measure what present-but-off probes cost).

SHELL := /bin/bash
CPUS ?= 2
MEM ?= 512M
TARGET := x86_64-unknown-none
BUILD := build
KERNEL := $(BUILD)/kernel.elf
QEMU := qemu-system-x86_64
QBOOT := /usr/share/qemu/qboot.rom
KERNEL_RUSTFLAGS := -C link-arg=-T$(CURDIR)/kernel/kernel.ld -C relocation-model=static -C code-model=kernel -C force-frame-pointers=yes
KERNEL_TARGET_DIR := target/kernel

ifeq ($(origin KVM), undefined)
  KVM := $(shell [ -r /dev/kvm ] && [ -w /dev/kvm ] && echo 1 || echo 0)
endif

ifeq ($(KVM),1)
  ACCEL := -enable-kvm -cpu host,-arch-capabilities
else
  ACCEL := -accel tcg
endif

QEMU_FLAGS = -machine pc -bios $(QBOOT) -kernel $(KERNEL) -smp $(CPUS) -m $(MEM) \
	$(ACCEL) -nographic -serial mon:stdio -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-drive file=$(FSIMG),format=raw,if=ide,index=0 \
	$(if $(TRACE),-serial file:$(TRACE))

.PHONY: all kernel qemu qemu-gdb test trace loom perfetto-py check clean prereqs check-cpus check-kvm

all: kernel

# ---- prerequisites: each says exactly what is missing -------------------
prereqs:
	@command -v cargo >/dev/null || { echo "error: cargo not found: install Rust with rustup (https://rustup.rs)"; exit 1; }
	@rustup target list --installed 2>/dev/null | grep -qx $(TARGET) || { \
	  echo "adding Rust target $(TARGET)"; rustup target add $(TARGET) >/dev/null || { \
	  echo "error: could not add the Rust target: run 'rustup target add $(TARGET)'"; exit 1; }; }
	@command -v $(QEMU) >/dev/null && [ -f $(QBOOT) ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing qemu-system-x86 (Debian package)"; \
	    (apt-get install -y -qq qemu-system-x86 >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq qemu-system-x86 >/dev/null; }) || { \
	      echo "error: apt-get could not install qemu-system-x86"; exit 1; }; \
	  else echo "error: $(QEMU) is missing: run 'sudo apt-get install qemu-system-x86'"; exit 1; fi; }

check-cpus:
	@[[ "$(CPUS)" =~ ^[0-9]+$$ ]] && [ "$(CPUS)" -ge 1 ] && [ "$(CPUS)" -le 8 ] || { \
	  echo "error: CPUS=$(CPUS) is not supported: berth runs on 1 to 8 CPUs"; exit 1; }

check-kvm:
	@if [ "$(KVM)" = 1 ] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then \
	  echo "error: KVM=1 but /dev/kvm is missing or not accessible: use KVM=0 for TCG"; exit 1; fi

# ---- build ---------------------------------------------------------------
kernel: prereqs user
	@mkdir -p $(BUILD)
	BERTH_USER_DIR=$(CURDIR)/$(BUILD)/user RUSTFLAGS="$(KERNEL_RUSTFLAGS)" cargo build --quiet -p berth-kernel --bin kernel \
	  --target $(TARGET) --release --target-dir $(KERNEL_TARGET_DIR) \
	  $(if $(filter 1,$(NO_PROBES)),--features no-trace-probes)
	@cp $(KERNEL_TARGET_DIR)/$(TARGET)/release/kernel $(KERNEL)

# ---- user programs ----
# make user        build every user program into build/user/, which the kernel
#                  build embeds and fsimg copies into the file-system image:
#                  the Rust programs (user/src/bin/, one [[bin]] each
#                  in user/Cargo.toml), the C programs (user/c/*.c but ulib.c)
#                  built by the host gcc against stubs tools/usys generates from
#                  berth_abi into build/usys/, and notelf (not an ELF file, for
#                  exec's ENOEXEC test). Programs are installed without debug
#                  info (exec reads the whole file; the unstripped ones stay
#                  in target/user for gdb). A file is copied only when it changed,
#                  so an unchanged program does not rebuild the kernel.
# make user-check  rustfmt and clippy (host and target) over ulib, the programs and usys
# make user-test   host unit tests of ulib and usys
USER_RUSTFLAGS := -C link-arg=-T$(CURDIR)/user/user.ld -C relocation-model=static
USER_TARGET_DIR := target/user
USER_OUT := $(BUILD)/user
USER_GEN := $(BUILD)/usys
USER_RUST_PROGRAMS := $(sort $(patsubst user/src/bin/%.rs,%,$(wildcard user/src/bin/*.rs)) \
	$(patsubst user/src/bin/%/main.rs,%,$(wildcard user/src/bin/*/main.rs)))
USER_C_PROGRAMS := $(filter-out ulib,$(basename $(notdir $(wildcard user/c/*.c))))
USER_PROGRAMS := $(USER_RUST_PROGRAMS) $(USER_C_PROGRAMS) notelf
USER_CC := gcc
# The kernel enables SSE and saves each process's FPU state, so gcc's
# default code (xmm registers in memcpy/printf) runs unchanged.
USER_CFLAGS := -ffreestanding -nostdlib -static -fno-pie -no-pie -fno-stack-protector -mno-red-zone -O2 -g \
	-std=gnu11 -Wall -Wextra -fno-asynchronous-unwind-tables -fcf-protection=none \
	-fno-tree-loop-distribute-patterns -Wl,--build-id=none -Iuser/c -I$(USER_GEN)
USER_C_RUNTIME := user/c/start.S $(USER_GEN)/usys.S user/c/ulib.c
USER_USYS := cargo run --quiet -p berth-usys --

.PHONY: user user-check user-test

user: prereqs
	@command -v $(USER_CC) >/dev/null || { echo "error: $(USER_CC) not found: the C user programs need it (apt-get install gcc)"; exit 1; }
	@for p in $(USER_RUST_PROGRAMS); do grep -q "^name = \"$$p\"" user/Cargo.toml || \
	  echo "warning: user/src/bin/$$p has no [[bin]] entry with test = false in user/Cargo.toml:" \
	    "clippy --all-targets builds it as a host test harness, which fails (duplicate panic_impl)"; done
	@mkdir -p $(USER_OUT) $(USER_GEN) $(USER_TARGET_DIR)/c
	$(USER_USYS) $(USER_GEN)
	RUSTFLAGS="$(USER_RUSTFLAGS)" cargo build --quiet -p berth-user --bins --target $(TARGET) --release \
	  --target-dir $(USER_TARGET_DIR)
	@set -e; for p in $(USER_C_PROGRAMS); do \
	  echo "$(USER_CC) -o $(USER_TARGET_DIR)/c/$$p user/c/$$p.c"; \
	  $(USER_CC) $(USER_CFLAGS) -T user/user.ld -o $(USER_TARGET_DIR)/c/$$p $(USER_C_RUNTIME) user/c/$$p.c; \
	done
	@set -e; mkdir -p $(USER_TARGET_DIR)/stripped; \
	install_changed() { cmp -s "$$1" "$$2" || cp "$$1" "$$2"; }; \
	install_stripped() { strip --strip-debug -o $(USER_TARGET_DIR)/stripped/$$2 "$$1"; install_changed $(USER_TARGET_DIR)/stripped/$$2 $(USER_OUT)/$$2; }; \
	for p in $(USER_RUST_PROGRAMS); do install_stripped $(USER_TARGET_DIR)/$(TARGET)/release/$$p $$p; done; \
	for p in $(USER_C_PROGRAMS); do install_stripped $(USER_TARGET_DIR)/c/$$p $$p; done; \
	install_changed user/notelf.txt $(USER_OUT)/notelf; \
	for f in $(USER_OUT)/*; do case " $(USER_PROGRAMS) " in *" $${f##*/} "*) ;; *) echo "removing stale $$f"; rm -f "$$f";; esac; done

user-check: prereqs
	cargo fmt -p berth-user -- --check
	cargo fmt -p berth-usys -- --check
	RUSTFLAGS="$(USER_RUSTFLAGS)" cargo clippy --quiet -p berth-user --lib --bins --target $(TARGET) --release \
	  --target-dir $(USER_TARGET_DIR) -- -D warnings
	cargo clippy --quiet -p berth-user --lib --bins -- -D warnings
	cargo clippy --quiet -p berth-user --lib --profile test -- -D warnings
	cargo clippy --quiet -p berth-usys --all-targets -- -D warnings

user-test: prereqs
	cargo test --quiet -p berth-user --lib
	cargo test --quiet -p berth-usys
# ---- end of user programs ----

# ---- file-system image ------------------------------------------------------
# build/fs.img: the project README (as /README) and every user program in /. Rebuilt only
# when an input is newer, so files made inside berth survive `make qemu`.
FSIMG := $(BUILD)/fs.img
FS_FILES = $(BUILD)/README $(wildcard $(USER_OUT)/*)

.PHONY: fsimg
fsimg: user
	@cmp -s README.md $(BUILD)/README || cp README.md $(BUILD)/README
	@if [ ! -f $(FSIMG) ] || [ -n "$$(find $(FS_FILES) -newer $(FSIMG) 2>/dev/null)" ]; then \
	  cargo run --quiet --release -p berth-mkfs -- $(FSIMG) $(FS_FILES); fi

# ---- run -----------------------------------------------------------------
qemu: check-cpus check-kvm kernel fsimg
	@echo "booting berth on $(CPUS) CPUs ($(if $(filter 1,$(KVM)),KVM,TCG)); quit with Ctrl-A then X"
	$(QEMU) $(QEMU_FLAGS)

qemu-gdb: check-cpus check-kvm kernel fsimg
	@echo "QEMU waits for gdb on localhost:1234: run 'gdb' here (.gdbinit loads $(KERNEL));"
	@echo "use 'hbreak' for breakpoints before paging is set up"
	$(QEMU) $(QEMU_FLAGS) -S -gdb tcp::1234

# ---- test ----------------------------------------------------------------
test: prereqs kernel fsimg loom perfetto-py
	cargo test --quiet --workspace --exclude berth-kernel --lib
	# The ABI's compile_fail examples: a padded or non-plain pod! structure must not build.
	cargo test --quiet -p berth-abi --doc
	cargo test --quiet -p berth-kernel --lib
	BERTH_KERNEL=$(CURDIR)/$(KERNEL) BERTH_FSIMG=$(CURDIR)/$(FSIMG) \
	  cargo test --quiet -p berth-tests --test '*' -- --test-threads=2

# make trace: boot, run tracework (two containers of weights 100 and 200,
# forks, execs, pipe round trips; TRACE_CMD="..." for another command)
# under `perf record -s`, and write the dump, its report, a Perfetto trace,
# Chrome JSON and an SVG into TRACE_DIR (default build/trace).
TRACE_DIR ?= $(BUILD)/trace
TRACE_CMD ?= tracework
trace: check-cpus check-kvm kernel fsimg
	cargo build --quiet --release -p berth-trace
	python3 tools/trace/scripts/record.py --kernel $(KERNEL) --image $(FSIMG) \
	  --trace-tool target/release/trace --out $(TRACE_DIR) --cpus $(CPUS) \
	  $(if $(filter 1,$(KVM)),--kvm) -- $(TRACE_CMD)

# The perfetto Python package: its trace schema checks `trace perfetto`'s
# output (tests/tests/trace.rs, tools/trace/tests); without it those checks
# say they were skipped.
perfetto-py:
	@python3 -c "import perfetto.protos.perfetto.trace.perfetto_trace_pb2" 2>/dev/null || { \
	  echo "installing the perfetto Python package (pip)"; \
	  python3 -m pip install -q perfetto >/dev/null 2>&1 || \
	  echo "warning: pip could not install perfetto: the Perfetto schema checks will be skipped"; }

# The scheduler's loom models (kernel/src/sched/models.rs), in their own
# target dir so the cfg does not rebuild the normal host build.
loom:
	RUSTFLAGS="--cfg loom" cargo test --release --quiet -p berth-kernel --lib \
	  --target-dir target/loom sched::models

check: prereqs
	cargo fmt --all -- --check
	cargo clippy --quiet --workspace --exclude berth-kernel --all-targets -- -D warnings
	cargo clippy --quiet -p berth-kernel --lib -- -D warnings
	RUSTFLAGS="$(KERNEL_RUSTFLAGS)" cargo clippy --quiet -p berth-kernel --target $(TARGET) \
	  --release --target-dir $(KERNEL_TARGET_DIR) -- -D warnings

clean:
	cargo clean
	rm -rf $(BUILD)

# ---- benchmarks ----
# make bench            build everything, boot berth 3 times under QEMU at CPUS=1, run
#                       the guest `bench` program at the shell, then 3 boots each at
#                       CPUS=2, 4 and 8 running only the benchmarks whose results depend
#                       on the CPU count (yield, scale, wakeup); print one table of
#                       TSC-cycle medians next to MIT xv6's (BASELINES.md), a boot to
#                       `$ ` row per CPU count, and the N-process rows against what
#                       the 2 host cores allow; see perf/.
# make bench CPUS=8     one CPU count only (everything at CPUS=8), as is any run with
#                       BENCH="pipe_rtt fork" (only benchmarks whose names start with
#                       those words; at the Makefile's CPUS unless CPUS= is given).
# SWEEP=2,4 sets the extra CPU counts (SWEEP= for none); BENCH_BOOTS=N boots per
#   CPU count (default 3). KVM=0 (TCG) by default, as xv6 was measured: KVM=1 for
#   berth's absolute speed.
# The runner (crate berth-perf, perf/) reuses the tests' QEMU harness; its lib's
# unit tests run with `cargo test -p berth-perf --lib`.
BENCH_KVM := $(if $(filter command line environment,$(origin KVM)),$(KVM),0)
BENCH_BOOTS ?= 3
BENCH ?=
# Neither CPUS nor BENCH given: the main table at CPUS=1 plus the sweep.
BENCH_FULL := $(if $(filter file,$(origin CPUS)),$(if $(BENCH),,1))
BENCH_CPUS := $(if $(BENCH_FULL),1,$(CPUS))
comma := ,
SWEEP ?= $(if $(BENCH_FULL),2$(comma)4$(comma)8)

.PHONY: bench
bench: check-cpus kernel fsimg
	@if [ "$(BENCH_KVM)" = 1 ] && ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then \
	  echo "error: KVM=1 but /dev/kvm is missing or not accessible: use KVM=0 for TCG"; exit 1; fi
	cargo build --quiet --release -p berth-perf --bin bench-runner
	BERTH_KERNEL=$(CURDIR)/$(KERNEL) BERTH_FSIMG=$(CURDIR)/$(FSIMG) \
	  target/release/bench-runner --cpus $(BENCH_CPUS) --boots $(BENCH_BOOTS) \
	  $(if $(SWEEP),--sweep $(SWEEP)) $(if $(filter 1,$(BENCH_KVM)),--kvm) $(BENCH)
# ---- end of benchmarks ----

# ---- stress ----
# make stress CPUS=8 SECS=60   build everything, boot berth under TCG (KVM=0
#                       unless KVM=1 is given) and run the guest `stress`
#                       program: stress-fork, stress-mem, stress-ctr, stress-fs,
#                       stress-sched and syzfuzz one after another, SECS seconds
#                       EACH (default 60; the whole run takes about 6 x SECS plus
#                       settle waits), kstats taken around each. Prints the
#                       guest's table, then checks no kernel panic, the shell
#                       answering, and, after power off, fsck on the disk (clean,
#                       the image's inodes and blocks exactly). STRESS="-p NAME"
#                       runs only some programs. Runner: tests/src/bin/stress-runner.rs.
SECS ?= 60
STRESS ?=
STRESS_KVM := $(if $(filter command line environment,$(origin KVM)),$(KVM),0)

.PHONY: stress
stress: check-cpus kernel fsimg
	cargo build --quiet --release -p berth-tests --bin stress-runner
	BERTH_KERNEL=$(CURDIR)/$(KERNEL) BERTH_FSIMG=$(CURDIR)/$(FSIMG) \
	  target/release/stress-runner --cpus $(CPUS) --secs $(SECS) \
	  $(if $(filter 1,$(STRESS_KVM)),--kvm) $(if $(STRESS),-- $(STRESS))
# ---- end of stress ----
