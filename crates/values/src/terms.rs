//! What a person is shown and agrees to: a terms text's version label, the
//! SHA-256 of the text and the language it is in.

use std::fmt;

use sha2::{Digest, Sha256};

/// A version label of a terms text, unique per kind and language, e.g.
/// `2023-12-18`: 1-64 ASCII letters, digits, `.`, `_` or `-`, starting with a
/// letter or digit (it appears in stream ids, subjects and file names).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TermsVersion(String);

impl TermsVersion {
    pub fn new(version: &str) -> Result<Self, String> {
        let valid_start = version
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let valid_rest = version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if valid_start && valid_rest && version.len() <= 64 {
            Ok(Self(version.to_owned()))
        } else {
            Err("must be 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TermsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A BCP 47 language tag (RFC 5646) in its canonical case:
/// `language[-script][-region][-variant]*`, e.g. `ja`, `en-US`, `zh-Hant-TW`.
/// Extensions and private use are not accepted: the office publishes
/// texts per plain language.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn new(tag: &str) -> Result<Self, String> {
        const PROBLEM: &str = "must be a BCP 47 tag like ja, en-US or zh-Hant-TW";
        if tag.is_empty() || tag.len() > 35 {
            return Err(PROBLEM.into());
        }
        let mut parts = tag.split('-').peekable();
        let language = parts.next().unwrap_or_default();
        let alpha = |s: &str| s.chars().all(|c| c.is_ascii_alphabetic());
        if !(matches!(language.len(), 2 | 3 | 5..=8) && alpha(language)) {
            return Err(PROBLEM.into());
        }
        let mut canonical = language.to_ascii_lowercase();
        if let Some(script) = parts.next_if(|s| s.len() == 4 && alpha(s)) {
            canonical.push('-');
            canonical.push_str(&script[..1].to_ascii_uppercase());
            canonical.push_str(&script[1..].to_ascii_lowercase());
        }
        if let Some(region) = parts.next_if(|s| {
            (s.len() == 2 && alpha(s)) || (s.len() == 3 && s.chars().all(|c| c.is_ascii_digit()))
        }) {
            canonical.push('-');
            canonical.push_str(&region.to_ascii_uppercase());
        }
        for variant in parts {
            let alnum = variant.chars().all(|c| c.is_ascii_alphanumeric());
            let long = (5..=8).contains(&variant.len());
            let digit_led = variant.len() == 4 && variant.starts_with(|c: char| c.is_ascii_digit());
            if !(alnum && (long || digit_led)) {
                return Err(PROBLEM.into());
            }
            canonical.push('-');
            canonical.push_str(&variant.to_ascii_lowercase());
        }
        Ok(Self(canonical))
    }

    /// `ja`: the language of the office's terms when none is named.
    pub fn japanese() -> Self {
        Self("ja".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for LanguageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A lowercase hex SHA-256 digest (64 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    pub fn new(hex: &str) -> Result<Self, String> {
        if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            Ok(Self(hex.to_owned()))
        } else {
            Err("must be 64 lowercase hex digits".into())
        }
    }

    /// The digest of `text` as UTF-8: a service computes it itself, so a
    /// stored hash always describes the stored text.
    pub fn of(text: &str) -> Self {
        Self(format!("{:x}", Sha256::digest(text.as_bytes())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn language_tags_are_canonicalised() {
        assert_eq!(LanguageTag::new("JA").unwrap().as_str(), "ja");
        assert_eq!(
            LanguageTag::new("zh-hant-tw").unwrap().as_str(),
            "zh-Hant-TW"
        );
        assert_eq!(LanguageTag::new("es-419").unwrap().as_str(), "es-419");
        for bad in ["j", "ja-", "ja_JP", "x-private", ""] {
            assert!(LanguageTag::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_and_digests_take_one_form() {
        assert!(TermsVersion::new("2023-12-18").is_ok());
        for bad in ["", " 2023", "-1", "6.0+build", &"v".repeat(65)] {
            assert!(TermsVersion::new(bad).is_err(), "{bad:?}");
        }
        let digest = Sha256Hex::of("text");
        assert_eq!(Sha256Hex::new(digest.as_str()), Ok(digest.clone()));
        assert!(Sha256Hex::new(&digest.as_str().to_uppercase()).is_err());
    }

    proptest! {
        #[test]
        fn a_canonical_tag_is_its_own_canonical_form(text in "[A-Za-z]{2,3}(-[A-Za-z]{4})?(-[A-Za-z]{2})?") {
            let once = LanguageTag::new(&text).unwrap();
            prop_assert_eq!(LanguageTag::new(once.as_str()).unwrap(), once);
        }
    }
}
