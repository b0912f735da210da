//! What a person was shown when applying (Art. 4, 6): the terms version and
//! the designated meeting app's terms version, each with the SHA-256 of its
//! text, and the language.

use super::field::FieldError;

/// Longest accepted version label.
const MAX_VERSION_CHARS: usize = 64;

/// A terms version label, e.g. `2023-12-18`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsVersion(String);

impl TermsVersion {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let version = raw.trim();
        let valid = !version.is_empty()
            && version.chars().count() <= MAX_VERSION_CHARS
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
        if valid {
            Ok(Self(version.to_owned()))
        } else {
            Err(format!(
                "must be 1-{MAX_VERSION_CHARS} characters of letters, digits, '.', '-', '_' or '+'"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A lowercase hex SHA-256 digest (64 characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid = raw.len() == 64 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be a lowercase hex SHA-256 (64 characters)".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A BCP 47 language tag in its common shape (`ja`, `en-US`, `zh-Hant-TW`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut subtags = raw.split('-');
        let primary_ok = subtags.next().is_some_and(|p| {
            (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphabetic())
        });
        let rest_ok = subtags
            .all(|s| (1..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric()));
        if primary_ok && rest_ok && raw.len() <= 35 {
            Ok(Self(raw.to_owned()))
        } else {
            Err("must be a BCP 47 language tag such as ja or en-US".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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
        let tv =
            TermsVersion::parse(terms_version).map_err(|e| FieldError::new("terms_version", e));
        let th = Sha256Hex::parse(terms_sha256).map_err(|e| FieldError::new("terms_sha256", e));
        let mv = TermsVersion::parse(meeting_app_terms_version)
            .map_err(|e| FieldError::new("meeting_app_terms_version", e));
        let mh = Sha256Hex::parse(meeting_app_terms_sha256)
            .map_err(|e| FieldError::new("meeting_app_terms_sha256", e));
        let lang = LanguageTag::parse(language).map_err(|e| FieldError::new("language", e));
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
            TermsShown::parse("", "ABC", "v 1", &hash.to_uppercase(), "japanese").unwrap_err();
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
