# berth: build, run and test.
#
#   make qemu CPUS=8      build everything and boot to the console (quit: Ctrl-A then X)
#   make qemu-gdb         same, QEMU waits for gdb on localhost:1234 (see .gdbinit)
#   make test             host unit tests + QEMU integration tests (CPUS=1,2,8; KVM and TCG)
#   make check            cargo fmt --check and clippy (host and kernel)
#   make clean
#
# Knobs: CPUS=1..8 (default 2), KVM=1|0 (default: 1 when /dev/kvm is usable), MEM=512M.

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
	-device isa-debug-exit,iobase=0xf4,iosize=0x04

.PHONY: all kernel qemu qemu-gdb test check clean prereqs check-cpus check-kvm

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
kernel: prereqs
	@mkdir -p $(BUILD)
	@mkdir -p $(BUILD)/user
	BERTH_USER_DIR=$(CURDIR)/$(BUILD)/user RUSTFLAGS="$(KERNEL_RUSTFLAGS)" cargo build --quiet -p berth-kernel --bin kernel \
	  --target $(TARGET) --release --target-dir $(KERNEL_TARGET_DIR)
	@cp $(KERNEL_TARGET_DIR)/$(TARGET)/release/kernel $(KERNEL)

# ---- run -----------------------------------------------------------------
qemu: check-cpus check-kvm kernel
	@echo "booting berth on $(CPUS) CPUs ($(if $(filter 1,$(KVM)),KVM,TCG)); quit with Ctrl-A then X"
	$(QEMU) $(QEMU_FLAGS)

qemu-gdb: check-cpus check-kvm kernel
	@echo "QEMU waits for gdb on localhost:1234: run 'gdb' here (.gdbinit loads $(KERNEL));"
	@echo "use 'hbreak' for breakpoints before paging is set up"
	$(QEMU) $(QEMU_FLAGS) -S -gdb tcp::1234

# ---- test ----------------------------------------------------------------
test: prereqs kernel
	cargo test --quiet --workspace --exclude berth-kernel --lib
	cargo test --quiet -p berth-kernel --lib
	BERTH_KERNEL=$(CURDIR)/$(KERNEL) cargo test --quiet -p berth-tests --test '*' -- --test-threads=2

check: prereqs
	cargo fmt --all -- --check
	cargo clippy --quiet --workspace --exclude berth-kernel --all-targets -- -D warnings
	cargo clippy --quiet -p berth-kernel --lib -- -D warnings
	RUSTFLAGS="$(KERNEL_RUSTFLAGS)" cargo clippy --quiet -p berth-kernel --target $(TARGET) \
	  --release --target-dir $(KERNEL_TARGET_DIR) -- -D warnings

clean:
	cargo clean
	rm -rf $(BUILD)
