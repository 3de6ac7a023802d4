//! The two Rust entry points: the boot CPU's and every AP's (boot order in `mod.rs`).

use core::sync::atomic::Ordering;

use berth_abi::exit::ExitCode;

use super::{acpi, apic, boot, cpu, debug_exit, idt, ioapic, paging, percpu, serial, smp, tsc};
use crate::param::MAX_CPUS;
use crate::println;

extern "C" {
    static __kernel_end: u8;
}

/// Loads this CPU's GDT/TSS (with fresh guarded IST stacks) and the shared IDT.
fn load_cpu_tables() {
    let nmi = crate::mm::kstack::alloc_for_cpu();
    let df = crate::mm::kstack::alloc_for_cpu();
    // SAFETY: once per CPU, on its own tables, interrupts off, fresh stacks.
    unsafe { percpu::this_cpu().tables.load(nmi, df) };
    idt::load();
}

/// Boot CPU entry from the PVH stub; `info_phys` is the `hvm_start_info` address.
#[no_mangle]
extern "C" fn bsp_entry(info_phys: u64) -> ! {
    // SAFETY: first thing on the boot CPU; block 0 is the boot CPU's.
    unsafe { percpu::install(0, apic::current_apic_id()) };
    serial::init();
    // SAFETY: info_phys is what QEMU passed in ebx; the boot tables map it.
    let boot = match unsafe { boot::BootInfo::from_pvh(info_phys) } {
        Ok(b) => b,
        Err(e) => panic!("boot: {e}"),
    };
    crate::cmdline::init(boot.cmdline());
    let kernel_phys_end = core::ptr::addr_of!(__kernel_end) as u64 - paging::KERNEL_VMA;
    let phys_end = crate::mm::init(boot.regions(), kernel_phys_end);
    paging::init_kernel_tables(phys_end, kernel_phys_end);
    // Needs the heap and the kernel's own tables.
    crate::mm::kstack::init();
    // From here on the boot CPU runs on a stack with a guard page below.
    let stack = crate::mm::kstack::alloc_for_cpu();
    // SAFETY: a fresh stack, this CPU's for good.
    unsafe { cpu::run_on_stack(stack, bsp_on_own_stack, boot.rsdp_phys) }
}

/// The rest of the boot CPU's start, on its own guarded stack; `rsdp_phys`
/// is the ACPI root the boot loader gave.
extern "C" fn bsp_on_own_stack(rsdp_phys: u64) -> ! {
    idt::build();
    load_cpu_tables();
    super::syscall_entry::init_this_cpu();
    super::fpu::init_this_cpu();

    // SAFETY: the RSDP address came from the boot loader.
    let madt = match unsafe { acpi::find_madt(rsdp_phys) } {
        Ok(m) => m,
        Err(e) => panic!("acpi: cannot read the MADT: {e:?}"),
    };
    // SAFETY: as above.
    let hpet = unsafe { acpi::find_hpet(rsdp_phys) }.ok();
    apic::init_this_cpu();
    // The LAPIC timer (if it needs measuring) is measured against the TSC
    // while the TSC is measured against the HPET: one window for both.
    let lapic_calibration = apic::start_timer_calibration();
    tsc::init(hpet.map(|h| h.address));
    apic::finish_timer_calibration(lapic_calibration);
    crate::time::start_clock(tsc::hz());
    crate::proc::sched::init();
    ioapic::init(&madt);

    crate::banner::print_boot_banner(
        crate::mm::usable_bytes(),
        apic::mode_name(),
        tsc::hz(),
        tsc::source().name(),
        tsc::read_cost(),
    );
    crate::banner::print_clock(
        crate::param::TICKS_PER_SEC,
        tsc::measurement(),
        apic::timer_mode_name(),
    );
    let cpus = madt.cpu_count();
    if cpus > MAX_CPUS {
        println!("boot: this machine has {cpus} CPUs; berth supports at most {MAX_CPUS} (use -smp 1..{MAX_CPUS})");
        debug_exit::exit_qemu(ExitCode::Unsupported);
        cpu::halt_forever();
    }
    let bsp_apic = apic::current_apic_id();
    percpu::cpu(0).online.store(true, Ordering::Release);
    crate::banner::print_cpu_online(0, bsp_apic);
    let mut index = 1;
    for &apic_id in madt.cpu_apic_ids() {
        if apic_id == bsp_apic {
            continue;
        }
        match smp::start_ap(index, apic_id, ap_entry) {
            smp::ApStart::Online => index += 1,
            smp::ApStart::Absent => {
                println!("smp: cpu with apic id {apic_id} did not start; continuing without it")
            }
            smp::ApStart::Late => {
                println!("smp: cpu {index} (apic id {apic_id}) started but is not online; no further CPU is started");
                break;
            }
        }
    }
    crate::banner::print_cpus_online(percpu::online_count(), cpus);

    ioapic::route_isa_irq(serial::COM1_IRQ, bsp_apic);
    serial::enable_rx_interrupt();
    apic::start_timer();
    cpu::enable_interrupts();
    crate::kmain()
}

/// AP entry from the trampoline; `index` is the CPU number given in its slot.
extern "C" fn ap_entry(index: u64) -> ! {
    let index = index as usize;
    smp::report_started(index);
    paging::switch_to_kernel_tables();
    // SAFETY: the boot CPU gave this AP the unused index `index`.
    unsafe { percpu::install(index, apic::current_apic_id()) };
    // (The lock the allocation takes records this CPU: installed above.)
    let stack = crate::mm::kstack::alloc_for_cpu();
    // SAFETY: a fresh stack, this CPU's for good.
    unsafe { cpu::run_on_stack(stack, ap_on_own_stack, index as u64) }
}

/// The rest of an AP's start, on its own guarded stack (the trampoline's
/// is handed to the next AP once this one is online).
extern "C" fn ap_on_own_stack(index: u64) -> ! {
    let index = index as usize;
    load_cpu_tables();
    super::syscall_entry::init_this_cpu();
    super::fpu::init_this_cpu();
    apic::init_this_cpu();
    crate::banner::print_cpu_online(index, apic::current_apic_id());
    smp::before_online();
    percpu::this_cpu().online.store(true, Ordering::Release);
    apic::start_timer();
    cpu::enable_interrupts();
    crate::ap_main()
}
