//! Values the consent domain accepts: each constructor is the only way in,
//! so a value that exists is valid ("parse, don't validate").

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The office's zone: every date in the terms (effective dates, the
/// cut-off of Art. 13) is a calendar date in Asia/Tokyo, which has had no
/// daylight saving since 1951, so a fixed +09:00 offset is exact.
pub const TIME_ZONE: &str = "Asia/Tokyo";

/// Asia/Tokyo as an offset.
pub fn tokyo() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("+09:00 is a valid offset")
}

/// Formats an instant in Asia/Tokyo (RFC 3339 with +09:00), for messages.
pub fn in_tokyo(at: DateTime<Utc>) -> String {
    at.with_timezone(&tokyo()).to_rfc3339()
}

/// A calendar date in Asia/Tokyo (years 1900-9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate(NaiveDate);

impl CalendarDate {
    pub fn new(year: i32, month: i32, day: i32) -> Result<Self, String> {
        if !(1900..=9999).contains(&year) {
            return Err("year must be 1900-9999".into());
        }
        let (Ok(month), Ok(day)) = (u32::try_from(month), u32::try_from(day)) else {
            return Err("month and day must be positive".into());
        };
        NaiveDate::from_ymd_opt(year, month, day)
            .map(Self)
            .ok_or_else(|| format!("{year:04}-{month:02}-{day:02} is not a calendar date"))
    }

    pub fn naive(self) -> NaiveDate {
        self.0
    }

    /// 00:00 Asia/Tokyo of this date: when a version dated this day takes
    /// effect, and the Art. 13 announcement cut-off.
    pub fn start_in_tokyo(self) -> DateTime<Utc> {
        tokyo()
            .from_local_datetime(&self.0.and_time(NaiveTime::MIN))
            .single()
            .expect("a fixed offset maps every local time once")
            .with_timezone(&Utc)
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

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

    /// The digest of `text` as UTF-8: the service computes it itself, so a
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

/// A job seeker's id: the UUID registration assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct JobSeekerId(Uuid);

impl JobSeekerId {
    pub fn new(id: &str) -> Result<Self, String> {
        parse_uuid(id).map(Self)
    }

    pub fn uuid(self) -> Uuid {
        self.0
    }
}

impl fmt::Display for JobSeekerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A UUID in canonical hyphenated form (any case).
pub fn parse_uuid(text: &str) -> Result<Uuid, String> {
    if text.len() != 36 {
        return Err("must be a UUID like 0190f2c4-6b1e-7a00-8000-000000000000".into());
    }
    Uuid::parse_str(text)
        .map_err(|_| "must be a UUID like 0190f2c4-6b1e-7a00-8000-000000000000".into())
}

/// A stable id derived from a client's key (a request id, an application
/// id): repeating a request yields the same id, so the aggregate sees the
/// repetition and writes nothing (UUIDv8 from SHA-256 of purpose and key).
pub fn derived_id(purpose: &str, key: &str) -> Uuid {
    let digest = Sha256::new()
        .chain_update(purpose.as_bytes())
        .chain_update([0u8])
        .chain_update(key.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Which terms a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TermsKind {
    /// The office's terms of use (Art. 1-14).
    OnlineServices,
    /// Art. 4: the designated meeting app's terms.
    MeetingApp,
}

impl TermsKind {
    /// The token used in stream ids and read-model rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnlineServices => "online_services",
            Self::MeetingApp => "meeting_app",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "online_services" => Some(Self::OnlineServices),
            "meeting_app" => Some(Self::MeetingApp),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_effective_cut_off_is_midnight_in_tokyo() {
        let date = CalendarDate::new(2024, 4, 1).unwrap();
        assert_eq!(
            date.start_in_tokyo().to_rfc3339(),
            "2024-03-31T15:00:00+00:00"
        );
    }

    #[test]
    fn language_tags_are_canonicalised() {
        assert_eq!(LanguageTag::new("JA").unwrap().as_str(), "ja");
        assert_eq!(
            LanguageTag::new("zh-hant-tw").unwrap().as_str(),
            "zh-Hant-TW"
        );
        assert_eq!(LanguageTag::new("es-419").unwrap().as_str(), "es-419");
        assert!(LanguageTag::new("j").is_err());
        assert!(LanguageTag::new("ja-").is_err());
        assert!(LanguageTag::new("ja_JP").is_err());
    }

    #[test]
    fn derived_ids_are_stable_and_distinct_per_purpose() {
        assert_eq!(derived_id("receipt", "a"), derived_id("receipt", "a"));
        assert_ne!(derived_id("receipt", "a"), derived_id("revision", "a"));
        assert_eq!(derived_id("receipt", "a").get_version_num(), 8);
    }
}
