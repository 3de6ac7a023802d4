//! The `bench-runner` command line, parsed by clap (the parser every host
//! tool shares): `bench-runner [--cpus N] [--sweep K,K...] [--kvm|--tcg]
//! [--boots N] [--timeout SECS] [NAME...]`.
//!
//! Here rather than in the binary so the parsing is unit-tested (the
//! binary boots QEMU and has no tests of its own). Values out of range are
//! usage errors: clap's message, exit status 2.

use berth_tests::{Accel, MAX_CPUS};
use clap::Parser;
use std::time::Duration;

/// What the command line asked for.
#[derive(Clone, Debug, PartialEq, Eq, Parser)]
#[command(
    name = "bench-runner",
    version,
    // As before clap: a repeated option is not an error, the last one wins.
    args_override_self = true,
    about = "Boot berth under QEMU, run the guest `bench` program and print \
             its results next to MIT xv6's (BASELINES.md)",
    after_help = "The image is $BERTH_FSIMG (else build/fs.img), the kernel $BERTH_KERNEL \
                  (else build/kernel.elf). Exit status: 0 results printed, 1 no boot \
                  produced results, 2 usage error or --kvm without a usable KVM."
)]
pub struct Cli {
    /// CPUs for the guest (1 to 8)
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = cpus)]
    pub cpus: usize,
    /// After the boots at --cpus, boot at each of these CPU counts too
    /// (1 to 8, comma-separated; empty: none) and run only the scheduling
    /// benchmarks there (yield, scale, wakeup)
    #[arg(long, value_name = "K,K...", value_parser = cpu_list)]
    pub sweep: Option<CpuList>,
    /// Boots to take the median over (at --cpus and at each --sweep count)
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = boots)]
    pub boots: usize,
    /// Longest wait for the next result line, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,
    /// Run under KVM (the default is TCG, as xv6 was measured)
    #[arg(long, overrides_with = "tcg")]
    pub kvm: bool,
    /// Run under TCG (the default; the last of --kvm and --tcg wins)
    #[arg(long, overrides_with = "kvm")]
    pub tcg: bool,
    /// Run only benchmarks whose names start with these words
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
}

impl Cli {
    /// The accelerator asked for: TCG unless `--kvm` came last.
    pub fn accel(&self) -> Accel {
        if self.kvm {
            Accel::Kvm
        } else {
            Accel::Tcg
        }
    }

    /// The `--sweep` CPU counts, in the order given (empty: no sweep).
    pub fn sweep(&self) -> &[usize] {
        self.sweep.as_ref().map_or(&[], |l| &l.0)
    }

    /// `--timeout` as a duration.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }
}

fn cpus(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_CPUS).contains(&n) => Ok(n),
        Ok(_) => Err(format!("berth runs on 1 to {MAX_CPUS} CPUs")),
        Err(_) => Err("not a number".to_string()),
    }
}

/// The CPU counts of `--sweep`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuList(pub Vec<usize>);

/// `2,4,8`: each a valid CPU count, none twice; empty: none.
fn cpu_list(text: &str) -> Result<CpuList, String> {
    let mut list = Vec::new();
    for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let n = cpus(word).map_err(|why| format!("{word}: {why}"))?;
        if list.contains(&n) {
            return Err(format!("{n} is listed twice"));
        }
        list.push(n);
    }
    Ok(CpuList(list))
}

fn boots(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("nothing to measure".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err("not a number".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("bench-runner").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let c = parse(&[]).unwrap();
        assert_eq!((c.cpus, c.boots, c.accel()), (1, 3, Accel::Tcg));
        assert_eq!(c.timeout(), Duration::from_secs(600));
        assert!(c.names.is_empty());
        assert!(c.sweep().is_empty());
    }

    #[test]
    fn the_makefile_command_line() {
        // `bench-runner --cpus $(CPUS) --boots $(BENCH_BOOTS) [--kvm] $(BENCH)`
        let c = parse(&["--cpus", "8", "--boots", "5", "--kvm", "pipe_rtt", "fork"]).unwrap();
        assert_eq!((c.cpus, c.boots, c.accel()), (8, 5, Accel::Kvm));
        assert_eq!(c.names, ["pipe_rtt", "fork"]);
        let c = parse(&["--timeout", "30", "--kvm", "--tcg"]).unwrap();
        assert_eq!((c.timeout, c.accel()), (30, Accel::Tcg));
        assert_eq!(parse(&["--tcg", "--kvm"]).unwrap().accel(), Accel::Kvm);
        let c = parse(&["--kvm", "--kvm", "--cpus", "2", "--cpus", "4"]).unwrap();
        assert_eq!((c.cpus, c.accel()), (4, Accel::Kvm));
    }

    #[test]
    fn sweep() {
        let c = parse(&["--cpus", "1", "--sweep", "2,4,8", "--boots", "1"]).unwrap();
        assert_eq!((c.cpus, c.sweep(), c.boots), (1, &[2, 4, 8][..], 1));
        // The order given; spaces and a trailing comma are harmless.
        let c = parse(&["--sweep", "8, 1,", "yield"]).unwrap();
        assert_eq!(
            (c.sweep(), &c.names[..]),
            (&[8, 1][..], &["yield".to_string()][..])
        );
        assert_eq!(parse(&["--sweep=4"]).unwrap().sweep(), [4]);
        // `SWEEP=` in the Makefile: no sweep.
        assert!(parse(&["--sweep", ""]).unwrap().sweep().is_empty());
        // Repeated: the last wins, as for the other options.
        assert_eq!(
            parse(&["--sweep", "2", "--sweep", "4,8"]).unwrap().sweep(),
            [4, 8]
        );
    }

    #[test]
    fn sweep_errors() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        for (list, why) in [
            ("2,9", "9: berth runs on 1 to 8 CPUs"),
            ("0", "0: berth runs on 1 to 8 CPUs"),
            ("2,x", "x: not a number"),
            ("2;4", "2;4: not a number"),
            ("4,2,4", "4 is listed twice"),
        ] {
            let e = err(&["--sweep", list]);
            assert_eq!(e.kind(), ErrorKind::ValueValidation, "{list}");
            assert!(e.to_string().contains(why), "{list}: {e}");
            assert_eq!(e.exit_code(), 2);
        }
        assert_eq!(err(&["--sweep"]).kind(), ErrorKind::InvalidValue);
    }

    #[test]
    fn usage_errors() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        assert_eq!(err(&["--bogus"]).kind(), ErrorKind::UnknownArgument);
        assert_eq!(err(&["--cpus"]).kind(), ErrorKind::InvalidValue);
        assert_eq!(err(&["--cpus", "x"]).kind(), ErrorKind::ValueValidation);
        let e = err(&["--cpus", "9"]);
        assert_eq!(e.kind(), ErrorKind::ValueValidation);
        assert!(e.to_string().contains("1 to 8 CPUs"), "{e}");
        assert_eq!(e.exit_code(), 2);
        assert_eq!(err(&["--cpus", "0"]).kind(), ErrorKind::ValueValidation);
        assert!(err(&["--boots", "0"])
            .to_string()
            .contains("nothing to measure"));
        assert_eq!(err(&["--timeout", "-1"]).kind(), ErrorKind::UnknownArgument);
        assert_eq!(err(&["--help"]).kind(), ErrorKind::DisplayHelp);
        assert_eq!(err(&["--version"]).kind(), ErrorKind::DisplayVersion);
    }
}
