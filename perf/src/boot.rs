//! Boot to prompt: the host's wall time from spawning QEMU to the shell's
//! first `$ `, one figure per boot ([`Run::to_prompt`], measured by the
//! runner, not by the guest), combined into one row: the median (element
//! n/2), min and max over boots, in seconds and, with the guests' own TSC
//! calibration, in TSC cycles (under TCG the guest's TSC is the host's, so
//! a host wall time converts to the cycles a guest would have counted).
//!
//! berth boots with qboot; xv6's figures in `BASELINES.md` were taken with
//! SeaBIOS, which spends longer before the kernel runs.

use std::time::Duration;

use crate::baseline::Xv6;
use crate::median;
use crate::parse::Run;

/// Boot to prompt over all boots.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BootTime {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
    /// Boots that reached the prompt (and produced results).
    pub boots: usize,
}

/// Combines the runs' boot-to-prompt times; `None` if no run has one.
pub fn combine(runs: &[Run]) -> Option<BootTime> {
    let got: Vec<Duration> = runs.iter().filter_map(|r| r.to_prompt).collect();
    Some(BootTime {
        median: median(&got)?,
        min: *got.iter().min()?,
        max: *got.iter().max()?,
        boots: got.len(),
    })
}

/// `d` in TSC cycles at `hz` (`None` without a calibration).
pub fn cycles(d: Duration, hz: Option<u64>) -> Option<u64> {
    let hz = hz.filter(|&h| h > 0)?;
    Some((d.as_secs_f64() * hz as f64).round() as u64)
}

/// `1.36 s` from one second up, `830 ms` below.
pub fn secs_text(secs: f64) -> String {
    if secs >= 1.0 {
        format!("{secs:.2} s")
    } else {
        format!("{:.0} ms", secs * 1000.0)
    }
}

impl BootTime {
    /// berth's time over xv6's (only xv6 figures in seconds compare).
    pub fn ratio(&self, xv6: Xv6) -> Option<f64> {
        match xv6 {
            Xv6::Seconds(x) if x > 0.0 => Some(self.median.as_secs_f64() / x),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boots(ms: &[u64]) -> Vec<Run> {
        ms.iter()
            .map(|&m| Run {
                to_prompt: Some(Duration::from_millis(m)),
                ..Run::default()
            })
            .collect()
    }

    #[test]
    fn median_min_max_over_boots() {
        let mut runs = boots(&[900, 700, 1_500, 800]);
        // A boot without a time (none measured) does not count.
        runs.push(Run::default());
        let b = combine(&runs).unwrap();
        assert_eq!(b.median, Duration::from_millis(900));
        assert_eq!(b.min, Duration::from_millis(700));
        assert_eq!(b.max, Duration::from_millis(1_500));
        assert_eq!(b.boots, 4);
        assert_eq!(combine(&[Run::default()]), None);
        assert_eq!(combine(&[]), None);
    }

    #[test]
    fn cycles_from_the_guests_calibration() {
        let d = Duration::from_millis(1_500);
        assert_eq!(cycles(d, Some(2_300_000_000)), Some(3_450_000_000));
        assert_eq!(cycles(d, None), None);
        assert_eq!(cycles(d, Some(0)), None);
    }

    #[test]
    fn ratio_is_time_over_time() {
        let b = combine(&boots(&[1_100])).unwrap();
        assert!((b.ratio(Xv6::Seconds(0.55)).unwrap() - 2.0).abs() < 1e-9);
        assert!((b.ratio(Xv6::Seconds(2.2)).unwrap() - 0.5).abs() < 1e-9);
        assert_eq!(b.ratio(Xv6::Cycles(1_000)), None);
        assert_eq!(b.ratio(Xv6::Mbps(1.0)), None);
        assert_eq!(b.ratio(Xv6::Seconds(0.0)), None);
    }

    #[test]
    fn seconds_or_milliseconds() {
        assert_eq!(secs_text(0.55), "550 ms");
        assert_eq!(secs_text(1.364), "1.36 s");
        assert_eq!(secs_text(9.16), "9.16 s");
    }
}
