//! The hash-chained access log in Postgres: append under the head's row
//! lock (so concurrent writers keep the chain linear), read, and verify.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};

use crate::domain::chain::{Canonical, ChainFailure, StoredLink, Verifier, link};

/// One entry's content (everything but its position and hashes).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    pub kind: i32,
    pub occurred_at: DateTime<Utc>,
    pub record_id: Option<String>,
    pub job_seeker_id: String,
    pub access_kind: i32,
    pub action: String,
    pub method: String,
    pub outcome: i32,
    pub offering: i32,
    pub booking_id: String,
    pub source: String,
    pub window_start: Option<DateTime<Utc>>,
    pub window_end: Option<DateTime<Utc>>,
    pub device_class: i32,
    pub device_pseudonym: String,
    pub pseudonym_period: String,
    pub ip_prefix: String,
    pub browser_family: String,
    pub os_family: String,
    pub key_id: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub actor: String,
    pub legal_request_id: String,
    pub record_count: i64,
}

/// A stored entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub sequence: i64,
    #[sqlx(flatten)]
    pub entry: Entry,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

const COLUMNS: &str = "kind, occurred_at, record_id, job_seeker_id, access_kind, action, method, \
    outcome, offering, booking_id, source, window_start, window_end, device_class, \
    device_pseudonym, pseudonym_period, ip_prefix, browser_family, os_family, key_id, nonce, \
    ciphertext, actor, legal_request_id, record_count";

fn micros(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(|at| at.timestamp_micros())
}

/// The canonical bytes of `entry` at `sequence`.
pub fn canonical(sequence: i64, entry: &Entry) -> Canonical {
    Canonical::new()
        .int(sequence)
        .int(i64::from(entry.kind))
        .int(entry.occurred_at.timestamp_micros())
        .opt_text(entry.record_id.as_deref())
        .text(&entry.job_seeker_id)
        .int(i64::from(entry.access_kind))
        .text(&entry.action)
        .text(&entry.method)
        .int(i64::from(entry.outcome))
        .int(i64::from(entry.offering))
        .text(&entry.booking_id)
        .text(&entry.source)
        .opt_int(micros(entry.window_start))
        .opt_int(micros(entry.window_end))
        .int(i64::from(entry.device_class))
        .text(&entry.device_pseudonym)
        .text(&entry.pseudonym_period)
        .text(&entry.ip_prefix)
        .text(&entry.browser_family)
        .text(&entry.os_family)
        .text(&entry.key_id)
        .field(&entry.nonce)
        .field(&entry.ciphertext)
        .text(&entry.actor)
        .text(&entry.legal_request_id)
        .int(entry.record_count)
}

/// What appending one entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    New(u64),
    /// Its `record_id` was already recorded at this position.
    Duplicate(u64),
}

/// Appends `entries` in order inside the caller's transaction, holding the
/// head's row lock until it commits. Entries whose `record_id` is already
/// recorded (also earlier in the same batch) are skipped.
pub async fn append(
    tx: &mut PgConnection,
    entries: Vec<Entry>,
) -> Result<Vec<Appended>, sqlx::Error> {
    let (mut sequence, mut hash): (i64, Vec<u8>) =
        sqlx::query_as("SELECT sequence, hash FROM chain_head WHERE id FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    let mut results = Vec::with_capacity(entries.len());
    for mut entry in entries {
        if let Some(record_id) = &entry.record_id {
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT sequence FROM access_log WHERE record_id = $1")
                    .bind(record_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some(existing) = existing {
                results.push(Appended::Duplicate(existing as u64));
                continue;
            }
        }
        entry.occurred_at = crate::domain::time::to_micros(entry.occurred_at);
        entry.window_start = entry.window_start.map(crate::domain::time::to_micros);
        entry.window_end = entry.window_end.map(crate::domain::time::to_micros);
        let next = sequence + 1;
        let next_hash = link(&hash, &canonical(next, &entry)).to_vec();
        sqlx::query(&format!(
            "INSERT INTO access_log (sequence, {COLUMNS}, prev_hash, hash) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
              $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"
        ))
        .bind(next)
        .bind(entry.kind)
        .bind(entry.occurred_at)
        .bind(&entry.record_id)
        .bind(&entry.job_seeker_id)
        .bind(entry.access_kind)
        .bind(&entry.action)
        .bind(&entry.method)
        .bind(entry.outcome)
        .bind(entry.offering)
        .bind(&entry.booking_id)
        .bind(&entry.source)
        .bind(entry.window_start)
        .bind(entry.window_end)
        .bind(entry.device_class)
        .bind(&entry.device_pseudonym)
        .bind(&entry.pseudonym_period)
        .bind(&entry.ip_prefix)
        .bind(&entry.browser_family)
        .bind(&entry.os_family)
        .bind(&entry.key_id)
        .bind(&entry.nonce)
        .bind(&entry.ciphertext)
        .bind(&entry.actor)
        .bind(&entry.legal_request_id)
        .bind(entry.record_count)
        .bind(&hash)
        .bind(&next_hash)
        .execute(&mut *tx)
        .await?;
        sequence = next;
        hash = next_hash;
        results.push(Appended::New(next as u64));
    }
    sqlx::query("UPDATE chain_head SET sequence = $1, hash = $2 WHERE id")
        .bind(sequence)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    Ok(results)
}

/// Entries with `occurred_at` in `[start, end)` after position `after`,
/// of the given kinds (all if empty), by position.
pub async fn list(
    pool: &PgPool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    kinds: &[i32],
    after: i64,
    limit: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT sequence, {COLUMNS}, prev_hash, hash FROM access_log \
         WHERE occurred_at >= $1 AND occurred_at < $2 AND sequence > $3 \
           AND (cardinality($4::int[]) = 0 OR kind = ANY($4)) \
         ORDER BY sequence LIMIT $5"
    ))
    .bind(start)
    .bind(end)
    .bind(after)
    .bind(kinds)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Usage entries in scope of a legal request: in `[start, end)` and of one
/// of `persons` or one of `pseudonyms` (`pseudonym@period`).
#[allow(clippy::too_many_arguments)]
pub async fn in_scope(
    pool: &PgPool,
    usage_kind: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    persons: &[String],
    pseudonyms: &[String],
    after: i64,
    limit: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT sequence, {COLUMNS}, prev_hash, hash FROM access_log \
         WHERE kind = $1 AND occurred_at >= $2 AND occurred_at < $3 AND sequence > $4 \
           AND ((job_seeker_id <> '' AND job_seeker_id = ANY($5)) \
             OR (device_pseudonym <> '' AND device_pseudonym || '@' || pseudonym_period = ANY($6))) \
         ORDER BY sequence LIMIT $7"
    ))
    .bind(usage_kind)
    .bind(start)
    .bind(end)
    .bind(after)
    .bind(persons)
    .bind(pseudonyms)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub from: u64,
    pub to: u64,
    pub checked: u64,
    pub failure: Option<(u64, ChainFailure)>,
    pub head_hash: Vec<u8>,
}

const VERIFY_PAGE: i64 = 1000;

/// Walks the chain over `[from, to]` (`to` 0 = the head) in one snapshot.
pub async fn verify(pool: &PgPool, from: u64, to: u64) -> Result<Verification, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    let (head_sequence, head_hash): (i64, Vec<u8>) =
        sqlx::query_as("SELECT sequence, hash FROM chain_head WHERE id")
            .fetch_one(&mut *tx)
            .await?;
    let head_sequence = head_sequence as u64;
    let from = from.max(1);
    let to = if to == 0 { head_sequence } else { to };
    let prev: Vec<u8> = if from == 1 {
        crate::domain::chain::GENESIS.to_vec()
    } else {
        sqlx::query_scalar("SELECT hash FROM access_log WHERE sequence = $1")
            .bind(from as i64 - 1)
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or_default()
    };
    let mut verifier = Verifier::new(from, prev);
    let mut after = from as i64 - 1;
    let mut failure = None;
    let mut last_hash = verifier.expected_prev.clone();
    'pages: while to > 0 && after < to as i64 {
        let rows: Vec<Stored> = sqlx::query_as(&format!(
            "SELECT sequence, {COLUMNS}, prev_hash, hash FROM access_log \
             WHERE sequence > $1 AND sequence <= $2 ORDER BY sequence LIMIT $3"
        ))
        .bind(after)
        .bind(to as i64)
        .bind(VERIFY_PAGE)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let stored = StoredLink {
                sequence: row.sequence as u64,
                prev_hash: row.prev_hash.clone(),
                hash: row.hash.clone(),
                recomputed: link(&row.prev_hash, &canonical(row.sequence, &row.entry)),
            };
            if let Err(bad) = verifier.check(&stored) {
                failure = Some(bad);
                break 'pages;
            }
            last_hash = row.hash.clone();
            after = row.sequence;
        }
    }
    if failure.is_none() && to > 0 {
        failure = verifier.finish(to, head_sequence, &head_hash).err();
    }
    tx.commit().await?;
    Ok(Verification {
        from,
        to,
        checked: verifier.checked,
        failure,
        head_hash: last_hash,
    })
}
