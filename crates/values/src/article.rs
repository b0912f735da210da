//! The articles of the office's terms of use, clause by clause.
//!
//! Every rule names the clause it enforces through this one type, so its
//! error shows `Art. 5(3)` and its gRPC reason is `ART_5_3` in every service,
//! and `hellowork articles` can list, from the code, what enforces each
//! clause. A clause the system cannot enforce says why.

use std::fmt;

/// An article of the terms, or one numbered clause of it (`5(3)` is the
/// third clause of Art. 5). An article cited as a whole (`Art. 2`: all of
/// its conditions) is its own value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Article {
    Art1,
    Art2,
    Art2_1,
    Art2_2,
    Art2_3,
    Art3,
    Art4,
    Art5,
    Art5_1,
    Art5_2,
    Art5_3,
    Art5_4,
    Art5_5,
    Art5_6,
    Art6,
    Art7,
    Art7_1,
    Art7_2,
    Art8,
    Art8_1,
    Art8_2,
    Art9_1,
    Art9_2,
    Art10,
    Art11,
    Art12,
    Art12_1,
    Art12_2,
    Art12_3,
    Art12_4,
    Art12_5,
    Art13,
    Art13_1,
    Art13_2,
    Art14,
}

/// Whether the system can hold a person or the office to a clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforcement {
    /// A rule in the code refuses what the clause forbids.
    Enforced,
    /// The clause binds people or courts, not software; why.
    NotMachineEnforceable(&'static str),
}

use Article::*;

impl Article {
    /// Every clause, in the order of the terms.
    pub const ALL: [Article; 35] = [
        Art1, Art2, Art2_1, Art2_2, Art2_3, Art3, Art4, Art5, Art5_1, Art5_2, Art5_3, Art5_4,
        Art5_5, Art5_6, Art6, Art7, Art7_1, Art7_2, Art8, Art8_1, Art8_2, Art9_1, Art9_2, Art10,
        Art11, Art12, Art12_1, Art12_2, Art12_3, Art12_4, Art12_5, Art13, Art13_1, Art13_2, Art14,
    ];

    /// The article's number and, for a clause, the clause's.
    pub const fn number(self) -> (u8, Option<u8>) {
        match self {
            Art1 => (1, None),
            Art2 => (2, None),
            Art2_1 => (2, Some(1)),
            Art2_2 => (2, Some(2)),
            Art2_3 => (2, Some(3)),
            Art3 => (3, None),
            Art4 => (4, None),
            Art5 => (5, None),
            Art5_1 => (5, Some(1)),
            Art5_2 => (5, Some(2)),
            Art5_3 => (5, Some(3)),
            Art5_4 => (5, Some(4)),
            Art5_5 => (5, Some(5)),
            Art5_6 => (5, Some(6)),
            Art6 => (6, None),
            Art7 => (7, None),
            Art7_1 => (7, Some(1)),
            Art7_2 => (7, Some(2)),
            Art8 => (8, None),
            Art8_1 => (8, Some(1)),
            Art8_2 => (8, Some(2)),
            Art9_1 => (9, Some(1)),
            Art9_2 => (9, Some(2)),
            Art10 => (10, None),
            Art11 => (11, None),
            Art12 => (12, None),
            Art12_1 => (12, Some(1)),
            Art12_2 => (12, Some(2)),
            Art12_3 => (12, Some(3)),
            Art12_4 => (12, Some(4)),
            Art12_5 => (12, Some(5)),
            Art13 => (13, None),
            Art13_1 => (13, Some(1)),
            Art13_2 => (13, Some(2)),
            Art14 => (14, None),
        }
    }

    /// The citation without `Art.`: `5(3)`, `13`.
    pub fn label(self) -> String {
        match self.number() {
            (article, Some(clause)) => format!("{article}({clause})"),
            (article, None) => article.to_string(),
        }
    }

    /// The `ErrorInfo.reason` and metric label: `ART_5_3`, `ART_13`.
    pub fn reason(self) -> String {
        match self.number() {
            (article, Some(clause)) => format!("ART_{article}_{clause}"),
            (article, None) => format!("ART_{article}"),
        }
    }

    /// The clause a label names: `5(3)`, `Art. 5(3)` or `ART_5_3`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL.into_iter().find(|article| {
            let label = article.label();
            text == label || text == article.to_string() || text == article.reason()
        })
    }

    /// One citation of several clauses, as a peer's eligibility reasons
    /// carry it: `[Art2_1, Art6]` → `Art. 2(1), 6`.
    pub fn cite(articles: &[Article]) -> String {
        let labels: Vec<String> = articles.iter().map(|a| a.label()).collect();
        format!("Art. {}", labels.join(", "))
    }

    /// The first clause a citation names, e.g. `Art. 2(1), 6` → `2(1)`
    /// (a peer's eligibility reasons cite several).
    pub fn first_cited(text: &str) -> Option<Self> {
        let first = text.trim().trim_start_matches("Art.").split(',').next()?;
        Self::parse(first)
    }

    /// What the clause is about, in a few words.
    pub const fn title(self) -> &'static str {
        match self {
            Art1 => "purpose: counselling offered online",
            Art2 => "who may use the service: all of (1)-(3)",
            Art2_1 => "consent to the terms and an application under Art. 6",
            Art2_2 => "job-seeker registration complete when applying",
            Art2_3 => "a device with a webcam and the meeting app",
            Art3 => "no fee; the user bears communication costs",
            Art4 => "the designated meeting app's terms are agreed too",
            Art5 => "the user's environment: all of (1)-(6)",
            Art5_1 => "a device free of infection or compromise",
            Art5_2 => "connected, not through unsafe free public networks",
            Art5_3 => "an operating system in support, patched",
            Art5_4 => "a personal firewall on, minimal rules",
            Art5_5 => "no file-sharing software",
            Art5_6 => "antivirus of paid grade with current patterns",
            Art6 => "applying in the office's way counts as consent",
            Art7 => "records of use",
            Art7_1 => "usage times, access history and device identifiers may be recorded",
            Art7_2 => "never published in a device-identifying form, except on a legal request",
            Art8 => "personal data protection",
            Art8_1 => {
                "personal data protected as at the counter (Employment Security Act Art. 5-4)"
            }
            Art8_2 => "the user keeps the session confidential by the measures of Art. 12(3)",
            Art9_1 => "no liability for the user's own environment",
            Art9_2 => "no liability for attacks or disasters beyond reasonable measures",
            Art10 => "the user bears damage caused by breaching the terms",
            Art11 => "the user obeys the laws",
            Art12 => "other points to note",
            Art12_1 => "sessions may be stopped or refused",
            Art12_2 => "no recording of any kind",
            Art12_3 => "a private room; interpreters and helpers announced in advance",
            Art12_4 => "the meeting app ready and the environment checked beforehand",
            Art12_5 => "communication costs are the user's",
            Art13 => "changing the terms: announced with the new text and effective date",
            Art13_1 => "a change in the users' general interest",
            Art13_2 => "a change consistent with the purpose and reasonable",
            Art14 => "Japanese law; Takamatsu District Court",
        }
    }

    /// Whether software can enforce the clause, and if not, why.
    pub const fn enforcement(self) -> Enforcement {
        use Enforcement::{Enforced, NotMachineEnforceable as Not};
        match self {
            Art1 => Not("states the purpose of the service; it imposes no condition"),
            Art3 => Not("the service charges nothing; what a user's carrier charges is outside it"),
            Art7 => Not("a heading; its clauses (1) and (2) carry the rules"),
            Art7_1 => Not(
                "a permission to record usage, not a prohibition; what may be done with the records is Art. 7(2)'s and Art. 8's to limit",
            ),
            Art8_1 => Not(
                "the rules protecting personal data cite Art. 8 as a whole (reason ART_8, which callers rely on); they are listed there",
            ),
            Art8_2 => Not(
                "a duty of the user in their room; the system asks for the Art. 12(3) acknowledgement",
            ),
            Art9_1 | Art9_2 => Not("a limit of the office's liability, for a court to apply"),
            Art10 => Not("a claim for damages, for a court to decide"),
            Art11 => Not("obedience to the law is the user's duty, not a check software can make"),
            Art12 => Not("a heading; its clauses (1)-(5) carry the rules"),
            Art13_1 => Not(
                "whether a change serves the users' general interest is the office's judgement; the revision records the ground it relies on, and Art. 13's announcement rule applies",
            ),
            Art12_5 => Not("the user's carrier bills the user; the service charges nothing"),
            Art14 => Not("governing law and jurisdiction, for courts"),
            _ => Enforced,
        }
    }
}

impl fmt::Display for Article {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Art. {}", self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citations_and_reasons_follow_the_terms_numbering() {
        assert_eq!(Art5_3.to_string(), "Art. 5(3)");
        assert_eq!(Art5_3.reason(), "ART_5_3");
        assert_eq!(Art13.reason(), "ART_13");
        assert_eq!(Art12_1.label(), "12(1)");
    }

    #[test]
    fn every_form_of_a_citation_parses_back_to_its_clause() {
        for article in Article::ALL {
            assert_eq!(Article::parse(&article.label()), Some(article));
            assert_eq!(Article::parse(&article.to_string()), Some(article));
            assert_eq!(Article::parse(&article.reason()), Some(article));
        }
        assert_eq!(Article::parse("15"), None);
        assert_eq!(Article::parse("5(7)"), None);
        assert_eq!(Article::cite(&[Art2_1, Art6]), "Art. 2(1), 6");
        assert_eq!(
            Article::first_cited(&Article::cite(&[Art2_1, Art6])),
            Some(Art2_1)
        );
        assert_eq!(Article::first_cited("Art. 5, 12(4)"), Some(Art5));
        assert_eq!(Article::first_cited("something odd"), None);
    }

    #[test]
    fn the_list_is_in_the_order_of_the_terms_without_repeats() {
        let numbers: Vec<_> = Article::ALL.iter().map(|a| a.number()).collect();
        let mut sorted = numbers.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(numbers, sorted);
    }
}
