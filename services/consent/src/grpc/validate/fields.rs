//! The checks of single fields, each returning the parsed value or what is
//! wrong with it, and [`Violations`], which collects every problem with its
//! field so that a request is refused once, naming them all.

use chrono::{DateTime, Utc};
use hellowork_platform::{FieldViolation, ServiceError};
use hellowork_proto::consent::v1 as proto;
use uuid::Uuid;

use crate::domain::values::{CalendarDate, LanguageTag, Sha256Hex, parse_uuid};

/// Longest terms text accepted, in bytes (the seed text is about 12 kB).
pub const MAX_FULL_TEXT_BYTES: usize = 1_000_000;
/// Longest source URI, in bytes.
const MAX_URI_BYTES: usize = 2048;

/// Collects violations; each check returns the parsed value if valid.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn check<T>(&mut self, field: &str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(problem) => {
                self.0.push(FieldViolation::new(field, problem));
                None
            }
        }
    }

    /// Ok when nothing was violated.
    pub fn finish(self) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::InvalidArgument(self.0))
        }
    }
}

/// Unwraps values that are `Some` whenever [`Violations::finish`] passed.
pub(super) fn present<T>(value: Option<T>) -> Result<T, ServiceError> {
    value.ok_or_else(|| ServiceError::Internal("validated value missing".into()))
}

pub(super) fn text(value: &str, max_chars: usize) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("must not be blank".into());
    }
    if value.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    Ok(value.to_owned())
}

pub(super) fn optional_text(value: &str, max_chars: usize) -> Result<String, String> {
    if value.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    Ok(value.to_owned())
}

pub(super) fn full_text(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("must not be blank".into());
    }
    if value.len() > MAX_FULL_TEXT_BYTES {
        return Err(format!("must be at most {MAX_FULL_TEXT_BYTES} bytes"));
    }
    Ok(value.to_owned())
}

pub(super) fn date(value: Option<&proto::Date>) -> Result<CalendarDate, String> {
    let date = value.ok_or("is required")?;
    CalendarDate::new(date.year, date.month, date.day)
}

pub(super) fn optional_date(value: Option<&proto::Date>) -> Result<Option<CalendarDate>, String> {
    value
        .map(|d| CalendarDate::new(d.year, d.month, d.day))
        .transpose()
}

/// An instant; unset means `now`.
pub fn instant_or_now(
    value: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let Some(at) = value else { return Ok(now) };
    u32::try_from(at.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(at.seconds, nanos))
        .ok_or_else(|| "must be a valid timestamp".into())
}

pub(super) fn language(value: &str) -> Result<LanguageTag, String> {
    if value.is_empty() {
        return Err("is required (BCP 47, e.g. ja)".into());
    }
    LanguageTag::new(value)
}

pub(super) fn language_or_japanese(value: &str) -> Result<LanguageTag, String> {
    if value.is_empty() {
        Ok(LanguageTag::japanese())
    } else {
        LanguageTag::new(value)
    }
}

pub(super) fn uuid(value: &str) -> Result<Uuid, String> {
    parse_uuid(value)
}

/// Art. 4, 13: a client-sent SHA-256 must describe the text it came with;
/// the service computes the stored one itself.
pub(super) fn matching_sha256(given: &str, text: &str) -> Result<(), String> {
    if given.is_empty() {
        return Ok(());
    }
    let given = Sha256Hex::new(given)?;
    let computed = Sha256Hex::of(text);
    if given == computed {
        Ok(())
    } else {
        Err(format!(
            "does not match the SHA-256 of full_text ({computed})"
        ))
    }
}

pub(super) fn source_uri(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    let scheme_ok = value.starts_with("https://") || value.starts_with("http://");
    if !scheme_ok || value.len() > MAX_URI_BYTES || value.chars().any(char::is_whitespace) {
        return Err(format!(
            "must be an absolute http(s) URI of at most {MAX_URI_BYTES} bytes"
        ));
    }
    Ok(value.to_owned())
}
