//! The outcomes of a bad-input run counted per RPC, with the time spent,
//! the swept cases and every failure, printed as a table.

use std::{collections::BTreeMap, fmt, time::Duration};

use super::Outcome;

/// Outcomes per RPC.
#[derive(Debug, Default)]
pub struct Report {
    pub counts: BTreeMap<String, BTreeMap<Outcome, u32>>,
    /// Time spent per RPC.
    pub times: BTreeMap<String, Duration>,
    /// Of the cases per RPC, how many were the one-field sweep of its seeds.
    pub swept: BTreeMap<String, u32>,
    pub failures: Vec<String>,
    pub elapsed: Duration,
}

impl Report {
    /// Cases run in all.
    pub fn total(&self) -> u32 {
        self.counts.values().flat_map(|c| c.values()).sum()
    }

    /// Panics with every failure, if any.
    pub fn assert_passed(&self) {
        assert!(
            self.failures.is_empty(),
            "{} RPC(s) failed on bad input:\n\n{}",
            self.failures.len(),
            self.failures.join("\n\n")
        );
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let labels = [
            Outcome::Ok,
            Outcome::Invalid,
            Outcome::Refused,
            Outcome::State,
            Outcome::NotFound,
            Outcome::AlreadyExists,
            Outcome::PermissionDenied,
            Outcome::Unauthenticated,
            Outcome::TooLarge,
        ];
        write!(
            f,
            "{:<30} {:>6} {:>6} {:>6}",
            "rpc", "secs", "cases", "sweep"
        )?;
        for label in &labels {
            write!(f, " {:>11}", label.label())?;
        }
        writeln!(f)?;
        for (method, counts) in &self.counts {
            let secs = self.times.get(method).map_or(0.0, Duration::as_secs_f64);
            let swept = self.swept.get(method).copied().unwrap_or(0);
            write!(
                f,
                "{method:<30} {secs:>6.1} {:>6} {swept:>6}",
                counts.values().sum::<u32>()
            )?;
            for label in &labels {
                write!(f, " {:>11}", counts.get(label).copied().unwrap_or(0))?;
            }
            writeln!(f)?;
        }
        write!(
            f,
            "{} cases in {:.1} s, {} failure(s)",
            self.total(),
            self.elapsed.as_secs_f64(),
            self.failures.len()
        )
    }
}
