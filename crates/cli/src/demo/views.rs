//! What an operator and an auditor can see afterwards, read through the
//! audit-log service's views (Art. 7(2)): the device-anonymized access log,
//! k-anonymous usage statistics, and the verdict on the hash chain.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Utc};
use hellowork_auth::Role;
use hellowork_proto::auditlog::v1::{self as audit, CellSuppression, EntryKind};

use super::{
    OPERATOR, Pending,
    clients::Clients,
    eventually, explain,
    report::{self, Suppression},
    time, timestamp,
};

/// How long the log may take to catch up: it is a projection of events,
/// some heard from other services over NATS.
const PATIENCE: Duration = Duration::from_secs(60);

const AUDITOR: &str = "auditor-1";

/// Every entry of `kinds` (all when empty) whose time is at or after
/// `since`, as the operator sees them.
async fn entries(
    clients: &Clients,
    since: DateTime<Utc>,
    kinds: &[EntryKind],
) -> Result<(Vec<audit::AccessLogEntry>, i64), String> {
    let mut entries = Vec::new();
    let mut page_token = String::new();
    loop {
        let request = clients.request(
            audit::ListAccessLogRequest {
                time_range: Some(audit::TimeRange {
                    start_time: Some(timestamp(since)),
                    end_time: Some(timestamp(Utc::now() + chrono::Duration::minutes(1))),
                }),
                kinds: kinds.iter().map(|&kind| kind.into()).collect(),
                page_size: 1000,
                page_token,
            },
            OPERATOR,
            Role::Operator,
        )?;
        let page = clients
            .audit_log
            .clone()
            .list_access_log(request)
            .await
            .map_err(|s| format!("listing the access log: {}", explain(s)))?
            .into_inner();
        let slot = page.slot_length.map_or(3600, |d| d.seconds);
        entries.extend(page.entries);
        if page.next_page_token.is_empty() {
            return Ok((entries, slot));
        }
        page_token = page.next_page_token;
    }
}

/// Waits until at least `expected` entries of `kinds` since `since` are in
/// the log.
pub async fn wait_for(
    clients: &Clients,
    since: DateTime<Utc>,
    kinds: &[EntryKind],
    expected: usize,
    what: &str,
) -> Result<(), String> {
    eventually(what, PATIENCE, || async {
        match entries(clients, since, kinds).await {
            Ok((found, _)) if found.len() >= expected => Ok(()),
            Ok((found, _)) => Err(Pending::Retry(format!(
                "{} of {expected} entries",
                found.len()
            ))),
            Err(error) => Err(Pending::Fail(error)),
        }
    })
    .await
}

/// The run's entries: usage and legal entries one by one, events heard
/// from other services counted by type.
pub async fn access_log(
    clients: &Clients,
    since: DateTime<Utc>,
) -> Result<report::AccessLog, String> {
    let (all, slot_seconds) = entries(clients, since, &[]).await?;
    let mut heard = BTreeMap::new();
    let mut shown = Vec::new();
    for entry in all {
        if entry.kind() == EntryKind::DomainEvent {
            *heard.entry(entry.action.clone()).or_insert(0) += 1;
            continue;
        }
        shown.push(report::Entry {
            sequence: entry.sequence,
            slot_start: time(entry.time_slot.as_ref().and_then(|s| s.start_time.as_ref())),
            kind: kind_label(entry.kind()).to_owned(),
            action: entry.action.clone(),
            device: entry.device.map(|device| report::Device {
                class: class_label(device.device_class()).to_owned(),
                pseudonym: device.device_pseudonym,
                period: device.pseudonym_period,
                ip_prefix: device.ip_prefix,
                browser: device.browser_family,
                os: device.os_family,
            }),
            legal_request_id: entry.legal_request_id,
            record_count: entry.record_count,
        });
    }
    Ok(report::AccessLog {
        slot_seconds,
        entries: shown,
        heard,
    })
}

/// The usage statistics over the run, as the operator may see them: the
/// whole slots of `slot_seconds` (the configured slot, as the access log
/// reports it) from the one holding `since` to the one holding now, since
/// ranges must lie on the slot grid (Art. 7(2)).
pub async fn statistics(
    clients: &Clients,
    since: DateTime<Utc>,
    slot_seconds: i64,
) -> Result<report::Statistics, String> {
    let slot = slot_seconds.max(1);
    let slot_start = |at: DateTime<Utc>| {
        DateTime::from_timestamp(at.timestamp().div_euclid(slot) * slot, 0).unwrap_or(at)
    };
    let request = clients.request(
        audit::GetUsageStatisticsRequest {
            time_range: Some(audit::TimeRange {
                start_time: Some(timestamp(slot_start(since))),
                end_time: Some(timestamp(
                    slot_start(Utc::now()) + chrono::Duration::seconds(slot),
                )),
            }),
            slot_length: None,
        },
        OPERATOR,
        Role::Operator,
    )?;
    let response = clients
        .audit_log
        .clone()
        .get_usage_statistics(request)
        .await
        .map_err(|s| format!("reading the usage statistics: {}", explain(s)))?
        .into_inner();
    Ok(report::Statistics {
        k: response.k,
        slot_seconds: response.slot_length.map_or(3600, |d| d.seconds),
        cells: response
            .cells
            .iter()
            .map(|cell| report::Cell {
                slot_start: time(cell.time_slot.as_ref().and_then(|s| s.start_time.as_ref())),
                offering: report::offering_label(cell.offering).to_owned(),
                class: class_label(cell.device_class()).to_owned(),
                counts: cell.person_count.zip(cell.record_count),
                suppression: match cell.suppression() {
                    CellSuppression::BelowK => Suppression::BelowK,
                    CellSuppression::Complementary => Suppression::Complementary,
                    CellSuppression::None | CellSuppression::Unspecified => Suppression::None,
                },
            })
            .collect(),
    })
}

/// The auditor's check of the whole hash chain.
pub async fn verify(clients: &Clients) -> Result<report::Verification, String> {
    let request = clients.request(audit::VerifyLogRequest::default(), AUDITOR, Role::Auditor)?;
    let response = clients
        .audit_log
        .clone()
        .verify_log(request)
        .await
        .map_err(|s| format!("verifying the log: {}", explain(s)))?
        .into_inner();
    Ok(report::Verification {
        intact: response.intact,
        checked: response.checked_count,
        from: response.from_sequence,
        to: response.to_sequence,
        head_hash: response
            .head_hash
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        first_bad: (!response.intact).then_some(response.first_bad_sequence),
    })
}

fn kind_label(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::Usage => "usage",
        EntryKind::DomainEvent => "event",
        EntryKind::LegalRequestFiled => "legal filed",
        EntryKind::LegalRequestApproved => "legal approved",
        EntryKind::LegalRequestDenied => "legal denied",
        EntryKind::LegalRequestRevoked => "legal revoked",
        EntryKind::DeviceRecordsDisclosed => "disclosed",
        EntryKind::DeviceDisclosureRefused => "refused",
        EntryKind::SubjectErased => "erased",
        EntryKind::RetentionShredded => "shredded",
        EntryKind::Unspecified => "?",
    }
}

fn class_label(class: audit::DeviceClass) -> &'static str {
    match class {
        audit::DeviceClass::Smartphone => "smartphone",
        audit::DeviceClass::Tablet => "tablet",
        audit::DeviceClass::Pc => "PC",
        audit::DeviceClass::Other => "other",
        audit::DeviceClass::Unspecified => "-",
    }
}
