//! Art. 5(3): the OS support-lifecycle table, kept as data in
//! `data/os_support_lifecycle.csv` (with its sources and compile date) and
//! embedded at build time, so a reviewed change to the data is a reviewed
//! change to the rule.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

/// The table shipped with the service.
const EMBEDDED: &str = include_str!("../../data/os_support_lifecycle.csv");
const HEADER: &str = "os,version,support_end,source";
const COMPILED_PREFIX: &str = "# compiled:";

/// Why the table cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
    #[error("the table has no `{COMPILED_PREFIX} YYYY-MM-DD` comment")]
    NoCompileDate,
    #[error("the table has no `{HEADER}` header")]
    NoHeader,
}

/// One row: an OS release and the last day of its vendor support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsLifecycleEntry {
    pub os: String,
    /// Empty: every version of `os`.
    pub version: String,
    pub support_end: NaiveDate,
    pub source: String,
}

/// The whole table and its version (its compile date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsLifecycle {
    pub table_version: String,
    entries: Vec<OsLifecycleEntry>,
}

impl OsLifecycle {
    /// The table in `data/`, checked by this crate's tests.
    pub fn embedded() -> Self {
        Self::parse(EMBEDDED).expect("the embedded OS lifecycle table is valid (tested)")
    }

    pub fn parse(text: &str) -> Result<Self, LifecycleError> {
        let mut table_version = None;
        let mut header_seen = false;
        let mut entries = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let problem = |problem: &str| LifecycleError::Line {
                line: index + 1,
                problem: problem.to_owned(),
            };
            if let Some(date) = line.strip_prefix(COMPILED_PREFIX) {
                let date = date.trim();
                NaiveDate::parse_from_str(date, "%Y-%m-%d")
                    .map_err(|_| problem("compile date must be YYYY-MM-DD"))?;
                table_version = Some(date.to_owned());
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if !header_seen {
                if line != HEADER {
                    return Err(LifecycleError::NoHeader);
                }
                header_seen = true;
                continue;
            }
            let fields: Vec<&str> = line.splitn(4, ',').map(str::trim).collect();
            let [os, version, support_end, source] = fields[..] else {
                return Err(problem("expected os,version,support_end,source"));
            };
            if os.is_empty() {
                return Err(problem("os must not be empty"));
            }
            let support_end = NaiveDate::parse_from_str(support_end, "%Y-%m-%d")
                .map_err(|_| problem("support_end must be YYYY-MM-DD"))?;
            entries.push(OsLifecycleEntry {
                os: os.to_owned(),
                version: version.to_owned(),
                support_end,
                source: source.to_owned(),
            });
        }
        if !header_seen {
            return Err(LifecycleError::NoHeader);
        }
        Ok(Self {
            table_version: table_version.ok_or(LifecycleError::NoCompileDate)?,
            entries,
        })
    }

    /// The row for a reported OS: same OS name (width and case folded), and
    /// the longest table version that is a prefix of the reported version at
    /// a `.`, ` ` or `-` boundary (`17` matches `17.5.1`, not `171`).
    pub fn lookup(&self, os: &str, version: &str) -> Option<&OsLifecycleEntry> {
        let os = fold(os);
        let version = fold(version);
        self.entries
            .iter()
            .filter(|entry| fold(&entry.os) == os)
            .filter(|entry| {
                let prefix = fold(&entry.version);
                prefix.is_empty()
                    || version
                        .strip_prefix(&prefix)
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', ' ', '-']))
            })
            .max_by_key(|entry| entry.version.len())
    }
}

fn fold(text: &str) -> String {
    text.nfkc()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn the_embedded_table_parses_and_covers_the_required_systems() {
        let table = OsLifecycle::embedded();
        assert_eq!(table.table_version, "2026-11-25");
        for (os, version) in [
            ("Windows", "10 22H2"),
            ("Windows", "11 24H2"),
            ("macOS", "12.7.6"),
            ("macOS", "15.1"),
            ("iOS", "15.8"),
            ("iOS", "18.1"),
            ("iPadOS", "17.5"),
            ("Android", "11"),
            ("Android", "15"),
            ("ChromeOS", "130.0.6723"),
        ] {
            assert!(table.lookup(os, version).is_some(), "{os} {version}");
        }
    }

    #[test]
    fn lookups_match_release_prefixes_at_a_boundary() {
        let table = OsLifecycle::embedded();
        assert_eq!(
            table.lookup("windows", "11 23h2").unwrap().support_end,
            date("2025-11-11")
        );
        assert_eq!(table.lookup("ＩＯＳ", "17.5.1").unwrap().version, "17");
        assert!(table.lookup("iOS", "171").is_none());
        assert!(
            table.lookup("Windows", "11").is_none(),
            "a Windows release must be named"
        );
        assert!(table.lookup("TempleOS", "5").is_none());
    }

    #[test]
    fn malformed_tables_are_refused_with_the_line() {
        assert_eq!(
            OsLifecycle::parse("# compiled: 2026-01-01\n"),
            Err(LifecycleError::NoHeader)
        );
        assert_eq!(
            OsLifecycle::parse(&format!("{HEADER}\nWindows,10,2025-10-14,x\n")),
            Err(LifecycleError::NoCompileDate)
        );
        assert!(matches!(
            OsLifecycle::parse(&format!(
                "# compiled: 2026-01-01\n{HEADER}\nWindows,10,soon,x\n"
            )),
            Err(LifecycleError::Line { line: 3, .. })
        ));
    }
}
