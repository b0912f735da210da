//! Art. 13 notices: when a revision is announced, every registered user gets
//! a notice of the change, the new text and its effective date; users who
//! register after the announcement but before the effective date get one
//! on registering.
//!
//! Two consumers feed the same tables — `consent-revision-notices` (this
//! service's `TermsRevisionAnnounced`) and `consent-registered-users`
//! (registration's `JobSeekerRegistered`) — and both apply one rule, so the
//! result does not depend on which event arrives first: a user registered
//! at `r` is notified of a revision announced at `a`, effective at `e`, iff
//! `r < e`, at `max(a, r)`. A shared transaction-level advisory lock keeps
//! the two from missing each other's uncommitted rows.

use chrono::{DateTime, NaiveDate, Utc};
use hellowork_eventstore::{DomainEvent, Projection, ProjectionError, RecordedEvent};
use hellowork_proto::{consent::v1 as proto, registration::v1::JobSeekerRegistered};
use prost::Message;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::rejected;
use crate::domain::{
    Event,
    event::{date_of, instant},
    values::CalendarDate,
};

/// The consumer of this service's revisions.
pub const REVISIONS: &str = "consent-revision-notices";
/// The consumer of registration's `JobSeekerRegistered`.
pub const REGISTRATIONS: &str = "consent-registered-users";

/// Serializes the two notice writers (see the module doc).
async fn lock_notices(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('hellowork.consent.notices', 0))")
        .execute(tx)
        .await?;
    Ok(())
}

/// The notice rule, for one revision or one user (`$1`).
const NOTIFY: &str = "INSERT INTO notices (notice_id, job_seeker_id, revision_id, notified_at) \
     SELECT md5(r.revision_id::text || '/' || u.job_seeker_id::text)::uuid, u.job_seeker_id, \
            r.revision_id, GREATEST(r.announced_at, u.registered_at) \
     FROM announced_revisions r JOIN registered_job_seekers u ON u.registered_at < r.effective_at \
     WHERE ";

/// Projects `TermsRevisionAnnounced` into revisions and notices.
#[derive(Debug, Default)]
pub struct RevisionNotices;

impl Projection for RevisionNotices {
    fn name(&self) -> &str {
        REVISIONS
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if event.event_type != "TermsRevisionAnnounced" {
            return Ok(());
        }
        let Event::TermsRevisionAnnounced(revision) =
            Event::decode(&event.event_type, &event.payload)
                .map_err(|reason| rejected(event, reason))?
        else {
            return Ok(());
        };
        let revision_id = Uuid::parse_str(&revision.revision_id).map_err(|e| rejected(event, e))?;
        let new_terms = revision.new_terms.clone().unwrap_or_default();
        let new_id =
            Uuid::parse_str(&new_terms.terms_document_id).map_err(|e| rejected(event, e))?;
        let effective_date = date_of(revision.effective_date.as_ref())
            .ok_or_else(|| rejected(event, "no effective date"))?;
        lock_notices(tx).await?;
        sqlx::query(
            "INSERT INTO announced_revisions (revision_id, new_terms_document_id, new_version, \
             new_sha256, ground, change_summary, effective_date, effective_at, announced_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
        )
        .bind(revision_id)
        .bind(new_id)
        .bind(&new_terms.version)
        .bind(&new_terms.sha256)
        .bind(revision.ground)
        .bind(&revision.change_summary)
        .bind(effective_date.naive())
        .bind(instant(revision.effective_at.as_ref()))
        .bind(instant(revision.announced_at.as_ref()))
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "{NOTIFY} r.revision_id = $1 ON CONFLICT DO NOTHING"
        ))
        .bind(revision_id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM notices").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM announced_revisions")
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// Projects registration's `JobSeekerRegistered`: keeps only the id and the
/// time (Art. 8), and notifies the new user of revisions not yet in effect.
#[derive(Debug, Default)]
pub struct RegisteredUsers;

impl Projection for RegisteredUsers {
    fn name(&self) -> &str {
        REGISTRATIONS
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if event.event_type != "JobSeekerRegistered" {
            return Ok(());
        }
        let registered = JobSeekerRegistered::decode(event.payload.as_slice())
            .map_err(|e| rejected(event, e))?;
        let job_seeker_id =
            Uuid::parse_str(&registered.job_seeker_id).map_err(|e| rejected(event, e))?;
        lock_notices(tx).await?;
        sqlx::query(
            "INSERT INTO registered_job_seekers (job_seeker_id, registered_at) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(job_seeker_id)
        .bind(event.occurred_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "{NOTIFY} u.job_seeker_id = $1 ON CONFLICT DO NOTHING"
        ))
        .bind(job_seeker_id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM notices").execute(&mut *tx).await?;
        sqlx::query("DELETE FROM registered_job_seekers")
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// One notice as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub notice_id: Uuid,
    pub job_seeker_id: Uuid,
    pub revision_id: Uuid,
    pub new_terms: proto::TermsReference,
    pub ground: i32,
    pub change_summary: String,
    pub effective_date: CalendarDate,
    pub notified_at: DateTime<Utc>,
}

/// A person's notices, newest first: `limit` of them after `offset`.
pub async fn list(
    pool: &PgPool,
    job_seeker_id: Uuid,
    offset: i64,
    limit: i64,
) -> Result<Vec<Notice>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT n.notice_id, n.job_seeker_id, n.revision_id, n.notified_at, \
                r.new_terms_document_id, r.new_version, r.new_sha256, r.ground, \
                r.change_summary, r.effective_date \
         FROM notices n JOIN announced_revisions r USING (revision_id) \
         WHERE n.job_seeker_id = $1 \
         ORDER BY n.notified_at DESC, n.notice_id DESC OFFSET $2 LIMIT $3",
    )
    .bind(job_seeker_id)
    .bind(offset)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let effective: NaiveDate = row.try_get("effective_date")?;
            Ok(Notice {
                notice_id: row.try_get("notice_id")?,
                job_seeker_id: row.try_get("job_seeker_id")?,
                revision_id: row.try_get("revision_id")?,
                new_terms: proto::TermsReference {
                    terms_document_id: row.try_get::<Uuid, _>("new_terms_document_id")?.to_string(),
                    version: row.try_get("new_version")?,
                    sha256: row.try_get("new_sha256")?,
                },
                ground: row.try_get("ground")?,
                change_summary: row.try_get("change_summary")?,
                effective_date: super::terms_documents::calendar_date(effective)
                    .ok_or_else(|| sqlx::Error::Decode("effective date out of range".into()))?,
                notified_at: row.try_get("notified_at")?,
            })
        })
        .collect()
}

/// When `job_seeker_id` was notified of `revision_id` (one notice each).
pub async fn notified_at(
    pool: &PgPool,
    job_seeker_id: Uuid,
    revision_id: Uuid,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT notified_at FROM notices WHERE job_seeker_id = $1 AND revision_id = $2",
    )
    .bind(job_seeker_id)
    .bind(revision_id)
    .fetch_optional(pool)
    .await
}
