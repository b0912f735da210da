//! Requests into domain values: every field is checked and every violation
//! reported at once (INVALID_ARGUMENT with `BadRequest`), before anything is
//! read or written.

use chrono::{DateTime, Duration, Utc};
use hellowork_platform::{FieldViolation, ServiceError};
use hellowork_proto::consent::v1 as proto;
use uuid::Uuid;

use crate::{
    commands::ConsentInput,
    deemed_consent::receipt_id_for,
    domain::{
        consent::{AgreedTerms, ConsentMethod, WithdrawConsent},
        terms::{AnnounceRevision, NewDocument, RevisionGround},
        values::{
            CalendarDate, JobSeekerId, LanguageTag, Sha256Hex, TIME_ZONE, TermsKind, TermsVersion,
            derived_id, parse_uuid,
        },
    },
};

/// Longest title accepted, in characters.
const MAX_TITLE_CHARS: usize = 200;
/// Longest terms text accepted, in bytes (the seed text is about 12 kB).
pub const MAX_FULL_TEXT_BYTES: usize = 1_000_000;
/// Longest meeting-app name, in characters.
const MAX_APP_NAME_CHARS: usize = 100;
/// Longest source URI, in bytes.
const MAX_URI_BYTES: usize = 2048;
/// Longest reasons or change summary, in characters.
const MAX_NOTE_CHARS: usize = 4000;
/// Default and largest page sizes of the list RPCs.
const DEFAULT_PAGE_SIZE: i64 = 50;
const MAX_PAGE_SIZE: i32 = 500;
/// Clock skew tolerated between a caller and this service.
const MAX_CLOCK_SKEW: Duration = Duration::minutes(1);

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
fn present<T>(value: Option<T>) -> Result<T, ServiceError> {
    value.ok_or_else(|| ServiceError::Internal("validated value missing".into()))
}

fn text(value: &str, max_chars: usize) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("must not be blank".into());
    }
    if value.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    Ok(value.to_owned())
}

fn optional_text(value: &str, max_chars: usize) -> Result<String, String> {
    if value.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    Ok(value.to_owned())
}

fn full_text(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err("must not be blank".into());
    }
    if value.len() > MAX_FULL_TEXT_BYTES {
        return Err(format!("must be at most {MAX_FULL_TEXT_BYTES} bytes"));
    }
    Ok(value.to_owned())
}

fn date(value: Option<&proto::Date>) -> Result<CalendarDate, String> {
    let date = value.ok_or("is required")?;
    CalendarDate::new(date.year, date.month, date.day)
}

fn optional_date(value: Option<&proto::Date>) -> Result<Option<CalendarDate>, String> {
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

fn language(value: &str) -> Result<LanguageTag, String> {
    if value.is_empty() {
        return Err("is required (BCP 47, e.g. ja)".into());
    }
    LanguageTag::new(value)
}

fn language_or_japanese(value: &str) -> Result<LanguageTag, String> {
    if value.is_empty() {
        Ok(LanguageTag::japanese())
    } else {
        LanguageTag::new(value)
    }
}

fn uuid(value: &str) -> Result<Uuid, String> {
    parse_uuid(value)
}

/// Art. 4, 13: a client-sent SHA-256 must describe the text it came with;
/// the service computes the stored one itself.
fn matching_sha256(given: &str, text: &str) -> Result<(), String> {
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

fn source_uri(value: &str) -> Result<String, String> {
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

/// `PublishTermsDocument`.
pub fn publish_terms(
    request: &proto::PublishTermsDocumentRequest,
    now: DateTime<Utc>,
) -> Result<NewDocument, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let version = v.check("version", TermsVersion::new(&request.version));
    let language = v.check("language", language(&request.language));
    let title = v.check("title", text(&request.title, MAX_TITLE_CHARS));
    let full = v.check("full_text", full_text(&request.full_text));
    v.check(
        "sha256",
        matching_sha256(&request.sha256, &request.full_text),
    );
    let established = v.check("established_date", date(request.established_date.as_ref()));
    let revised = v.check("revised_date", optional_date(request.revised_date.as_ref()));
    let effective = v.check("effective_date", date(request.effective_date.as_ref()));
    if let (Some(established), Some(Some(revised))) = (established, revised)
        && revised < established
    {
        v.check::<()>(
            "revised_date",
            Err("must not be before established_date".into()),
        );
    }
    if let (Some(established), Some(effective)) = (established, effective)
        && effective < established
    {
        v.check::<()>(
            "effective_date",
            Err("must not be before established_date".into()),
        );
    }
    v.finish()?;
    Ok(NewDocument {
        terms_document_id: derived_id("terms-document", &present(request_id)?.to_string()),
        kind: TermsKind::OnlineServices,
        version: present(version)?,
        language: present(language)?,
        title: present(title)?,
        full_text: present(full)?,
        established_date: established,
        revised_date: present(revised)?,
        effective_date: present(effective)?,
        meeting_app_name: String::new(),
        source_uri: String::new(),
        published_at: now,
    })
}

/// `PublishMeetingAppTerms`.
pub fn publish_meeting_app_terms(
    request: &proto::PublishMeetingAppTermsRequest,
    now: DateTime<Utc>,
) -> Result<NewDocument, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let app_name = v.check(
        "meeting_app_name",
        text(&request.meeting_app_name, MAX_APP_NAME_CHARS),
    );
    let version = v.check("version", TermsVersion::new(&request.version));
    let language = v.check("language", language(&request.language));
    let title = v.check("title", text(&request.title, MAX_TITLE_CHARS));
    let full = v.check("full_text", full_text(&request.full_text));
    v.check(
        "sha256",
        matching_sha256(&request.sha256, &request.full_text),
    );
    let effective = v.check("effective_date", date(request.effective_date.as_ref()));
    let uri = v.check("source_uri", source_uri(&request.source_uri));
    v.finish()?;
    Ok(NewDocument {
        terms_document_id: derived_id("terms-document", &present(request_id)?.to_string()),
        kind: TermsKind::MeetingApp,
        version: present(version)?,
        language: present(language)?,
        title: present(title)?,
        full_text: present(full)?,
        established_date: None,
        revised_date: None,
        effective_date: present(effective)?,
        meeting_app_name: present(app_name)?,
        source_uri: present(uri)?,
        published_at: now,
    })
}

/// `GetTermsDocument`.
pub fn terms_document_id(request: &proto::GetTermsDocumentRequest) -> Result<Uuid, ServiceError> {
    let mut v = Violations::default();
    let id = v.check("terms_document_id", uuid(&request.terms_document_id));
    v.finish()?;
    present(id)
}

/// `GetTermsInForce`.
pub fn terms_in_force(
    request: &proto::GetTermsInForceRequest,
    now: DateTime<Utc>,
) -> Result<(TermsKind, LanguageTag, DateTime<Utc>), ServiceError> {
    let mut v = Violations::default();
    let kind = v.check(
        "kind",
        match request.kind() {
            proto::TermsKind::OnlineServices => Ok(TermsKind::OnlineServices),
            proto::TermsKind::MeetingApp => Ok(TermsKind::MeetingApp),
            proto::TermsKind::Unspecified => Err("must be ONLINE_SERVICES or MEETING_APP".into()),
        },
    );
    let language = v.check("language", language_or_japanese(&request.language));
    let at = v.check("at", instant_or_now(request.at.as_ref(), now));
    v.finish()?;
    Ok((present(kind)?, present(language)?, present(at)?))
}

fn agreed_terms(
    v: &mut Violations,
    field: &str,
    value: Option<&proto::TermsReference>,
) -> Option<AgreedTerms> {
    let Some(value) = value else {
        v.check::<()>(field, Err("is required".into()));
        return None;
    };
    let id = v.check(
        &format!("{field}.terms_document_id"),
        uuid(&value.terms_document_id),
    );
    let version = v.check(
        &format!("{field}.version"),
        TermsVersion::new(&value.version),
    );
    let sha256 = v.check(&format!("{field}.sha256"), Sha256Hex::new(&value.sha256));
    Some(AgreedTerms {
        terms_document_id: Some(id?),
        version: version?.to_string(),
        sha256: sha256?.to_string(),
    })
}

/// `RecordConsent`.
pub fn record_consent(
    request: &proto::RecordConsentRequest,
    now: DateTime<Utc>,
) -> Result<ConsentInput, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let job_seeker_id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let terms = agreed_terms(&mut v, "terms", request.terms.as_ref());
    let meeting_app_terms = agreed_terms(
        &mut v,
        "meeting_app_terms",
        request.meeting_app_terms.as_ref(),
    );
    let method = v.check(
        "method",
        match request.method() {
            proto::ConsentMethod::Explicit => {
                if request.application_id.is_empty() {
                    Ok(ConsentMethod::Explicit)
                } else {
                    Err("EXPLICIT consent names no application_id".into())
                }
            }
            proto::ConsentMethod::DeemedByApplication => uuid(&request.application_id)
                .map(|application_id| ConsentMethod::DeemedByApplication { application_id })
                .map_err(|e| format!("DEEMED_BY_APPLICATION needs application_id: it {e}")),
            proto::ConsentMethod::Unspecified => {
                Err("must be EXPLICIT or DEEMED_BY_APPLICATION".into())
            }
        },
    );
    let consented_at = v.check(
        "consented_at",
        instant_or_now(request.consented_at.as_ref(), now).and_then(|at| {
            if at > now + MAX_CLOCK_SKEW {
                Err("must not be in the future".into())
            } else {
                Ok(at)
            }
        }),
    );
    v.check(
        "time_zone",
        if request.time_zone.is_empty() || request.time_zone == TIME_ZONE {
            Ok(())
        } else {
            Err(format!(
                "must be {TIME_ZONE}: the office's jurisdiction is Japan (Art. 14)"
            ))
        },
    );
    let language = v.check("language", language(&request.language));
    v.finish()?;
    let method = present(method)?;
    let receipt_id = match &method {
        // Art. 6: the same application is one consent, however it arrives.
        ConsentMethod::DeemedByApplication { application_id } => receipt_id_for(*application_id),
        ConsentMethod::Explicit => derived_id("consent-request", &present(request_id)?.to_string()),
    };
    Ok(ConsentInput {
        receipt_id,
        job_seeker_id: present(job_seeker_id)?,
        terms: present(terms)?,
        meeting_app_terms: present(meeting_app_terms)?,
        method,
        consented_at: present(consented_at)?,
        language: present(language)?,
    })
}

/// `WithdrawConsent`.
pub fn withdraw_consent(
    request: &proto::WithdrawConsentRequest,
    now: DateTime<Utc>,
) -> Result<WithdrawConsent, ServiceError> {
    let mut v = Violations::default();
    v.check("request_id", uuid(&request.request_id));
    let job_seeker_id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let receipt_id = v.check("receipt_id", uuid(&request.receipt_id));
    v.finish()?;
    Ok(WithdrawConsent {
        job_seeker_id: present(job_seeker_id)?,
        receipt_id: present(receipt_id)?,
        withdrawn_at: now,
    })
}

/// `GetConsentStatus`.
pub fn consent_status(
    request: &proto::GetConsentStatusRequest,
    now: DateTime<Utc>,
) -> Result<(JobSeekerId, DateTime<Utc>), ServiceError> {
    let mut v = Violations::default();
    let job_seeker_id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let at = v.check("at", instant_or_now(request.at.as_ref(), now));
    v.finish()?;
    Ok((present(job_seeker_id)?, present(at)?))
}

/// A page of a list: offset and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: i64,
    pub size: i64,
}

impl Page {
    /// The token of the page after this one, if `returned` filled it.
    pub fn next_token(self, returned: usize) -> String {
        if i64::try_from(returned).unwrap_or(i64::MAX) < self.size {
            String::new()
        } else {
            (self.offset + self.size).to_string()
        }
    }
}

/// A person and a page (`ListConsentReceipts`, `ListNotices`).
pub fn person_page(
    job_seeker_id: &str,
    page_size: i32,
    page_token: &str,
) -> Result<(JobSeekerId, Page), ServiceError> {
    let mut v = Violations::default();
    let person = v.check("job_seeker_id", JobSeekerId::new(job_seeker_id));
    let size = v.check(
        "page_size",
        match page_size {
            0 => Ok(DEFAULT_PAGE_SIZE),
            1..=MAX_PAGE_SIZE => Ok(i64::from(page_size)),
            _ => Err(format!(
                "must be 0 (default {DEFAULT_PAGE_SIZE}) to {MAX_PAGE_SIZE}"
            )),
        },
    );
    let offset = v.check(
        "page_token",
        if page_token.is_empty() {
            Ok(0)
        } else {
            page_token
                .parse::<u32>()
                .map(i64::from)
                .map_err(|_| "must be a token returned as next_page_token".to_owned())
        },
    );
    v.finish()?;
    Ok((
        present(person)?,
        Page {
            offset: present(offset)?,
            size: present(size)?,
        },
    ))
}

/// `AnnounceRevision`.
pub fn announce_revision(
    request: &proto::AnnounceRevisionRequest,
    now: DateTime<Utc>,
) -> Result<AnnounceRevision, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let document = v.check("terms_document_id", uuid(&request.terms_document_id));
    let ground = v.check(
        "ground",
        match request.ground() {
            proto::RevisionGround::GeneralInterest => Ok(RevisionGround::GeneralInterest),
            proto::RevisionGround::ReasonableChange => Ok(RevisionGround::ReasonableChange),
            proto::RevisionGround::Unspecified => Err(
                "must be GENERAL_INTEREST (Art. 13(1)) or REASONABLE_CHANGE (Art. 13(2))".into(),
            ),
        },
    );
    let reasons = v.check("reasons", optional_text(&request.reasons, MAX_NOTE_CHARS));
    let summary = v.check(
        "change_summary",
        text(&request.change_summary, MAX_NOTE_CHARS),
    );
    v.finish()?;
    Ok(AnnounceRevision {
        revision_id: derived_id("revision", &present(request_id)?.to_string()),
        terms_document_id: present(document)?,
        ground: present(ground)?,
        reasons: present(reasons)?,
        change_summary: present(summary)?,
        announced_at: now,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn fields(error: ServiceError) -> Vec<String> {
        match error {
            ServiceError::InvalidArgument(violations) => {
                violations.into_iter().map(|v| v.field).collect()
            }
            other => panic!("expected INVALID_ARGUMENT, got {other:?}"),
        }
    }

    fn valid_publish() -> proto::PublishTermsDocumentRequest {
        proto::PublishTermsDocumentRequest {
            request_id: Uuid::now_v7().to_string(),
            version: "2023-12-18".into(),
            language: "ja".into(),
            title: "title".into(),
            full_text: "text".into(),
            sha256: Sha256Hex::of("text").to_string(),
            established_date: Some(proto::Date {
                year: 2021,
                month: 3,
                day: 1,
            }),
            revised_date: Some(proto::Date {
                year: 2023,
                month: 12,
                day: 18,
            }),
            effective_date: Some(proto::Date {
                year: 2023,
                month: 12,
                day: 18,
            }),
        }
    }

    #[test]
    fn a_valid_publication_passes_and_every_invalid_field_is_named() {
        assert!(publish_terms(&valid_publish(), Utc::now()).is_ok());
        let invalid = proto::PublishTermsDocumentRequest {
            request_id: "x".into(),
            version: "bad version".into(),
            language: "ja_JP".into(),
            title: " ".into(),
            full_text: String::new(),
            sha256: "ABC".into(),
            established_date: None,
            revised_date: Some(proto::Date {
                year: 2023,
                month: 2,
                day: 30,
            }),
            effective_date: Some(proto::Date {
                year: 0,
                month: 1,
                day: 1,
            }),
        };
        assert_eq!(
            fields(publish_terms(&invalid, Utc::now()).unwrap_err()),
            [
                "request_id",
                "version",
                "language",
                "title",
                "full_text",
                "sha256",
                "established_date",
                "revised_date",
                "effective_date"
            ]
        );
    }

    #[test]
    fn a_hash_that_does_not_match_the_text_is_refused() {
        let request = proto::PublishTermsDocumentRequest {
            sha256: Sha256Hex::of("other").to_string(),
            ..valid_publish()
        };
        assert_eq!(
            fields(publish_terms(&request, Utc::now()).unwrap_err()),
            ["sha256"]
        );
        let unhashed = proto::PublishTermsDocumentRequest {
            sha256: String::new(),
            ..valid_publish()
        };
        assert!(
            publish_terms(&unhashed, Utc::now()).is_ok(),
            "the hash is optional"
        );
    }

    proptest! {
        #[test]
        fn versions_are_accepted_exactly_when_well_formed(version in "\\PC{0,70}") {
            let expected = !version.is_empty()
                && version.len() <= 64
                && version.starts_with(|c: char| c.is_ascii_alphanumeric())
                && version.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
            prop_assert_eq!(TermsVersion::new(&version).is_ok(), expected);
        }

        #[test]
        fn well_formed_language_tags_are_accepted_and_canonical(
            language in "[a-zA-Z]{2,3}",
            script in proptest::option::of("[a-zA-Z]{4}"),
            region in proptest::option::of("[a-zA-Z]{2}|[0-9]{3}"),
        ) {
            let mut tag = language;
            for part in [script, region].into_iter().flatten() {
                tag.push('-');
                tag.push_str(&part);
            }
            let parsed = LanguageTag::new(&tag).unwrap();
            prop_assert!(parsed.as_str().eq_ignore_ascii_case(&tag));
            prop_assert_eq!(LanguageTag::new(parsed.as_str()).unwrap(), parsed);
        }

        #[test]
        fn arbitrary_language_tags_never_panic_and_accepted_ones_are_stable(tag in "\\PC{0,40}") {
            if let Ok(parsed) = LanguageTag::new(&tag) {
                prop_assert_eq!(LanguageTag::new(parsed.as_str()).unwrap(), parsed);
            }
        }

        #[test]
        fn dates_are_accepted_exactly_when_they_are_calendar_dates(
            year in 1800..10_100i32, month in -1..14i32, day in -1..33i32,
        ) {
            let calendar = u32::try_from(month).ok().zip(u32::try_from(day).ok())
                .and_then(|(m, d)| chrono::NaiveDate::from_ymd_opt(year, m, d))
                .is_some();
            let expected = calendar && (1900..=9999).contains(&year);
            prop_assert_eq!(CalendarDate::new(year, month, day).is_ok(), expected);
        }

        #[test]
        fn computed_hashes_are_valid_and_only_lowercase_hex_is_accepted(
            text in "\\PC{0,200}", candidate in "[0-9a-fA-Fg-z]{60,68}",
        ) {
            let computed = Sha256Hex::of(&text);
            prop_assert_eq!(Sha256Hex::new(computed.as_str()).unwrap(), computed);
            let expected = candidate.len() == 64
                && candidate.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            prop_assert_eq!(Sha256Hex::new(&candidate).is_ok(), expected);
        }

        #[test]
        fn a_consent_request_names_every_invalid_field(
            job_seeker_id in "[a-z]{0,10}", sha in "[A-Z]{0,64}", zone in "[A-Za-z/]{1,20}",
        ) {
            prop_assume!(zone != TIME_ZONE);
            let request = proto::RecordConsentRequest {
                request_id: String::new(),
                job_seeker_id,
                terms: Some(proto::TermsReference {
                    terms_document_id: "x".into(),
                    version: " ".into(),
                    sha256: sha,
                }),
                meeting_app_terms: None,
                method: proto::ConsentMethod::Unspecified.into(),
                application_id: String::new(),
                consented_at: Some(prost_types::Timestamp { seconds: 0, nanos: -1 }),
                time_zone: zone,
                language: String::new(),
            };
            let got = fields(record_consent(&request, Utc::now()).unwrap_err());
            prop_assert_eq!(got, [
                "request_id", "job_seeker_id", "terms.terms_document_id", "terms.version",
                "terms.sha256", "meeting_app_terms", "method", "consented_at", "time_zone",
                "language",
            ]);
        }
    }
}
