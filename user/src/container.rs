//! Containers: safe wrappers over the container calls (26-41, documented in
//! `berth_abi::container`) and the pure helpers `ctr` and the tests share.
//!
//! - the calls: [`create`], [`destroy`], [`join`], [`leave`],
//!   [`containers`], [`update`], [`pause`], [`resume`], [`scheduler_log`],
//!   [`memory_log`], [`hostname`], [`set_hostname`], [`diff`], [`getcid`],
//!   each `Result<_, Errno>`;
//! - [`Spec`]: a builder for `ContainerSpec` that refuses bad names before
//!   the kernel sees them;
//! - [`find`]: resolves `CID|NAME` against a listing, as `docker` resolves
//!   a container argument;
//! - [`parse_deny`]/[`deny_names`]: deny sets by call name, through
//!   `berth_abi::syscall::TABLE`;
//! - [`SpecArgs`]: the options `ctr create`, `run` and `update` share
//!   (`--name`, `--cpu-weight`, ...), parsed into a spec with messages
//!   naming the option and the bad value;
//! - [`cpu_tenths`]: the CPU share of a container between two samples.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use berth_abi::container::{
    c_field, ContainerInfo, ContainerSpec, CONTAINER_NAME_LEN, CPU_WEIGHT_MAX, CPU_WEIGHT_MIN,
    DENY_CALLS, DENY_WORDS, HOSTNAME_LEN, MAX_CONTAINERS, SPEC_ALLOW_LEAVE, SPEC_PID_HOST,
    UPDATE_CPU_WEIGHT, UPDATE_DENY, UPDATE_MAX_PAGES, UPDATE_MAX_PROCS,
};
use berth_abi::errno::Errno;
use berth_abi::limits::NPROC;
use berth_abi::syscall::{nr, TABLE};

use crate::sys::{self, result};

/// A container id (0: the host).
pub type Cid = i32;

/// Builds a [`ContainerSpec`]: `Spec::new().id(1).flags(SPEC_ALLOW_LEAVE).build()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Spec(ContainerSpec);

impl Spec {
    /// All defaults: the lowest free id, named `c<id>`, weight 100, no limits.
    pub fn new() -> Spec {
        Spec(ContainerSpec::default())
    }

    /// The id wanted (0: the lowest free one).
    pub fn id(mut self, id: Cid) -> Spec {
        self.0.id = id;
        self
    }

    /// Adds `SPEC_*` (create) or `UPDATE_*` (update) flags.
    pub fn flags(mut self, flags: u32) -> Spec {
        self.0.flags |= flags;
        self
    }

    /// The CPU weight (0: the default).
    pub fn cpu_weight(mut self, w: u32) -> Spec {
        self.0.cpu_weight = w;
        self
    }

    /// Most live processes (0: no limit).
    pub fn max_procs(mut self, n: u32) -> Spec {
        self.0.max_procs = n;
        self
    }

    /// Most pages charged (0: no limit).
    pub fn max_pages(mut self, n: u64) -> Spec {
        self.0.max_pages = n;
        self
    }

    /// The deny set.
    pub fn deny(mut self, deny: [u64; DENY_WORDS]) -> Spec {
        self.0.deny = deny;
        self
    }

    /// The name: `ENAMETOOLONG` if it does not fit with its NUL, `EINVAL`
    /// if it contains a NUL.
    pub fn name(mut self, name: &str) -> Result<Spec, Errno> {
        let b = name.as_bytes();
        if b.contains(&0) {
            return Err(Errno::EINVAL);
        }
        if b.len() >= CONTAINER_NAME_LEN {
            return Err(Errno::ENAMETOOLONG);
        }
        self.0.name = [0; CONTAINER_NAME_LEN];
        self.0.name[..b.len()].copy_from_slice(b);
        Ok(self)
    }

    /// The spec.
    pub fn build(self) -> ContainerSpec {
        self.0
    }
}

fn unit(ret: i64) -> Result<(), Errno> {
    result(ret).map(drop)
}

/// Makes a container; returns its id.
pub fn create(spec: &ContainerSpec) -> Result<Cid, Errno> {
    // SAFETY: the kernel only reads one `ContainerSpec` from `spec`.
    result(unsafe { sys::create_container(spec) }).map(|id| id as Cid)
}

/// Kills every process of container `id` and frees it.
pub fn destroy(id: Cid) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    unit(unsafe { sys::destroy_container(id) })
}

/// Moves the caller into container `id`.
pub fn join(id: Cid) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    unit(unsafe { sys::join_container(id) })
}

/// Moves the caller back to the host.
pub fn leave() -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    unit(unsafe { sys::leave_container() })
}

/// Every container the caller can see (the host: all; a container: itself), by id.
pub fn containers() -> Result<Vec<ContainerInfo>, Errno> {
    let mut rows = vec![ContainerInfo::default(); MAX_CONTAINERS + 1];
    // SAFETY: the kernel writes at most `rows.len()` rows into `rows`.
    let n = result(unsafe { sys::containers(rows.as_mut_ptr(), rows.len()) })? as usize;
    rows.truncate(n.min(MAX_CONTAINERS + 1));
    Ok(rows)
}

/// The row of container `id`, if the caller can see it.
pub fn info(id: Cid) -> Result<Option<ContainerInfo>, Errno> {
    Ok(containers()?.into_iter().find(|c| c.id == id))
}

/// Changes the fields of container `id` that `spec.flags` (`UPDATE_*`) name.
pub fn update(id: Cid, spec: &ContainerSpec) -> Result<(), Errno> {
    // SAFETY: the kernel only reads one `ContainerSpec` from `spec`.
    unit(unsafe { sys::update_container(id, spec) })
}

/// Freezes container `id`.
pub fn pause(id: Cid) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    unit(unsafe { sys::pause_container(id) })
}

/// Thaws container `id`.
pub fn resume(id: Cid) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    unit(unsafe { sys::resume_container(id) })
}

/// Turns the scheduler log (`Container <cid> : Scheduling process <pid>`) on or off.
pub fn scheduler_log(on: bool) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    unit(unsafe {
        if on {
            sys::scheduler_log_on()
        } else {
            sys::scheduler_log_off()
        }
    })
}

/// Turns the memory log (`GVA ... -> HVA ...`) on or off.
pub fn memory_log(on: bool) -> Result<(), Errno> {
    // SAFETY: no memory is involved.
    unit(unsafe {
        if on {
            sys::memory_log_on()
        } else {
            sys::memory_log_off()
        }
    })
}

/// The caller's container's hostname.
pub fn hostname() -> Result<String, Errno> {
    let mut buf = [0u8; HOSTNAME_LEN];
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    let n = result(unsafe { sys::gethostname(buf.as_mut_ptr(), buf.len()) })? as usize;
    let name = c_field(&buf[..n.min(buf.len())]);
    Ok(String::from_utf8_lossy(name).into_owned())
}

/// Sets the caller's container's hostname.
pub fn set_hostname(name: &str) -> Result<(), Errno> {
    // SAFETY: the kernel reads `name.len()` bytes from `name`.
    unit(unsafe { sys::sethostname(name.as_ptr(), name.len()) })
}

/// Container `id`'s changes to the host tree, `A/C/D path` lines.
pub fn diff(id: Cid) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
        let full = result(unsafe { sys::container_diff(id, buf.as_mut_ptr(), buf.len()) })?;
        let full = usize::try_from(full).map_err(|_| Errno::ENOMEM)?;
        if full <= buf.len() {
            buf.truncate(full);
            return Ok(buf);
        }
        // It grew (or was larger than the first guess): ask again with room for all.
        let mut bigger = Vec::new();
        bigger
            .try_reserve_exact(full + 1024)
            .map_err(|_| Errno::ENOMEM)?;
        bigger.resize(full + 1024, 0);
        buf = bigger;
    }
}

/// The caller's container id (0: the host).
pub fn getcid() -> Cid {
    // SAFETY: no memory is involved.
    unsafe { sys::getcid() as Cid }
}

/// A NUL-terminated field (name, hostname) as text.
pub fn field_str(bytes: &[u8]) -> String {
    String::from_utf8_lossy(c_field(bytes)).into_owned()
}

/// The name of a listed container.
pub fn name_of(c: &ContainerInfo) -> String {
    field_str(&c.name)
}

/// The container `arg` names among `list`: a decimal id, else a name.
pub fn find<'a>(arg: &str, list: &'a [ContainerInfo]) -> Option<&'a ContainerInfo> {
    if let Ok(id) = arg.parse::<Cid>() {
        if let Some(c) = list.iter().find(|c| c.id == id) {
            return Some(c);
        }
    }
    list.iter().find(|c| c_field(&c.name) == arg.as_bytes())
}

/// The number of the system call `name`.
pub fn call_number(name: &str) -> Option<usize> {
    TABLE
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|&(num, _, _)| num)
}

/// The name of system call `num`.
pub fn call_name(num: usize) -> Option<&'static str> {
    TABLE
        .iter()
        .find(|(n, _, _)| *n == num)
        .map(|&(_, name, _)| name)
}

/// A deny set from a comma-separated list of call names (`fork,sbrk`).
/// An unknown name, `exit` (never deniable) or an empty item is an error
/// naming it.
pub fn parse_deny(list: &str) -> Result<[u64; DENY_WORDS], String> {
    let mut deny = [0u64; DENY_WORDS];
    for item in list.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("empty call name in {list:?}"));
        }
        let num = call_number(item).ok_or_else(|| format!("no such system call: {item}"))?;
        if num == nr::exit {
            return Err(String::from("exit cannot be denied"));
        }
        if num >= DENY_CALLS {
            return Err(format!("{item} cannot be denied"));
        }
        deny[num / 64] |= 1 << (num % 64);
    }
    Ok(deny)
}

/// The names of the calls a deny set holds, by number (`#n` for a number
/// the table does not know).
pub fn deny_names(deny: &[u64; DENY_WORDS]) -> Vec<String> {
    (0..DENY_CALLS)
        .filter(|&n| deny[n / 64] & (1 << (n % 64)) != 0)
        .map(|n| match call_name(n) {
            Some(name) => String::from(name),
            None => format!("#{n}"),
        })
        .collect()
}

/// Which command the options are for: each accepts a different set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecCommand {
    Create,
    Run,
    Update,
}

/// The options of `ctr create`, `ctr run` and `ctr update`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecArgs {
    /// At create and run: `SPEC_*` flags; at update: the `UPDATE_*` flags
    /// of the options given.
    pub spec: ContainerSpec,
    /// `--rm` (run only).
    pub rm: bool,
    /// Arguments consumed (the first operand is at this index).
    pub consumed: usize,
}

impl SpecArgs {
    /// Parses the options at the front of `args` (stopping at the first
    /// operand or after `--`). An error names the option and what is wrong
    /// with its value, e.g. `--cpu-weight: 20000 is out of range 1..10000`.
    pub fn parse(args: &[&str], cmd: SpecCommand) -> Result<SpecArgs, String> {
        let mut spec = ContainerSpec::default();
        let mut rm = false;
        let mut i = 0;
        let creating = cmd != SpecCommand::Update;
        while i < args.len() {
            let arg = args[i];
            if arg == "--" {
                i += 1;
                break;
            }
            if !arg.starts_with('-') || arg == "-" {
                break;
            }
            let (opt, inline) = match arg.split_once('=') {
                Some((o, v)) => (o, Some(v)),
                None => (arg, None),
            };
            let flag_only = |v: Option<&str>| match v {
                None => Ok(()),
                Some(_) => Err(format!("{opt} takes no value")),
            };
            match opt {
                "--allow-leave" if creating => {
                    flag_only(inline)?;
                    spec.flags |= SPEC_ALLOW_LEAVE;
                }
                "--rm" if cmd == SpecCommand::Run => {
                    flag_only(inline)?;
                    rm = true;
                }
                "--pid" if creating => {
                    let v = value(opt, inline, args, &mut i)?;
                    if v != "host" {
                        return Err(format!("--pid: {v:?} is not supported (only --pid=host)"));
                    }
                    spec.flags |= SPEC_PID_HOST;
                }
                "--name" if creating => {
                    let v = value(opt, inline, args, &mut i)?;
                    if v.is_empty() {
                        return Err(String::from("--name: the name is empty"));
                    }
                    if v.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(format!("--name: {v} is a number (it would read as an id)"));
                    }
                    if v.len() >= CONTAINER_NAME_LEN {
                        return Err(format!(
                            "--name: {v} is longer than {} bytes",
                            CONTAINER_NAME_LEN - 1
                        ));
                    }
                    spec.name = Spec(spec)
                        .name(v)
                        .map_err(|e| format!("--name: {v}: {}", e.description()))?
                        .0
                        .name;
                }
                "--cpu-weight" => {
                    let v = value(opt, inline, args, &mut i)?;
                    let w = number(opt, v, u64::from(CPU_WEIGHT_MIN), u64::from(CPU_WEIGHT_MAX))?;
                    spec.cpu_weight = w as u32;
                    spec.flags |= if creating { 0 } else { UPDATE_CPU_WEIGHT };
                }
                "--pids-limit" => {
                    let v = value(opt, inline, args, &mut i)?;
                    spec.max_procs = number(opt, v, 0, NPROC as u64)? as u32;
                    spec.flags |= if creating { 0 } else { UPDATE_MAX_PROCS };
                }
                "--memory" => {
                    let v = value(opt, inline, args, &mut i)?;
                    spec.max_pages = number(opt, v, 0, u64::MAX)?;
                    spec.flags |= if creating { 0 } else { UPDATE_MAX_PAGES };
                }
                "--deny" => {
                    let v = value(opt, inline, args, &mut i)?;
                    spec.deny = if v.is_empty() && !creating {
                        [0; DENY_WORDS]
                    } else {
                        parse_deny(v).map_err(|e| format!("--deny: {e}"))?
                    };
                    spec.flags |= if creating { 0 } else { UPDATE_DENY };
                }
                _ => return Err(format!("unknown option {arg}")),
            }
            i += 1;
        }
        Ok(SpecArgs {
            spec,
            rm,
            consumed: i,
        })
    }
}

/// The value of option `opt`: after `=`, or the next argument.
fn value<'a>(
    opt: &str,
    inline: Option<&'a str>,
    args: &[&'a str],
    i: &mut usize,
) -> Result<&'a str, String> {
    if let Some(v) = inline {
        return Ok(v);
    }
    *i += 1;
    args.get(*i)
        .copied()
        .ok_or_else(|| format!("{opt} needs a value"))
}

/// `v` as a decimal number in `min..=max`.
pub fn number(opt: &str, v: &str, min: u64, max: u64) -> Result<u64, String> {
    let n: u64 = v
        .parse()
        .map_err(|_| format!("{opt}: {v} is not a number"))?;
    if n < min || n > max {
        return Err(format!("{opt}: {v} is out of range {min}..{max}"));
    }
    Ok(n)
}

/// CPU use between two samples in tenths of a percent of one CPU (as
/// `docker stats` counts: 2 busy CPUs are 200 %): `cycles0`/`cycles1` the
/// container's cycles, `tsc0`/`tsc1` the time-stamp counter around them.
pub fn cpu_tenths(cycles0: u64, cycles1: u64, tsc0: u64, tsc1: u64) -> u64 {
    let used = u128::from(cycles1.saturating_sub(cycles0));
    let elapsed = u128::from(tsc1.saturating_sub(tsc0));
    if elapsed == 0 {
        return 0;
    }
    u64::try_from(used * 1000 / elapsed).unwrap_or(u64::MAX)
}

/// The time-stamp counter.
pub fn rdtsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: rdtsc reads a counter; it touches no memory.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: Cid, name: &str) -> ContainerInfo {
        let mut c = ContainerInfo {
            id,
            ..ContainerInfo::default()
        };
        c.name[..name.len()].copy_from_slice(name.as_bytes());
        c
    }

    #[test]
    fn spec_builder_checks_names() {
        let s = Spec::new()
            .id(3)
            .flags(SPEC_ALLOW_LEAVE)
            .cpu_weight(7)
            .max_procs(9)
            .max_pages(11)
            .name("web")
            .unwrap()
            .build();
        assert_eq!(
            (s.id, s.flags, s.cpu_weight, s.max_procs, s.max_pages),
            (3, 1, 7, 9, 11)
        );
        assert_eq!(c_field(&s.name), b"web");
        assert_eq!(Spec::new().name("a\0b"), Err(Errno::EINVAL));
        assert_eq!(
            Spec::new().name("0123456789abcdef"),
            Err(Errno::ENAMETOOLONG)
        );
        assert!(Spec::new().name("0123456789abcde").is_ok(), "15 bytes fit");
    }

    #[test]
    fn find_by_id_then_name() {
        let list = [info(1, "c1"), info(2, "web"), info(5, "db")];
        assert_eq!(find("2", &list).map(|c| c.id), Some(2));
        assert_eq!(find("web", &list).map(|c| c.id), Some(2));
        assert_eq!(find("db", &list).map(|c| c.id), Some(5));
        assert_eq!(find("3", &list).map(|c| c.id), None);
        assert_eq!(find("foo", &list).map(|c| c.id), None);
        assert_eq!(find("", &list).map(|c| c.id), None);
    }

    #[test]
    fn deny_lists_use_the_call_table() {
        let d = parse_deny("fork,sbrk").unwrap();
        assert_eq!(d[0], (1 << nr::fork) | (1 << nr::sbrk));
        assert_eq!(d[1], 0);
        assert_eq!(deny_names(&d), ["fork", "sbrk"]);
        let d = parse_deny(" getcid ").unwrap();
        assert_eq!(d[0], 1 << 41);
        assert_eq!(
            parse_deny("fork,nosuch"),
            Err("no such system call: nosuch".into())
        );
        assert_eq!(parse_deny("exit"), Err("exit cannot be denied".into()));
        assert!(parse_deny("fork,,sbrk").is_err());
        assert_eq!(deny_names(&[0, 1]), ["#64"]);
    }

    #[test]
    fn spec_options_for_create_and_run() {
        let a = SpecArgs::parse(
            &[
                "--name",
                "web",
                "--cpu-weight=200",
                "--pids-limit",
                "8",
                "--memory",
                "300",
                "--deny",
                "fork",
                "--pid=host",
                "--allow-leave",
                "echo",
                "--name",
            ],
            SpecCommand::Create,
        )
        .unwrap();
        assert_eq!(a.consumed, 11, "stops at the first operand");
        assert_eq!(c_field(&a.spec.name), b"web");
        assert_eq!(a.spec.cpu_weight, 200);
        assert_eq!(a.spec.max_procs, 8);
        assert_eq!(a.spec.max_pages, 300);
        assert_eq!(a.spec.deny[0], 1 << nr::fork);
        assert_eq!(a.spec.flags, SPEC_ALLOW_LEAVE | SPEC_PID_HOST);
        assert!(!a.rm);
        let r = SpecArgs::parse(&["--rm", "--", "-x"], SpecCommand::Run).unwrap();
        assert!(r.rm);
        assert_eq!(r.consumed, 2);
        assert_eq!(
            SpecArgs::parse(&["--rm"], SpecCommand::Create),
            Err("unknown option --rm".into())
        );
    }

    #[test]
    fn spec_option_errors_name_option_and_value() {
        let err = |args: &[&str], cmd| SpecArgs::parse(args, cmd).unwrap_err();
        use SpecCommand::*;
        assert_eq!(
            err(&["--cpu-weight", "20000"], Create),
            "--cpu-weight: 20000 is out of range 1..10000"
        );
        assert_eq!(
            err(&["--cpu-weight", "0"], Update),
            "--cpu-weight: 0 is out of range 1..10000"
        );
        assert_eq!(
            err(&["--cpu-weight", "x"], Run),
            "--cpu-weight: x is not a number"
        );
        assert_eq!(err(&["--cpu-weight"], Run), "--cpu-weight needs a value");
        assert_eq!(
            err(&["--pids-limit", "-1"], Run),
            "--pids-limit: -1 is not a number"
        );
        assert_eq!(
            err(&["--deny", "nosuch"], Run),
            "--deny: no such system call: nosuch"
        );
        assert_eq!(
            err(&["--name", "12"], Create),
            "--name: 12 is a number (it would read as an id)"
        );
        assert_eq!(
            err(&["--name", "0123456789abcdef"], Create),
            "--name: 0123456789abcdef is longer than 15 bytes"
        );
        assert_eq!(
            err(&["--pid=private"], Create),
            "--pid: \"private\" is not supported (only --pid=host)"
        );
        assert_eq!(
            err(&["--allow-leave=1"], Create),
            "--allow-leave takes no value"
        );
        assert_eq!(err(&["--name", "x"], Update), "unknown option --name");
        assert_eq!(err(&["-z"], Update), "unknown option -z");
    }

    #[test]
    fn update_options_set_update_flags() {
        let u = SpecArgs::parse(
            &["--cpu-weight", "5", "--deny=", "web"],
            SpecCommand::Update,
        )
        .unwrap();
        assert_eq!(u.spec.flags, UPDATE_CPU_WEIGHT | UPDATE_DENY);
        assert_eq!(u.spec.deny, [0, 0], "an empty deny list clears the set");
        assert_eq!(u.consumed, 3);
        let u = SpecArgs::parse(
            &["--memory", "0", "--pids-limit=3", "x"],
            SpecCommand::Update,
        )
        .unwrap();
        assert_eq!(u.spec.flags, UPDATE_MAX_PAGES | UPDATE_MAX_PROCS);
        assert_eq!((u.spec.max_pages, u.spec.max_procs), (0, 3));
    }

    #[test]
    fn cpu_share_in_tenths_of_a_percent() {
        assert_eq!(cpu_tenths(0, 500, 1000, 2000), 500);
        assert_eq!(cpu_tenths(0, 2000, 1000, 2000), 2000, "two CPUs: 200 %");
        assert_eq!(cpu_tenths(10, 5, 0, 100), 0, "counters never run backwards");
        assert_eq!(cpu_tenths(0, 5, 7, 7), 0);
        assert_eq!(cpu_tenths(0, u64::MAX, 0, 1), u64::MAX);
    }
}
