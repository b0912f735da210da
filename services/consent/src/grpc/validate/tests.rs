//! The requests' validation, and the domain values it parses, against
//! valid and invalid input: every invalid field named, at once.

use chrono::Utc;
use hellowork_platform::ServiceError;
use hellowork_proto::consent::v1 as proto;
use proptest::prelude::*;
use uuid::Uuid;

use super::*;
use crate::domain::values::{CalendarDate, LanguageTag, Sha256Hex, TIME_ZONE, TermsVersion};

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
