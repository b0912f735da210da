//! `hellowork articles`: for each clause of the terms, the rules that
//! enforce it (their `ErrorInfo` reason), the tests that check them and the
//! metrics that count them, or why software cannot enforce it. Built from
//! what `build.rs` found in the sources this binary was built from: the
//! [`Article`] enum and every citation of it.

use std::{collections::BTreeSet, fmt::Write, process::ExitCode};

use clap::Args;
use hellowork_values::{Article, Enforcement};

/// What `build.rs` found: `kind\treason\tplace\twhat` per line.
const USES: &str = include_str!(concat!(env!("OUT_DIR"), "/article_uses.tsv"));

#[derive(Debug, Args)]
pub struct ArticlesArgs {
    /// Every test and rule, not the first few of each.
    #[arg(long)]
    all: bool,
}

/// What enforces one clause.
#[derive(Debug, Default)]
struct Enforcers {
    /// `place  line` of each rule.
    rules: Vec<String>,
    /// `file  function` of each test, once per function.
    tests: BTreeSet<String>,
    /// Metric names.
    metrics: BTreeSet<String>,
}

fn enforcers(article: Article) -> Enforcers {
    let reason = article.reason();
    let mut found = Enforcers::default();
    for line in USES.lines() {
        let mut fields = line.splitn(4, '\t');
        let (Some(kind), Some(cited), Some(place), Some(what)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if cited != reason {
            continue;
        }
        let file = place.split(':').next().unwrap_or(place);
        match kind {
            "rule" => found.rules.push(format!("{place}  {what}")),
            "test" => {
                found.tests.insert(format!("{file}  {what}"));
            }
            "metric" => {
                found.metrics.insert(what.to_owned());
            }
            _ => {}
        }
    }
    found
}

/// The clauses software can enforce that lack a rule or a test.
fn unenforced() -> Vec<(Article, &'static str)> {
    Article::ALL
        .into_iter()
        .filter(|a| a.enforcement() == Enforcement::Enforced)
        .filter_map(|article| {
            let found = enforcers(article);
            if found.rules.is_empty() {
                Some((article, "no rule"))
            } else if found.tests.is_empty() {
                Some((article, "no test"))
            } else {
                None
            }
        })
        .collect()
}

fn list<'a>(
    out: &mut String,
    label: &str,
    items: impl ExactSizeIterator<Item = &'a String>,
    all: bool,
) {
    let count = items.len();
    let shown = if all { count } else { 4 };
    for (i, item) in items.take(shown).enumerate() {
        let head = if i == 0 { label } else { "" };
        let _ = writeln!(out, "  {head:<8} {item}");
    }
    if count > shown {
        let _ = writeln!(out, "  {:<8} … and {} more (--all)", "", count - shown);
    }
}

/// The table, and exit status 1 if an enforceable clause has no rule or no
/// test (each such clause named at the end).
pub fn run(args: &ArticlesArgs) -> Result<(String, ExitCode), String> {
    let mut out = String::new();
    for article in Article::ALL {
        let _ = writeln!(
            out,
            "{article}  {}  [{}]",
            article.title(),
            article.reason()
        );
        match article.enforcement() {
            Enforcement::NotMachineEnforceable(why) => {
                let _ = writeln!(out, "  not machine-enforceable: {why}");
            }
            Enforcement::Enforced => {
                let found = enforcers(article);
                list(&mut out, "rules", found.rules.iter(), args.all);
                list(&mut out, "tests", found.tests.iter(), args.all);
                list(&mut out, "metrics", found.metrics.iter(), true);
            }
        }
    }
    let missing = unenforced();
    for (article, what) in &missing {
        let _ = writeln!(out, "{article}: enforceable, but {what} cites it");
    }
    let code = if missing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    Ok((out, code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enforceable_clause_has_a_rule_and_a_test() {
        assert_eq!(unenforced(), vec![]);
    }

    #[test]
    fn no_rule_cites_a_clause_said_to_be_beyond_software() {
        for article in Article::ALL {
            if let Enforcement::NotMachineEnforceable(why) = article.enforcement() {
                let rules = enforcers(article).rules;
                assert!(rules.is_empty(), "{article} ({why}) is cited by {rules:?}");
            }
        }
    }

    #[test]
    fn the_scan_finds_known_rules_tests_and_metrics() {
        let file_sharing = enforcers(Article::Art5_5);
        assert!(
            file_sharing
                .rules
                .iter()
                .any(|r| r.starts_with("services/registration/src/domain/environment/")),
            "{:?}",
            file_sharing.rules
        );
        assert!(
            file_sharing
                .metrics
                .contains("registration_environment_item_failures_total")
        );
        let disclosure = enforcers(Article::Art7_2);
        assert!(
            disclosure
                .tests
                .iter()
                .any(|t| t.starts_with("services/audit-log/tests/"))
        );
    }
}
