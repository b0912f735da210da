//! A legal request's filing as the domain gets it.

use chrono::{Duration, Utc};
use hellowork_values::time::timestamp;

use super::*;

fn request(job_seeker_id: &str) -> proto::FileLegalRequestRequest {
    let now = Utc::now();
    proto::FileLegalRequestRequest {
        request_id: uuid::Uuid::now_v7().to_string(),
        agency: "Kagawa Prefectural Police".into(),
        legal_basis: proto::LegalBasis::CourtWarrant as i32,
        legal_basis_citation: String::new(),
        case_number: "2026-K-17".into(),
        scope: Some(proto::LegalRequestScope {
            job_seeker_ids: vec![job_seeker_id.to_owned()],
            device_pseudonyms: Vec::new(),
            time_range: Some(proto::TimeRange {
                start_time: Some(timestamp(now - Duration::days(7))),
                end_time: Some(timestamp(now)),
            }),
        }),
        justification: "warrant of 2026-11-30".into(),
        requested_expires_at: Some(timestamp(now + Duration::days(3))),
    }
}

/// Art. 7(2): the scope names each person in the one form their lookup
/// tags are made from, so an id sent in capitals finds the same records.
#[test]
fn a_scope_keeps_each_person_in_the_canonical_form() {
    let upper = "0B7C56D4-4F4A-4D8E-9C1B-5A2F0E3D7B61";
    let mut violations = Vec::new();
    let filed = filing(&mut violations, request(upper), Utc::now()).expect("a valid filing");
    assert!(violations.is_empty(), "{violations:?}");
    assert_eq!(filed.scope.job_seeker_ids, [upper.to_lowercase()]);
}

#[test]
fn a_scope_naming_no_uuid_is_refused_with_its_field() {
    let mut violations = Vec::new();
    assert!(filing(&mut violations, request("js-1"), Utc::now()).is_none());
    let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
    assert_eq!(fields, ["scope.job_seeker_ids[0]"]);
}
