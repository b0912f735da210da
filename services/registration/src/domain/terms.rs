//! What a person was shown when applying (Art. 4, 6): the terms version and
//! the designated meeting app's terms version, each with the SHA-256 of its
//! text, and the language.

pub use hellowork_values::{LanguageTag, Sha256Hex, TermsVersion};

use super::field::FieldError;

/// Art. 4, 6: the texts shown to the person when applying; applying counts
/// as agreeing to both. Whether the version is the one in force is decided
/// by the consent service, which records the consent only for a version it
/// published; eligibility then requires that consent (see `eligibility`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsShown {
    pub terms_version: TermsVersion,
    pub terms_sha256: Sha256Hex,
    pub meeting_app_terms_version: TermsVersion,
    pub meeting_app_terms_sha256: Sha256Hex,
    pub language: LanguageTag,
}

impl TermsShown {
    /// Parses every field, reporting every problem (request field names).
    pub fn parse(
        terms_version: &str,
        terms_sha256: &str,
        meeting_app_terms_version: &str,
        meeting_app_terms_sha256: &str,
        language: &str,
    ) -> Result<Self, Vec<FieldError>> {
        let tv = TermsVersion::new(terms_version).map_err(|e| FieldError::new("terms_version", e));
        let th = Sha256Hex::new(terms_sha256).map_err(|e| FieldError::new("terms_sha256", e));
        let mv = TermsVersion::new(meeting_app_terms_version)
            .map_err(|e| FieldError::new("meeting_app_terms_version", e));
        let mh = Sha256Hex::new(meeting_app_terms_sha256)
            .map_err(|e| FieldError::new("meeting_app_terms_sha256", e));
        let lang = LanguageTag::new(language).map_err(|e| FieldError::new("language", e));
        match (tv, th, mv, mh, lang) {
            (
                Ok(terms_version),
                Ok(terms_sha256),
                Ok(meeting_app_terms_version),
                Ok(meeting_app_terms_sha256),
                Ok(language),
            ) => Ok(Self {
                terms_version,
                terms_sha256,
                meeting_app_terms_version,
                meeting_app_terms_sha256,
                language,
            }),
            (tv, th, mv, mh, lang) => Err([tv.err(), th.err(), mv.err(), mh.err(), lang.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_fields_are_checked_one_by_one() {
        let hash = "a".repeat(64);
        assert!(TermsShown::parse("2023-12-18", &hash, "6.0", &hash, "ja").is_ok());
        let errors =
            TermsShown::parse("", "ABC", "v 1", &hash.to_uppercase(), "ja_JP").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "terms_version",
                "terms_sha256",
                "meeting_app_terms_version",
                "meeting_app_terms_sha256",
                "language"
            ]
        );
    }
}
