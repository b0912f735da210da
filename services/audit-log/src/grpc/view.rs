//! Stored rows as the contract's messages: the anonymized views (Art. 7(2))
//! and, only for an authorized disclosure, the opened identifiers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use hellowork_proto::auditlog::v1::{self as proto, CellSuppression, EntryKind};
use prost::Message;
use sqlx::PgPool;

use crate::{
    domain::{
        chain::ChainFailure,
        kanon::{self, Cell, Suppression},
        seal::{Keyring, SealError, Sealed},
        time::{slot_of, timestamp},
    },
    store::{Stored, Verification},
};

pub fn duration(seconds: i64) -> prost_types::Duration {
    prost_types::Duration { seconds, nanos: 0 }
}

fn range(start: DateTime<Utc>, end: DateTime<Utc>) -> proto::TimeRange {
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
    }
}

/// Art. 7(2) proviso: a record with its identifiers opened.
pub fn disclosed(
    row: &Stored,
    keyring: &Keyring,
) -> Result<proto::DisclosedDeviceRecord, SealError> {
    let e = &row.entry;
    let device = if e.ciphertext.is_empty() {
        None
    } else {
        let sealed = Sealed {
            key_id: e.key_id.clone(),
            nonce: e.nonce.clone(),
            ciphertext: e.ciphertext.clone(),
        };
        let context = e.record_id.clone().unwrap_or_default();
        let plain = keyring.open(&sealed, context.as_bytes())?;
        Some(proto::DeviceIdentifiers::decode(plain.as_slice()).map_err(|_| SealError::Corrupt)?)
    };
    Ok(proto::DisclosedDeviceRecord {
        sequence: row.sequence as u64,
        job_seeker_id: e.job_seeker_id.clone(),
        occurred_at: Some(timestamp(e.occurred_at)),
        usage_window: match (e.window_start, e.window_end) {
            (Some(s), Some(t)) => Some(range(s, t)),
            _ => None,
        },
        access_kind: e.access_kind,
        action: e.action.clone(),
        outcome: e.outcome,
        device,
    })
}

const OFFERINGS: [i32; 5] = [1, 2, 3, 4, 5];
const CLASSES: [i32; 4] = [1, 2, 3, 4];

/// Art. 7(2): the k-anonymous grid over `[start, end)`.
pub async fn statistics(
    pool: &PgPool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    slot: i64,
    k: u32,
) -> Result<Vec<proto::UsageStatisticsCell>, sqlx::Error> {
    let rows: Vec<(DateTime<Utc>, String, i32, i32)> = sqlx::query_as(
        "SELECT occurred_at, job_seeker_id, offering, device_class FROM access_log \
         WHERE kind = $1 AND occurred_at >= $2 AND occurred_at < $3",
    )
    .bind(EntryKind::Usage as i32)
    .bind(start)
    .bind(end)
    .fetch_all(pool)
    .await?;
    let first = slot_of(start, slot).0;
    let mut counts: BTreeMap<(i64, i32, i32), (BTreeSet<String>, u64)> = BTreeMap::new();
    for (at, person, offering, class) in rows {
        let table = (slot_of(at, slot).0 - first).num_seconds() / slot;
        let cell = counts.entry((table, offering, class)).or_default();
        if !person.is_empty() {
            cell.0.insert(person);
        }
        cell.1 += 1;
    }
    let mut cells = Vec::new();
    let mut table = 0i64;
    let mut slot_start = first;
    while slot_start < end {
        for offering in OFFERINGS {
            for class in CLASSES {
                let (persons, records) = counts
                    .get(&(table, offering, class))
                    .map(|(p, r)| (p.len() as u64, *r))
                    .unwrap_or((0, 0));
                cells.push(Cell {
                    table: table as u64,
                    row: offering as u32,
                    column: class as u32,
                    persons,
                    records,
                    suppression: Suppression::None,
                });
            }
        }
        table += 1;
        slot_start += chrono::Duration::seconds(slot);
    }
    kanon::suppress(&mut cells, k);
    Ok(cells
        .into_iter()
        .map(|cell| {
            let slot_start = first + chrono::Duration::seconds(cell.table as i64 * slot);
            let published = cell.suppression == Suppression::None;
            proto::UsageStatisticsCell {
                time_slot: Some(range(
                    slot_start,
                    slot_start + chrono::Duration::seconds(slot),
                )),
                offering: cell.row as i32,
                device_class: cell.column as i32,
                person_count: published.then_some(cell.persons),
                record_count: published.then_some(cell.records),
                suppression: match cell.suppression {
                    Suppression::None => CellSuppression::None,
                    Suppression::BelowK => CellSuppression::BelowK,
                    Suppression::Complementary => CellSuppression::Complementary,
                } as i32,
            }
        })
        .collect())
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
