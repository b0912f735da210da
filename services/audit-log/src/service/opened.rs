//! Art. 7(2) proviso: the records of an authorized disclosure with their
//! identifiers opened under their data keys, the only place they are.

use std::collections::HashMap;

use hellowork_proto::{auditlog::v1 as proto, sealing::v1 as sealing};
use hellowork_sealing::personal::{DataKey, PersonalSealed};
use prost::Message;

use crate::{
    domain::{
        subject::{device_field, job_seeker_field},
        time::timestamp,
    },
    keys::{KeyError, SubjectKeys},
    store::Stored,
};

fn range(
    start: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
) -> proto::TimeRange {
    proto::TimeRange {
        start_time: Some(timestamp(start)),
        end_time: Some(timestamp(end)),
    }
}

/// Art. 7(2) proviso: `rows` with their identifiers opened under their
/// data keys; a record whose key was destroyed (retention or erasure) is
/// reported as erased, without identifiers, never as an error.
pub(super) async fn disclosed(
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
