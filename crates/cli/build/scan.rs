//! The scanner behind `build.rs`: one pass over every `.rs` file, sorting
//! each citation of an article into a rule, a test or a metric.

use std::{fs, path::Path, sync::LazyLock};

use hellowork_values::Article;
use regex::Regex;

fn pattern(text: &str) -> Regex {
    Regex::new(text).expect("the scanner's patterns are valid")
}

/// `Article::Art5_3` in code.
static VARIANT: LazyLock<Regex> = LazyLock::new(|| pattern(r"Article::Art(\d+)(?:_(\d+))?\b"));
/// A metric's name constant.
static METRIC: LazyLock<Regex> =
    LazyLock::new(|| pattern(r#"pub const [A-Z_]+: &str = "([a-z_]+)";"#));
/// `Art. 5(1)-(3), 12(4)` in prose.
static CITATION: LazyLock<Regex> = LazyLock::new(|| {
    pattern(r"Art\. (\d+(?:\(\d\)(?:-\(\d\))?)?(?:, \d+(?:\(\d\)(?:-\(\d\))?)?)*)")
});
/// One item of a citation.
static ITEM: LazyLock<Regex> = LazyLock::new(|| pattern(r"^(\d+)(?:\((\d)\)(?:-\((\d)\))?)?$"));
/// `ART_5_3` as a reason.
static REASON: LazyLock<Regex> = LazyLock::new(|| pattern(r"\bART_\d+(?:_\d+)?\b"));
/// `"5(3)"` as a label.
static LABEL: LazyLock<Regex> = LazyLock::new(|| pattern(r#""(\d+(?:\(\d\))?)""#));
/// A test named after its clause: `art_5_3_…`.
static NAMED: LazyLock<Regex> = LazyLock::new(|| pattern(r"^art_(\d+)(?:_(\d))?(?:_|$)"));

/// What a citation is part of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rule,
    Test,
    Metric,
}

/// One citation of `article`: where, and what (a rule's line, a test's
/// function, a metric's name).
#[derive(Debug)]
pub struct Use {
    pub kind: Kind,
    pub article: Article,
    pub place: String,
    pub what: String,
}

impl Use {
    /// One tab-separated line of `article_uses.tsv`.
    pub fn line(&self) -> String {
        let kind = match self.kind {
            Kind::Rule => "rule",
            Kind::Test => "test",
            Kind::Metric => "metric",
        };
        let what = self.what.replace(['\t', '\n'], " ");
        format!(
            "{kind}\t{}\t{}\t{what}\n",
            self.article.reason(),
            self.place
        )
    }
}

/// Directories that hold no rule of a service: the values crate defines
/// the articles, the cli lists them, target directories hold builds.
const SKIPPED: [&str; 5] = [
    "crates/values",
    "crates/cli/build",
    "crates/cli/src/articles.rs",
    "target",
    "fuzz",
];

/// Scans every `.rs` file under `dir` into `uses`.
pub fn walk(root: &Path, dir: &Path, uses: &mut Vec<Use>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        if SKIPPED.iter().any(|skipped| relative.starts_with(skipped)) {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, uses);
        } else if relative.ends_with(".rs")
            && let Ok(text) = fs::read_to_string(&path)
        {
            scan_file(&relative, &text, uses);
        }
    }
}

/// Whether a file is test code as a whole.
fn is_test_file(path: &str) -> bool {
    path.contains("/tests/")
        || path.starts_with("tests/")
        || path.ends_with("/tests.rs")
        || path.ends_with("proptests.rs")
}

fn scan_file(path: &str, text: &str, uses: &mut Vec<Use>) {
    let whole_file_is_test = is_test_file(path);
    let mut in_tests = whole_file_is_test;
    let mut function = String::new();
    let mut doc = String::new();
    for (number, line) in text.lines().enumerate() {
        let place = format!("{path}:{}", number + 1);
        let trimmed = line.trim();
        if trimmed.starts_with("#[cfg(test)]") {
            in_tests = true;
        }
        if let Some(name) = function_name(trimmed) {
            function = name;
        }
        if trimmed.starts_with("///") {
            doc.push_str(trimmed);
            doc.push(' ');
        } else {
            if let Some(name) = METRIC.captures(trimmed).map(|c| c[1].to_owned())
                && !in_tests
            {
                for article in cited(&doc) {
                    uses.push(Use {
                        kind: Kind::Metric,
                        article,
                        place: place.clone(),
                        what: name.clone(),
                    });
                }
            }
            if !trimmed.starts_with("#[") {
                doc.clear();
            }
        }
        let articles: Vec<Article> = if in_tests {
            let mut all: Vec<Article> = VARIANT
                .captures_iter(line)
                .filter_map(|c| from_numbers(&c))
                .collect();
            all.extend(cited(line));
            all.extend(reasons(line));
            if let Some(name) = function_name(trimmed) {
                all.extend(named(&name));
            }
            all
        } else {
            VARIANT
                .captures_iter(line)
                .filter_map(|c| from_numbers(&c))
                .collect()
        };
        for article in articles {
            let (kind, what) = if in_tests {
                let what = if function.is_empty() {
                    path.to_owned()
                } else {
                    function.clone()
                };
                (Kind::Test, what)
            } else {
                (Kind::Rule, trimmed.chars().take(120).collect())
            };
            uses.push(Use {
                kind,
                article,
                place: place.clone(),
                what,
            });
        }
    }
}

fn function_name(line: &str) -> Option<String> {
    let at = line.find("fn ")?;
    let before = &line[..at];
    if !before
        .split_whitespace()
        .all(|w| matches!(w, "pub" | "pub(crate)" | "pub(super)" | "async" | "const"))
    {
        return None;
    }
    let name: String = line[at + 3..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

fn from_numbers(captures: &regex::Captures<'_>) -> Option<Article> {
    let label = match captures.get(2) {
        Some(clause) => format!("{}({})", &captures[1], clause.as_str()),
        None => captures[1].to_owned(),
    };
    Article::parse(&label)
}

/// Every clause a citation like `Art. 5(1)-(3), 12(4)` or `Art. 2, 6` in
/// `text` names (a range names each clause in it).
pub fn cited(text: &str) -> Vec<Article> {
    let mut found = Vec::new();
    for captures in CITATION.captures_iter(text) {
        for part in captures[1].split(", ") {
            let Some(c) = ITEM.captures(part) else {
                continue;
            };
            let article = &c[1];
            match (c.get(2), c.get(3)) {
                (Some(first), Some(last)) => {
                    let (first, last): (u8, u8) = (
                        first.as_str().parse().unwrap_or(0),
                        last.as_str().parse().unwrap_or(0),
                    );
                    found.extend(
                        (first..=last).filter_map(|n| Article::parse(&format!("{article}({n})"))),
                    );
                }
                (Some(clause), None) => {
                    found.extend(Article::parse(&format!("{article}({})", clause.as_str())))
                }
                _ => found.extend(Article::parse(article)),
            }
        }
    }
    found
}

/// `ART_5_3` reasons and `"5(3)"` labels, as tests assert them.
fn reasons(line: &str) -> Vec<Article> {
    let mut found: Vec<Article> = REASON
        .find_iter(line)
        .filter_map(|m| Article::parse(m.as_str()))
        .collect();
    if line.contains("article") {
        found.extend(
            LABEL
                .captures_iter(line)
                .filter_map(|c| Article::parse(&c[1])),
        );
    }
    found
}

/// Tests named after their clause: `art_5_3_…`, `art_13_…`.
fn named(function: &str) -> Vec<Article> {
    NAMED
        .captures(function)
        .and_then(|c| from_numbers(&c))
        .into_iter()
        .collect()
}
