//! Values the consent domain accepts: each constructor is the only way in,
//! so a value that exists is valid ("parse, don't validate").

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
pub use hellowork_values::{
    JobSeekerId, LanguageTag, Sha256Hex, TermsVersion, parse_uuid,
    time::{self, TIME_ZONE, in_tokyo, tokyo},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

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
        time::tokyo_midnight(self.0)
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
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
    fn derived_ids_are_stable_and_distinct_per_purpose() {
        assert_eq!(derived_id("receipt", "a"), derived_id("receipt", "a"));
        assert_ne!(derived_id("receipt", "a"), derived_id("revision", "a"));
        assert_eq!(derived_id("receipt", "a").get_version_num(), 8);
    }
}
