//! Stored rows as the contract's messages: the anonymized views (Art. 7(2))
//! and, only for an authorized disclosure, the opened identifiers. The
//! statistics are encoded by [`super::statistics`].

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hellowork_proto::{
    auditlog::v1::{self as proto, EntryKind},
    sealing::v1 as sealing,
};
use hellowork_sealing::personal::{DataKey, PersonalSealed};
use prost::Message;

use crate::{
    domain::{
        chain::ChainFailure,
        subject::{device_field, job_seeker_field},
        time::{slot_of, timestamp},
    },
    keys::{KeyError, SubjectKeys},
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

/// Art. 7(2) proviso: `rows` with their identifiers opened under their
/// data keys; a record whose key was destroyed (retention or erasure) is
/// reported as erased, without identifiers, never as an error.
pub async fn disclosed(
    rows: &[Stored],
    keys: &SubjectKeys,
) -> Result<Vec<proto::DisclosedDeviceRecord>, KeyError> {
    let sealed: Vec<(Option<PersonalSealed>, Option<PersonalSealed>)> = rows
        .iter()
        .map(|row| {
            (
                decoded(&row.entry.sealed_job_seeker),
                decoded(&row.entry.sealed_device),
            )
        })
        .collect();
    let mut ids: Vec<String> = sealed
        .iter()
        .flat_map(|(person, device)| [person, device])
        .flatten()
        .map(|sealed| sealed.data_key_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    let held = keys.by_ids(&ids).await?;
    Ok(rows
        .iter()
        .zip(sealed)
        .map(|(row, (person, device))| {
            let e = &row.entry;
            let record_id = e.record_id.clone().unwrap_or_default();
            let opened = open(&held, &record_id, person.as_ref(), device.as_ref());
            let erased = opened.is_none();
            let (job_seeker_id, device) = opened.unwrap_or_default();
            proto::DisclosedDeviceRecord {
                sequence: row.sequence as u64,
                job_seeker_id,
                occurred_at: Some(timestamp(e.occurred_at)),
                usage_window: match (e.window_start, e.window_end) {
                    (Some(s), Some(t)) => Some(range(s, t)),
                    _ => None,
                },
                access_kind: e.access_kind,
                action: e.action.clone(),
                outcome: e.outcome,
                device,
                erased,
            }
        })
        .collect())
}

fn decoded(bytes: &[u8]) -> Option<PersonalSealed> {
    if bytes.is_empty() {
        return None;
    }
    sealing::PersonalSealed::decode(bytes).ok().map(Into::into)
}

/// The job seeker id and device of a record, opened; `None` when a sealed
/// part's key is gone or no longer opens it (erased).
fn open(
    held: &HashMap<String, DataKey>,
    record_id: &str,
    person: Option<&PersonalSealed>,
    device: Option<&PersonalSealed>,
) -> Option<(String, Option<proto::DeviceIdentifiers>)> {
    let open = |field: &str, sealed: &PersonalSealed| {
        held.get(&sealed.data_key_id)?.open(field, sealed).ok()
    };
    let job_seeker_id = match person {
        None => String::new(),
        Some(sealed) => {
            String::from_utf8(open(&job_seeker_field(record_id), sealed)?.to_vec()).ok()?
        }
    };
    let device = match device {
        None => None,
        Some(sealed) => Some(
            proto::DeviceIdentifiers::decode(open(&device_field(record_id), sealed)?.as_slice())
                .ok()?,
        ),
    };
    Some((job_seeker_id, device))
}

pub fn verification(v: Verification) -> proto::VerifyLogResponse {
    let (first_bad_sequence, failure) = match v.failure {
        None => (0, proto::ChainFailure::Unspecified),
        Some((position, failure)) => (
            position,
            match failure {
                ChainFailure::HashMismatch => proto::ChainFailure::HashMismatch,
                ChainFailure::MissingEntry => proto::ChainFailure::MissingEntry,
                ChainFailure::BrokenLink => proto::ChainFailure::BrokenLink,
                ChainFailure::Truncated => proto::ChainFailure::Truncated,
            },
        ),
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Art. 7(2), 8: what is sealed for a record opens for that record
        /// under its key, and is erased (not an error) without the key or
        /// for another record.
        #[test]
        fn identifiers_open_for_their_record_only_and_read_as_erased_without_their_key(
            person in "[a-z0-9-]{1,40}", device_id in "[ -~]{1,60}", record in "[a-f0-9]{8}",
        ) {
            let key = DataKey::generate("auditlog/2024-05/k");
            let device = proto::DeviceIdentifiers { device_id, ..Default::default() };
            let sealed_person = key.seal(&job_seeker_field(&record), person.as_bytes());
            let sealed_device = key.seal(&device_field(&record), &device.encode_to_vec());
            let held = HashMap::from([(key.id().to_owned(), key.clone())]);
            let opened = open(&held, &record, Some(&sealed_person), Some(&sealed_device));
            prop_assert_eq!(opened, Some((person, Some(device))));
            prop_assert_eq!(open(&held, "other", Some(&sealed_person), None), None);
            prop_assert_eq!(open(&HashMap::new(), &record, None, Some(&sealed_device)), None);
            prop_assert_eq!(open(&HashMap::new(), &record, None, None), Some((String::new(), None)));
        }
    }
}
