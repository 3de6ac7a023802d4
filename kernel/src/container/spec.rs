//! Checking what a caller asks of a container: a [`ContainerSpec`] turned
//! into [`Limits`], or refused with the error the ABI documents
//! (`berth_abi::container`). Pure logic, unit-tested on the host.

use berth_abi::container::*;
use berth_abi::errno::Errno;
use berth_abi::syscall::{nr, TABLE};

/// The limits and policy of a container (cgroup-shaped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub cpu_weight: u32,
    /// 0: no limit.
    pub max_procs: u32,
    /// 0: no limit.
    pub max_pages: u64,
    pub deny: [u64; DENY_WORDS],
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            cpu_weight: CPU_WEIGHT_DEFAULT,
            max_procs: 0,
            max_pages: 0,
            deny: [0; DENY_WORDS],
        }
    }
}

/// Whether the deny set `deny` refuses call `num`.
pub fn denies(deny: &[u64; DENY_WORDS], num: u64) -> bool {
    (num as usize) < DENY_CALLS && deny[num as usize / 64] & (1 << (num % 64)) != 0
}

/// `EINVAL` unless every bit of `deny` names an existing call other than `exit`
/// (a process that cannot exit could never leave a container it is sealed in).
pub fn check_deny(deny: &[u64; DENY_WORDS]) -> Result<(), Errno> {
    for n in 0..DENY_CALLS as u64 {
        if denies(deny, n) && (n == nr::exit as u64 || !TABLE.iter().any(|c| c.0 as u64 == n)) {
            return Err(Errno::EINVAL);
        }
    }
    Ok(())
}

fn check_weight(w: u32) -> Result<u32, Errno> {
    match w {
        0 => Ok(CPU_WEIGHT_DEFAULT),
        CPU_WEIGHT_MIN..=CPU_WEIGHT_MAX => Ok(w),
        _ => Err(Errno::EINVAL),
    }
}

fn check_procs(p: u32) -> Result<u32, Errno> {
    if p as usize > berth_abi::limits::NPROC {
        return Err(Errno::EINVAL);
    }
    Ok(p)
}

/// The name of a spec: its bytes up to the NUL; `ENAMETOOLONG` without a
/// NUL, `EINVAL` for a name that `ctr` could not tell from an id (starting
/// with a digit) or that holds a byte outside printable ASCII or a space.
pub fn check_name(raw: &[u8; CONTAINER_NAME_LEN]) -> Result<&[u8], Errno> {
    if !raw.contains(&0) {
        return Err(Errno::ENAMETOOLONG);
    }
    let name = c_field(raw);
    if name.first().is_some_and(u8::is_ascii_digit) || name.iter().any(|b| !b.is_ascii_graphic()) {
        return Err(Errno::EINVAL);
    }
    Ok(name)
}

/// What `create_container(spec)` asks for: the id (0: any), flags, limits.
pub fn check_create(spec: &ContainerSpec) -> Result<(usize, u32, Limits), Errno> {
    let id = match spec.id {
        0 => 0,
        i if i > 0 && i as usize <= MAX_CONTAINERS => i as usize,
        _ => return Err(Errno::EINVAL),
    };
    if spec.flags & !SPEC_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    check_deny(&spec.deny)?;
    check_name(&spec.name)?;
    Ok((
        id,
        spec.flags,
        Limits {
            cpu_weight: check_weight(spec.cpu_weight)?,
            max_procs: check_procs(spec.max_procs)?,
            max_pages: spec.max_pages,
            deny: spec.deny,
        },
    ))
}

/// `limits` changed as `update_container(id, spec)` asks (`spec.flags` names the fields).
pub fn apply_update(limits: &Limits, spec: &ContainerSpec) -> Result<Limits, Errno> {
    if spec.flags & !UPDATE_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let mut new = *limits;
    if spec.flags & UPDATE_CPU_WEIGHT != 0 {
        new.cpu_weight = check_weight(spec.cpu_weight)?;
    }
    if spec.flags & UPDATE_MAX_PROCS != 0 {
        new.max_procs = check_procs(spec.max_procs)?;
    }
    if spec.flags & UPDATE_MAX_PAGES != 0 {
        new.max_pages = spec.max_pages;
    }
    if spec.flags & UPDATE_DENY != 0 {
        check_deny(&spec.deny)?;
        new.deny = spec.deny;
    }
    Ok(new)
}

/// A container id argument: `EINVAL` for the host (0) or out of range.
pub fn check_id(id: i32) -> Result<usize, Errno> {
    if id > 0 && id as usize <= MAX_CONTAINERS {
        Ok(id as usize)
    } else {
        Err(Errno::EINVAL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ContainerSpec {
        ContainerSpec::default()
    }

    #[test]
    fn defaults_and_ranges() {
        let (id, flags, l) = check_create(&spec()).unwrap();
        assert_eq!((id, flags), (0, 0));
        assert_eq!(l, Limits::default());
        for bad in [-1, 65, 1000, i32::MIN] {
            assert_eq!(
                check_create(&ContainerSpec { id: bad, ..spec() }),
                Err(Errno::EINVAL)
            );
        }
        assert_eq!(
            check_create(&ContainerSpec { id: 64, ..spec() }).unwrap().0,
            64
        );
        for bad in [10_001, u32::MAX] {
            let s = ContainerSpec {
                cpu_weight: bad,
                ..spec()
            };
            assert_eq!(check_create(&s), Err(Errno::EINVAL));
        }
        let s = ContainerSpec {
            cpu_weight: 10_000,
            max_procs: 1024,
            ..spec()
        };
        assert_eq!(check_create(&s).unwrap().2.cpu_weight, 10_000);
        let s = ContainerSpec {
            max_procs: 1025,
            ..spec()
        };
        assert_eq!(check_create(&s), Err(Errno::EINVAL));
        let s = ContainerSpec {
            flags: 1 << 7,
            ..spec()
        };
        assert_eq!(check_create(&s), Err(Errno::EINVAL));
        assert_eq!(check_id(0), Err(Errno::EINVAL));
        assert_eq!(check_id(-3), Err(Errno::EINVAL));
        assert_eq!(check_id(65), Err(Errno::EINVAL));
        assert_eq!(check_id(1), Ok(1));
    }

    #[test]
    fn deny_sets_name_existing_calls_but_never_exit() {
        let mut d = [0u64; DENY_WORDS];
        d[0] = 1 << nr::fork;
        assert!(check_deny(&d).is_ok());
        assert!(denies(&d, nr::fork as u64));
        assert!(!denies(&d, nr::wait as u64));
        assert!(!denies(&d, 10_000));
        d[0] |= 1 << nr::exit;
        assert_eq!(check_deny(&d), Err(Errno::EINVAL));
        let mut d = [0u64; DENY_WORDS];
        d[1] = 1 << 63; // call 127 does not exist
        assert_eq!(check_deny(&d), Err(Errno::EINVAL));
        let mut d = [0u64; DENY_WORDS];
        d[0] = 1; // call 0 does not exist
        assert_eq!(check_deny(&d), Err(Errno::EINVAL));
    }

    #[test]
    fn names() {
        let mut raw = [b'a'; CONTAINER_NAME_LEN];
        assert_eq!(check_name(&raw), Err(Errno::ENAMETOOLONG));
        raw[15] = 0;
        assert_eq!(check_name(&raw).unwrap().len(), 15);
        let mut raw = [0u8; CONTAINER_NAME_LEN];
        assert_eq!(check_name(&raw).unwrap(), b"");
        raw[0] = b'7';
        assert_eq!(check_name(&raw), Err(Errno::EINVAL));
        raw[0] = b'a';
        raw[1] = b' ';
        assert_eq!(check_name(&raw), Err(Errno::EINVAL));
    }

    #[test]
    fn updates_change_only_named_fields() {
        let base = Limits::default();
        let s = ContainerSpec {
            flags: UPDATE_CPU_WEIGHT,
            cpu_weight: 500,
            max_procs: 3,
            ..spec()
        };
        let l = apply_update(&base, &s).unwrap();
        assert_eq!((l.cpu_weight, l.max_procs), (500, 0));
        let s = ContainerSpec {
            flags: UPDATE_MAX_PROCS | UPDATE_MAX_PAGES,
            max_procs: 5,
            max_pages: 100,
            ..spec()
        };
        let l = apply_update(&l, &s).unwrap();
        assert_eq!((l.cpu_weight, l.max_procs, l.max_pages), (500, 5, 100));
        let s = ContainerSpec {
            flags: UPDATE_CPU_WEIGHT,
            cpu_weight: 20_000,
            ..spec()
        };
        assert_eq!(apply_update(&l, &s), Err(Errno::EINVAL));
        let s = ContainerSpec {
            flags: 1 << 9,
            ..spec()
        };
        assert_eq!(apply_update(&l, &s), Err(Errno::EINVAL));
    }
}
