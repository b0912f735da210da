//! An investigative body's request for raw device records (Art. 7(2)
//! proviso): filed by a legal officer, approved by a second person (told
//! apart by personnel id) on terms within the office's ceilings, used by
//! the filer alone; every step, and a refused attempt, is on the log.

use chrono::{DateTime, Utc};
use hellowork_auth::Role;
use hellowork_proto::auditlog::v1 as audit;

use super::{clients::Clients, explain, report, timestamp};

const LEGAL_OFFICER: &str = "legal-officer-1";
const OTHER_OFFICER: &str = "legal-officer-2";
const APPROVER: &str = "approver-1";
/// The personnel ids of the filing officer and the approver: two people.
const LEGAL_OFFICER_PERSONNEL_ID: &str = "HW-STAFF-0101";
const APPROVER_PERSONNEL_ID: &str = "HW-STAFF-0202";
/// Most records the approver authorizes to disclose.
const DISCLOSURE_LIMIT: u64 = 100;

/// A prefectural police inquiry about one person's access during the run:
/// filed, approved by a second person, used by the filer; another
/// officer's attempt is refused (and, like everything here, logged).
pub async fn legal_request(
    clients: &Clients,
    person: &str,
    since: DateTime<Utc>,
    run: &str,
) -> Result<report::Legal, String> {
    let now = Utc::now();
    let agency = "香川県警察本部";
    let citation = "刑事訴訟法第197条第2項";
    let case_number = format!("R8-{run}");
    let file = audit::FileLegalRequestRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        agency: agency.into(),
        legal_basis: audit::LegalBasis::CriminalInvestigationInquiry.into(),
        legal_basis_citation: citation.into(),
        case_number: case_number.clone(),
        scope: Some(audit::LegalRequestScope {
            job_seeker_ids: vec![person.to_owned()],
            device_pseudonyms: vec![],
            time_range: Some(audit::TimeRange {
                start_time: Some(timestamp(since - chrono::Duration::minutes(1))),
                end_time: Some(timestamp(now + chrono::Duration::minutes(5))),
            }),
        }),
        justification: "不正アクセス事案の捜査のための照会".into(),
        requested_expires_at: Some(timestamp(now + chrono::Duration::days(7))),
    };
    let mut log = clients.audit_log.clone();
    let filed = log
        .file_legal_request(clients.staff_request(
            file,
            LEGAL_OFFICER,
            Role::LegalOfficer,
            Some(LEGAL_OFFICER_PERSONNEL_ID),
        )?)
        .await
        .map_err(|s| format!("filing the legal request: {}", explain(s)))?
        .into_inner()
        .legal_request
        .ok_or("no legal request returned")?;
    let id = filed.legal_request_id;
    let expires_at = now + chrono::Duration::days(3);
    let approve = audit::ApproveLegalRequestRequest {
        legal_request_id: id.clone(),
        expires_at: Some(timestamp(expires_at)),
        note: "法令に基づく照会であること、対象と期間が必要最小限であることを確認".into(),
        disclosure_limit: DISCLOSURE_LIMIT,
        ..Default::default()
    };
    log.approve_legal_request(clients.staff_request(
        approve,
        APPROVER,
        Role::Approver,
        Some(APPROVER_PERSONNEL_ID),
    )?)
    .await
    .map_err(|s| format!("approving the legal request: {}", explain(s)))?;
    let disclose = |officer: &str, personnel_id: Option<&str>| {
        clients.staff_request(
            audit::DiscloseDeviceRecordsRequest {
                legal_request_id: id.clone(),
                page_size: 100,
                page_token: String::new(),
            },
            officer,
            Role::LegalOfficer,
            personnel_id,
        )
    };
    // The raw identifiers go to the named officer only; the demo, speaking
    // for the operator, keeps just their number.
    let disclosed = log
        .disclose_device_records(disclose(LEGAL_OFFICER, Some(LEGAL_OFFICER_PERSONNEL_ID))?)
        .await
        .map_err(|s| format!("disclosing under the legal request: {}", explain(s)))?
        .into_inner()
        .records
        .len();
    let refused = match log
        .disclose_device_records(disclose(OTHER_OFFICER, Some("HW-STAFF-0303"))?)
        .await
    {
        Ok(_) => return Err("another officer was given the records".into()),
        Err(status) => explain(status),
    };
    Ok(report::Legal {
        legal_request_id: id,
        agency: agency.into(),
        citation: citation.into(),
        case_number,
        filed_by: LEGAL_OFFICER.into(),
        approved_by: APPROVER.into(),
        other_officer: OTHER_OFFICER.into(),
        expires_at,
        disclosed_records: disclosed,
        refused,
    })
}
