//! The CPU-count sweep (`--sweep K,K...`): after the main boots, more boots
//! at other CPU counts that run only the benchmarks whose results depend on
//! the CPU count ([`PREFIXES`]: yield throughput, the (g)/(g') scaling
//! tests, wakeup-to-run latency), and the boots of one CPU count ([`Set`]).

use crate::parse::Run;

/// The guest's name prefixes of the CPU-count-dependent benchmarks:
/// `yield_1`, `yield_cpus`, `scale_{sleep,yield,compute}_{1,cpus}`,
/// `wakeup_{idle,loaded}` (and their `_p99` rows).
pub const PREFIXES: [&str; 3] = ["yield", "scale", "wakeup"];

/// The boots at one CPU count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Set {
    pub cpus: usize,
    /// Boots attempted (the failed ones are not in `runs`).
    pub boots: usize,
    pub runs: Vec<Run>,
}

/// The names a sweep boot gives the guest's `bench` (which runs every
/// benchmark whose name starts with one of them). With no names from the
/// command line, [`PREFIXES`]; otherwise the part of the command line's
/// selection that [`PREFIXES`] covers: a name under a prefix as it is
/// (`scale_sleep`), a shorter name by the prefixes it starts (`s` ->
/// `scale`). Empty: nothing of the selection depends on the CPU count.
pub fn names(selected: &[String]) -> Vec<String> {
    if selected.is_empty() {
        return PREFIXES.map(String::from).to_vec();
    }
    let mut out: Vec<String> = Vec::new();
    for s in selected {
        let picked: Vec<&str> = if PREFIXES.iter().any(|p| s.starts_with(p)) {
            vec![s.as_str()]
        } else {
            PREFIXES
                .iter()
                .copied()
                .filter(|p| p.starts_with(s.as_str()))
                .collect()
        };
        for p in picked {
            if !out.iter().any(|o| o == p) {
                out.push(p.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_of(selected: &[&str]) -> Vec<String> {
        names(&selected.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn all_three_without_a_selection() {
        assert_eq!(names_of(&[]), ["yield", "scale", "wakeup"]);
    }

    #[test]
    fn the_selection_the_sweep_covers() {
        assert_eq!(names_of(&["null", "pipe"]), Vec::<String>::new());
        assert_eq!(names_of(&["pipe", "scale_sleep"]), ["scale_sleep"]);
        assert_eq!(names_of(&["yield_cpus", "w"]), ["yield_cpus", "wakeup"]);
        assert_eq!(names_of(&["s"]), ["scale"]);
        assert_eq!(
            names_of(&["scale", "scale_yield"]),
            ["scale", "scale_yield"]
        );
        assert_eq!(names_of(&["wakeup", "wakeup"]), ["wakeup"]);
    }
}
