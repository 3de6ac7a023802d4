//! Bad input to the container calls: each the errno `berth_abi::container`
//! documents.

use ulib::abi::container::{
    ContainerInfo, ContainerSpec, CONTAINER_NAME_LEN, CPU_WEIGHT_MAX, HOSTNAME_LEN, MAX_CONTAINERS,
    SPEC_FLAGS, UPDATE_CPU_WEIGHT, UPDATE_FLAGS,
};
use ulib::container::{self, Spec};
use ulib::prelude::*;
use ulib::sys;
use ulib::test::{errno, expect_errno, TestResult};
use ulib::{ensure, ensure_eq};

use crate::common::Ctr;

/// Ids that are never valid.
const BAD_IDS: [i32; 4] = [-1, MAX_CONTAINERS as i32 + 1, 1000, i32::MIN];

/// Addresses no spec or listing can be read from or written to.
const WILD: [u64; 4] = [
    0x800,
    0x7000_0000_0000,
    0x0000_8000_0000_0000,
    0xffff_8000_0000_0000,
];

fn create_raw(spec: &ContainerSpec) -> i64 {
    // SAFETY: the kernel only reads `spec`.
    unsafe { sys::create_container(spec) }
}

/// Every call taking an id, on `id`: `(name, result)`.
fn id_calls(id: i32) -> Vec<(String, i64)> {
    let spec = ContainerSpec {
        flags: UPDATE_CPU_WEIGHT,
        cpu_weight: 50,
        ..ContainerSpec::default()
    };
    let mut buf = [0u8; 64];
    // SAFETY: the kernel reads `spec` and writes at most 64 bytes into `buf`.
    unsafe {
        vec![
            (
                format!("destroy_container({id})"),
                sys::destroy_container(id),
            ),
            (format!("join_container({id})"), sys::join_container(id)),
            (
                format!("update_container({id})"),
                sys::update_container(id, &spec),
            ),
            (format!("pause_container({id})"), sys::pause_container(id)),
            (format!("resume_container({id})"), sys::resume_container(id)),
            (
                format!("container_diff({id})"),
                sys::container_diff(id, buf.as_mut_ptr(), buf.len()),
            ),
        ]
    }
}

fn all_are(results: Vec<(String, i64)>, want: Errno) -> TestResult {
    for (what, r) in results {
        expect_errno(&what, r, want)?;
    }
    Ok(())
}

/// Ids out of range are EINVAL; id 0 (the host) too, except for create
/// where it means "the lowest free id".
pub fn bad_ids() -> TestResult {
    for id in BAD_IDS {
        let spec = Spec::new().id(id).build();
        expect_errno(
            &format!("create_container(id {id})"),
            create_raw(&spec),
            Errno::EINVAL,
        )?;
        all_are(id_calls(id), Errno::EINVAL)?;
    }
    // Id 0 is the host, which none of these may name (the join would be a process moving itself).
    let zero: Vec<(String, i64)> = id_calls(0)
        .into_iter()
        .filter(|(w, _)| !w.starts_with("container_diff"))
        .collect();
    all_are(zero, Errno::EINVAL)?;
    let c = Ctr::new(Spec::new())?;
    ensure!(
        c.id >= 1 && c.id <= MAX_CONTAINERS as i32,
        "id 0 gave id {}",
        c.id
    );
    Ok(())
}

/// A destroyed id is ESRCH for every call, and destroying twice is ESRCH.
pub fn destroyed_ids() -> TestResult {
    let id = container::create(&Spec::new().build()).map_err(errno("create_container"))?;
    container::destroy(id).map_err(errno("destroy_container"))?;
    expect_errno("destroy_container twice", unsafe_destroy(id), Errno::ESRCH)?;
    all_are(id_calls(id), Errno::ESRCH)?;
    Ok(())
}

fn unsafe_destroy(id: i32) -> i64 {
    // SAFETY: no memory is involved.
    unsafe { sys::destroy_container(id) }
}

/// Names: too long (no NUL in its 16 bytes) is ENAMETOOLONG; taken is
/// EEXIST, as is a taken id; the default name is `c<id>`.
pub fn names_and_ids_taken() -> TestResult {
    let spec = ContainerSpec {
        name: [b'n'; CONTAINER_NAME_LEN],
        ..ContainerSpec::default()
    };
    expect_errno(
        "create_container(name of 16 bytes, no NUL)",
        create_raw(&spec),
        Errno::ENAMETOOLONG,
    )?;
    let a = Ctr::new(Spec::new().name("probe-name").map_err(errno("name"))?)?;
    let again = Spec::new()
        .name("probe-name")
        .map_err(errno("name"))?
        .build();
    expect_errno(
        "create_container(a taken name)",
        create_raw(&again),
        Errno::EEXIST,
    )?;
    let same_id = Spec::new().id(a.id).build();
    expect_errno(
        "create_container(a taken id)",
        create_raw(&same_id),
        Errno::EEXIST,
    )?;
    let b = Ctr::new(Spec::new())?;
    ensure_eq!(
        container::name_of(&b.info()?),
        format!("c{}", b.id),
        "the default name"
    );
    let taken = Spec::new()
        .name(&format!("c{}", b.id))
        .map_err(errno("name"))?
        .build();
    expect_errno(
        "create_container(another's default name)",
        create_raw(&taken),
        Errno::EEXIST,
    )?;
    Ok(())
}

/// Weights, flags and deny bits out of range are EINVAL; weight 0 means
/// the default.
pub fn bad_values() -> TestResult {
    let c = Ctr::new(Spec::new().cpu_weight(0))?;
    ensure_eq!(c.info()?.cpu_weight, 100, "weight 0 at create: the default");
    let over = Spec::new().cpu_weight(CPU_WEIGHT_MAX + 1).build();
    expect_errno(
        "create_container(weight 10001)",
        create_raw(&over),
        Errno::EINVAL,
    )?;
    let flags = Spec::new().flags(SPEC_FLAGS + 1).build();
    expect_errno(
        "create_container(unknown flag)",
        create_raw(&flags),
        Errno::EINVAL,
    )?;
    let deny_exit = Spec::new().deny([1 << ulib::sys::nr::exit, 0]).build();
    expect_errno(
        "create_container(deny exit)",
        create_raw(&deny_exit),
        Errno::EINVAL,
    )?;
    let deny_unknown = Spec::new().deny([0, 1 << (100 - 64)]).build();
    expect_errno(
        "create_container(deny call 100)",
        create_raw(&deny_unknown),
        Errno::EINVAL,
    )?;
    let deny_zero = Spec::new().deny([1, 0]).build();
    expect_errno(
        "create_container(deny call 0)",
        create_raw(&deny_zero),
        Errno::EINVAL,
    )?;
    let upd = |spec: ContainerSpec| {
        // SAFETY: the kernel only reads `spec`.
        unsafe { sys::update_container(c.id, &spec) }
    };
    let heavy = ContainerSpec {
        flags: UPDATE_CPU_WEIGHT,
        cpu_weight: CPU_WEIGHT_MAX + 1,
        ..ContainerSpec::default()
    };
    expect_errno("update_container(weight 10001)", upd(heavy), Errno::EINVAL)?;
    let odd = ContainerSpec {
        flags: UPDATE_FLAGS << 1 & !UPDATE_FLAGS,
        ..ContainerSpec::default()
    };
    expect_errno(
        "update_container(unknown update flag)",
        upd(odd),
        Errno::EINVAL,
    )?;
    let max = ContainerSpec {
        flags: UPDATE_CPU_WEIGHT,
        cpu_weight: CPU_WEIGHT_MAX,
        ..ContainerSpec::default()
    };
    ulib::test::expect_ok("update_container(weight 10000)", upd(max))?;
    ensure_eq!(
        c.info()?.cpu_weight,
        CPU_WEIGHT_MAX,
        "the weight after updating it to 10000"
    );
    Ok(())
}

/// Wild pointers are EFAULT; a NULL spec means all defaults; a short
/// hostname buffer is ERANGE.
pub fn bad_pointers() -> TestResult {
    // SAFETY: NULL asks for the defaults; nothing is read.
    let id = unsafe { sys::create_container(core::ptr::null()) };
    let id = ulib::test::expect_ok("create_container(NULL)", id)? as i32;
    let c = Ctr { id };
    let info = c.info()?;
    ensure_eq!(
        (info.cpu_weight, info.max_procs, info.max_pages, info.flags),
        (100, 0, 0, 0),
        "defaults of a NULL spec"
    );
    for addr in WILD {
        let spec = addr as *const ContainerSpec;
        // SAFETY: the address is not mapped in this process; the kernel must refuse it.
        let r = unsafe { sys::create_container(spec) };
        expect_errno(&format!("create_container({addr:#x})"), r, Errno::EFAULT)?;
        // SAFETY: as above.
        let r = unsafe { sys::update_container(c.id, spec) };
        expect_errno(
            &format!("update_container({}, {addr:#x})", c.id),
            r,
            Errno::EFAULT,
        )?;
        // SAFETY: as above: nothing there may be written.
        let r = unsafe { sys::containers(addr as *mut ContainerInfo, 4) };
        expect_errno(&format!("containers({addr:#x}, 4)"), r, Errno::EFAULT)?;
        // SAFETY: as above.
        let r = unsafe { sys::gethostname(addr as *mut u8, HOSTNAME_LEN) };
        expect_errno(&format!("gethostname({addr:#x})"), r, Errno::EFAULT)?;
    }
    let mut one = [0u8; 1];
    // SAFETY: the kernel writes at most 1 byte.
    let r = unsafe { sys::gethostname(one.as_mut_ptr(), 1) };
    let host = container::hostname().map_err(errno("gethostname"))?;
    if !host.is_empty() {
        expect_errno("gethostname(buf, 1)", r, Errno::ERANGE)?;
    }
    Ok(())
}

/// Making containers until the table is full: EAGAIN after exactly
/// MAX_CONTAINERS in all; then every one made is destroyed.
pub fn table_full_is_eagain() -> TestResult {
    let existing = container::containers().map_err(errno("containers"))?.len();
    let mut made = Vec::new();
    let r = loop {
        match container::create(&Spec::new().build()) {
            Ok(id) => made.push(Ctr { id }),
            Err(e) => break e,
        }
        if made.len() > MAX_CONTAINERS {
            break Errno::EIO;
        }
    };
    let n = made.len();
    drop(made);
    ensure_eq!(r, Errno::EAGAIN, "create_container once all are in use");
    ensure_eq!(
        n + existing,
        MAX_CONTAINERS,
        "containers made (besides {existing} already there)"
    );
    ensure_eq!(
        container::containers().map_err(errno("containers"))?.len(),
        existing,
        "containers left after destroying them"
    );
    Ok(())
}
