//! The hash-chained access log in Postgres: append under the head's row
//! lock (so concurrent writers keep the chain linear), read, and verify.
//! Every append also extends the log's Merkle tree (`transparency`) in the
//! same transaction, so the tree and the rows never disagree on a commit.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use hellowork_transparency::leaf_hash;

use crate::{
    domain::{
        chain::{Canonical, ChainFailure, StoredLink, Verifier, link},
        time::to_micros,
    },
    transparency::tree_store,
};

/// One entry's content (everything but its position and hashes).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    pub kind: i32,
    pub occurred_at: DateTime<Utc>,
    pub record_id: Option<String>,
    /// Art. 7(2): the person's lookup tag of the key period; empty when no
    /// person (or not a usage entry). Never the clear job seeker id.
    pub subject_tag: Vec<u8>,
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
    /// Art. 8: encoded `PersonalSealed` of the job seeker id; empty if none.
    pub sealed_job_seeker: Vec<u8>,
    /// Art. 7(2), 8: encoded `PersonalSealed` of the device; empty if none.
    pub sealed_device: Vec<u8>,
    pub actor: String,
    pub legal_request_id: String,
    pub record_count: i64,
    /// Kind SUBJECT_ERASED: the erasure's case number.
    pub reference: String,
    /// Kind SUBJECT_ERASED: the peer event applied.
    pub peer_event_id: String,
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

const COLUMNS: &str = "kind, occurred_at, record_id, subject_tag, access_kind, action, method, \
    outcome, offering, booking_id, source, window_start, window_end, device_class, \
    device_pseudonym, pseudonym_period, ip_prefix, browser_family, os_family, sealed_job_seeker, \
    sealed_device, actor, legal_request_id, record_count, reference, peer_event_id";

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
        .field(&entry.subject_tag)
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
        .field(&entry.sealed_job_seeker)
        .field(&entry.sealed_device)
        .text(&entry.actor)
        .text(&entry.legal_request_id)
        .int(entry.record_count)
        .text(&entry.reference)
        .text(&entry.peer_event_id)
}

/// Rows per INSERT: Postgres takes at most 65 535 bind parameters per
/// statement, 29 per row.
const INSERT_CHUNK: usize = 1000;

/// Appends `entries` in order inside the caller's transaction, holding the
/// head's row lock until it commits; returns how many it appended. Entries
/// whose `record_id` is already recorded (also earlier in the same call) are
/// skipped, deterministically, so a replay skips the same ones.
pub async fn append(tx: &mut PgConnection, entries: Vec<Entry>) -> Result<u64, sqlx::Error> {
    if entries.is_empty() {
        return Ok(0);
    }
    let (mut sequence, mut hash, tree_size): (i64, Vec<u8>, i64) =
        sqlx::query_as("SELECT sequence, hash, tree_size FROM chain_head WHERE id FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    if tree_size != sequence {
        catch_up_tree(tx, tree_size, sequence).await?;
    }
    let first_leaf = sequence as u64;
    let ids: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.record_id.as_deref())
        .collect();
    let recorded: Vec<String> =
        sqlx::query_scalar("SELECT record_id FROM access_log WHERE record_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut *tx)
            .await?;
    let mut seen: std::collections::HashSet<String> = recorded.into_iter().collect();
    let mut rows = Vec::with_capacity(entries.len());
    let mut leaves = Vec::with_capacity(entries.len());
    for mut entry in entries {
        if let Some(record_id) = &entry.record_id
            && !seen.insert(record_id.clone())
        {
            continue;
        }
        entry.occurred_at = to_micros(entry.occurred_at);
        entry.window_start = entry.window_start.map(to_micros);
        entry.window_end = entry.window_end.map(to_micros);
        sequence += 1;
        let canonical = canonical(sequence, &entry);
        leaves.push(leaf_hash(canonical.bytes()));
        let next_hash = link(&hash, &canonical).to_vec();
        rows.push((
            sequence,
            entry,
            std::mem::replace(&mut hash, next_hash.clone()),
            next_hash,
        ));
    }
    let appended = rows.len() as u64;
    for chunk in rows.chunks(INSERT_CHUNK) {
        let mut insert = QueryBuilder::<Postgres>::new(format!(
            "INSERT INTO access_log (sequence, {COLUMNS}, prev_hash, hash) "
        ));
        insert.push_values(chunk, |mut row, (sequence, entry, prev_hash, hash)| {
            row.push_bind(sequence)
                .push_bind(entry.kind)
                .push_bind(entry.occurred_at)
                .push_bind(&entry.record_id)
                .push_bind(&entry.subject_tag)
                .push_bind(entry.access_kind)
                .push_bind(&entry.action)
                .push_bind(&entry.method)
                .push_bind(entry.outcome)
                .push_bind(entry.offering)
                .push_bind(&entry.booking_id)
                .push_bind(&entry.source)
                .push_bind(entry.window_start)
                .push_bind(entry.window_end)
                .push_bind(entry.device_class)
                .push_bind(&entry.device_pseudonym)
                .push_bind(&entry.pseudonym_period)
                .push_bind(&entry.ip_prefix)
                .push_bind(&entry.browser_family)
                .push_bind(&entry.os_family)
                .push_bind(&entry.sealed_job_seeker)
                .push_bind(&entry.sealed_device)
                .push_bind(&entry.actor)
                .push_bind(&entry.legal_request_id)
                .push_bind(entry.record_count)
                .push_bind(&entry.reference)
                .push_bind(&entry.peer_event_id)
                .push_bind(prev_hash)
                .push_bind(hash);
        });
        insert.build().execute(&mut *tx).await?;
    }
    tree_store::append(tx, first_leaf, &leaves).await?;
    sqlx::query("UPDATE chain_head SET sequence = $1, hash = $2, tree_size = $1 WHERE id")
        .bind(sequence)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
    Ok(appended)
}

/// Builds the Merkle tree over the entries appended before it existed (the
/// Step 9 upgrade); a no-op once it covers the log. Returns how many.
pub async fn catch_up(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let (sequence, tree_size): (i64, i64) =
        sqlx::query_as("SELECT sequence, tree_size FROM chain_head WHERE id FOR UPDATE")
            .fetch_one(&mut *tx)
            .await?;
    let grown = if tree_size < sequence {
        catch_up_tree(&mut tx, tree_size, sequence).await?
    } else {
        0
    };
    tx.commit().await?;
    Ok(grown)
}

/// Rows per page when the tree catches up with entries appended before it
/// existed.
const CATCH_UP_PAGE: i64 = 1000;

/// Adds the entries `(tree_size, sequence]` to the Merkle tree, from their
/// stored rows: the entries appended before Step 9 (the tree's upgrade),
/// under the head's row lock the caller holds. Returns how many.
pub async fn catch_up_tree(
    tx: &mut PgConnection,
    tree_size: i64,
    sequence: i64,
) -> Result<u64, sqlx::Error> {
    let mut after = tree_size;
    while after < sequence {
        let rows: Vec<Stored> = sqlx::query_as(&format!(
            "SELECT sequence, {COLUMNS}, prev_hash, hash FROM access_log \
             WHERE sequence > $1 AND sequence <= $2 ORDER BY sequence LIMIT $3"
        ))
        .bind(after)
        .bind(sequence)
        .bind(CATCH_UP_PAGE)
        .fetch_all(&mut *tx)
        .await?;
        let mut leaves = Vec::with_capacity(rows.len());
        for row in &rows {
            if row.sequence != after + 1 + leaves.len() as i64 {
                // A position without its row: the tree cannot be built over
                // a log that lost an entry; verification names it.
                return Err(tree_store::TreeStoreError::MissingEntry(
                    (after + 1 + leaves.len() as i64) as u64,
                )
                .into());
            }
            leaves.push(leaf_hash(canonical(row.sequence, &row.entry).bytes()));
        }
        if leaves.is_empty() {
            return Err(tree_store::TreeStoreError::MissingEntry(after as u64 + 1).into());
        }
        tree_store::append(tx, after as u64, &leaves).await?;
        after += leaves.len() as i64;
    }
    sqlx::query("UPDATE chain_head SET tree_size = $1 WHERE id")
        .bind(sequence)
        .execute(&mut *tx)
        .await?;
    Ok((sequence - tree_size) as u64)
}

/// Empties the log and its tree and resets its head, inside a rebuild's
/// transaction. The signed checkpoints stay: a rebuild replays the same
/// events into the same entries, so the tree it grows again must be
/// consistent with every checkpoint signed before, which the witness and
/// every verifier check.
pub async fn reset(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM access_log")
        .execute(&mut *tx)
        .await?;
    tree_store::reset(tx).await?;
    sqlx::query("UPDATE chain_head SET sequence = 0, tree_size = 0, hash = $1 WHERE id")
        .bind(crate::domain::chain::GENESIS.to_vec())
        .execute(&mut *tx)
        .await?;
    Ok(())
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

/// The entries at positions `[first, last]`, by position (a missing row is
/// simply absent).
pub async fn range(
    conn: &mut PgConnection,
    first: u64,
    last: u64,
) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT sequence, {COLUMNS}, prev_hash, hash FROM access_log \
         WHERE sequence >= $1 AND sequence <= $2 ORDER BY sequence"
    ))
    .bind(first as i64)
    .bind(last as i64)
    .fetch_all(conn)
    .await
}

/// The position of the entry recording `record_id`, once it is in.
pub async fn sequence_of(
    conn: &mut PgConnection,
    record_id: &str,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT sequence FROM access_log WHERE record_id = $1")
        .bind(record_id)
        .fetch_optional(conn)
        .await
}

/// Art. 7(2), 8: how many of the entries at `sequences` belong to the person
/// whose lookup tags (one per key period) are `tags`.
pub async fn count_of_subject(
    pool: &PgPool,
    sequences: &[u64],
    tags: &[Vec<u8>],
) -> Result<u64, sqlx::Error> {
    let sequences: Vec<i64> = sequences.iter().map(|s| *s as i64).collect();
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM access_log \
         WHERE sequence = ANY($1) AND subject_tag <> '' AND subject_tag = ANY($2)",
    )
    .bind(&sequences)
    .bind(tags)
    .fetch_one(pool)
    .await?;
    Ok(count as u64)
}

/// Usage entries in scope of a legal request: in `[start, end)` and of one
/// of the persons' lookup `tags` (one per person and key period) or one of
/// `pseudonyms` (`pseudonym@period`).
#[allow(clippy::too_many_arguments)]
pub async fn in_scope(
    pool: &PgPool,
    usage_kind: i32,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    tags: &[Vec<u8>],
    pseudonyms: &[String],
    after: i64,
    limit: i64,
) -> Result<Vec<Stored>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT sequence, {COLUMNS}, prev_hash, hash FROM access_log \
         WHERE kind = $1 AND occurred_at >= $2 AND occurred_at < $3 AND sequence > $4 \
           AND ((subject_tag <> '' AND subject_tag = ANY($5)) \
             OR (device_pseudonym <> '' AND device_pseudonym || '@' || pseudonym_period = ANY($6))) \
         ORDER BY sequence LIMIT $7"
    ))
    .bind(usage_kind)
    .bind(start)
    .bind(end)
    .bind(after)
    .bind(tags)
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

/// A read-only transaction that sees one commit's state throughout, so
/// what it reads (a chain, a tree and its size) belongs together.
pub async fn snapshot(pool: &PgPool) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Walks the chain over `[from, to]` (`to` 0 = the head) in one snapshot.
pub async fn verify(pool: &PgPool, from: u64, to: u64) -> Result<Verification, sqlx::Error> {
    let mut tx = snapshot(pool).await?;
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
