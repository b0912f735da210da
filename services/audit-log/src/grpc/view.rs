//! Stored rows as the contract's messages: the anonymized views (Art.
//! 7(2)); the identifiers of an authorized disclosure are opened by the
//! service (`crate::service`). The statistics are encoded by
//! [`super::statistics`].

use chrono::{DateTime, Utc};
use hellowork_proto::auditlog::v1::{self as proto, EntryKind};

use crate::{
    domain::{
        chain,
        time::{slot_of, timestamp},
    },
    store::{Stored, Verification},
};

pub fn duration(seconds: i64) -> prost_types::Duration {
    prost_types::Duration { seconds, nanos: 0 }
}

pub fn range(start: DateTime<Utc>, end: DateTime<Utc>) -> proto::TimeRange {
    proto::TimeRange {
        start_time: Some(timestamp(start)),
        end_time: Some(timestamp(end)),
    }
}

/// Art. 7(2): the anonymized entry; no raw identifier, time coarsened.
pub fn entry(row: &Stored, slot_seconds: i64) -> proto::AccessLogEntry {
    let e = &row.entry;
    let (start, end) = slot_of(e.occurred_at, slot_seconds);
    let usage = e.kind == EntryKind::Usage as i32;
    proto::AccessLogEntry {
        sequence: row.sequence as u64,
        kind: e.kind,
        time_slot: Some(range(start, end)),
        action: e.action.clone(),
        access_kind: e.access_kind,
        outcome: e.outcome,
        offering: e.offering,
        device: (usage && !e.device_pseudonym.is_empty()).then(|| proto::AnonymizedDevice {
            device_pseudonym: e.device_pseudonym.clone(),
            pseudonym_period: e.pseudonym_period.clone(),
            ip_prefix: e.ip_prefix.clone(),
            browser_family: e.browser_family.clone(),
            os_family: e.os_family.clone(),
            device_class: e.device_class,
        }),
        legal_request_id: e.legal_request_id.clone(),
        record_count: u64::try_from(e.record_count).unwrap_or(0),
        reference: e.reference.clone(),
    }
}

pub fn verification(v: Verification) -> proto::VerifyLogResponse {
    let (first_bad_sequence, failure) = chain::reported(v.failure);
    proto::VerifyLogResponse {
        intact: v.failure.is_none(),
        from_sequence: v.from,
        to_sequence: v.to,
        checked_count: v.checked,
        first_bad_sequence,
        failure: failure as i32,
        head_hash: v.head_hash,
        verified_at: Some(timestamp(Utc::now())),
    }
}
