//! The terms of use the tests publish: the office's text where it lies
//! beside the checkout (`../shared/seed/`, never copied into the
//! repository), else the stand-in written for this project
//! ([`hellowork_values::STAND_IN_TERMS`]), so a fresh clone runs every test.

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::Once,
};

/// Where the office's text is: `shared/seed/` beside the checkout.
const OFFICE_TERMS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seed/terms-of-use-hellowork-takamatsu.ja.txt"
);

/// The stand-in's file, for tests that hand a path to a program.
const STAND_IN_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../values/terms/stand-in-terms-of-use.md"
);

/// A terms-of-use document and the file it was read from.
#[derive(Debug, Clone)]
pub struct TermsOfUse {
    /// The text as published.
    pub text: String,
    /// Its file (for `hellowork terms publish FILE`, `demo --terms FILE`).
    pub path: PathBuf,
    /// Whether it is the office's text rather than the stand-in.
    pub office: bool,
}

impl TermsOfUse {
    /// The title: the first non-blank line.
    pub fn title(&self) -> &str {
        self.text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or_default()
    }
}

/// The office's terms of use if present beside the checkout, else the
/// stand-in; says on stderr which, once per test program and past the test
/// harness's capture, so a run's log shows what each program tested.
pub fn terms_of_use() -> TermsOfUse {
    let terms = found(Path::new(OFFICE_TERMS));
    say(if terms.office {
        format!("the office's text from {}", terms.path.display())
    } else {
        format!(
            "the stand-in written for this project (no office's text at {})",
            Path::new(OFFICE_TERMS).display()
        )
    });
    terms
}

fn found(office: &Path) -> TermsOfUse {
    match std::fs::read_to_string(office) {
        Ok(text) => TermsOfUse {
            text,
            path: office.to_path_buf(),
            office: true,
        },
        Err(_) => TermsOfUse {
            text: hellowork_values::STAND_IN_TERMS.to_owned(),
            path: PathBuf::from(STAND_IN_FILE),
            office: false,
        },
    }
}

/// Writes `which` terms this test program uses to stderr, once. Written to
/// the stream itself, not through `eprintln!`, which the harness captures
/// and shows only for a failing test.
fn say(which: String) {
    static SAID: Once = Once::new();
    SAID.call_once(|| {
        let program = std::env::args().next().unwrap_or_default();
        let program = Path::new(&program)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A log line lost to a closed stderr loses nothing a test checks.
        let _ = writeln!(std::io::stderr().lock(), "{program}: terms of use: {which}");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_offices_text_the_stand_in_and_its_file_are_used() {
        let terms = found(Path::new("/nonexistent/terms.txt"));
        assert!(!terms.office);
        assert_eq!(terms.text, hellowork_values::STAND_IN_TERMS);
        assert_eq!(std::fs::read_to_string(&terms.path).unwrap(), terms.text);
        assert!(terms.title().starts_with("STAND-IN"));
    }

    #[test]
    fn the_offices_text_is_used_where_it_is() {
        let dir = std::env::temp_dir().join(format!("terms-{}", crate::unique_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("terms.txt");
        std::fs::write(&file, "\n  利用規約  \n第1条 …\n").unwrap();
        let terms = found(&file);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(terms.office);
        assert_eq!(terms.path, file);
        assert_eq!(terms.title(), "利用規約");
    }
}
