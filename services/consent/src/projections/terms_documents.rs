//! `consent-terms-documents`: every published terms version (Art. 4, 13),
//! for `GetTermsDocument` and for finding the series a document belongs to.

use chrono::{DateTime, NaiveDate, Utc};
use hellowork_eventstore::{Aggregate, DomainEvent, Projection, ProjectionError, RecordedEvent};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::{naive, rejected};
use crate::domain::{
    Event,
    terms::{TermsDocument, TermsSeries},
    values::{CalendarDate, LanguageTag, TermsKind},
};

/// The durable consumer's name.
pub const NAME: &str = "consent-terms-documents";

/// Projects `TermsDocumentPublished` and `MeetingAppTermsPublished`.
#[derive(Debug, Default)]
pub struct TermsDocuments;

impl Projection for TermsDocuments {
    fn name(&self) -> &str {
        NAME
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if !matches!(
            event.event_type.as_str(),
            "TermsDocumentPublished" | "MeetingAppTermsPublished"
        ) {
            return Ok(());
        }
        let decoded = Event::decode(&event.event_type, &event.payload)
            .map_err(|reason| rejected(event, reason))?;
        // The series' own fold reads the payload exactly as the aggregate does.
        let series = Aggregate::apply(TermsSeries::default(), &decoded);
        let Some(document) = series.documents().first() else {
            return Ok(());
        };
        let id = Uuid::parse_str(&document.terms_document_id).map_err(|e| rejected(event, e))?;
        sqlx::query(
            "INSERT INTO terms_documents (terms_document_id, kind, language, version, title, \
             full_text, sha256, established_date, revised_date, effective_date, published_at, \
             meeting_app_name, source_uri) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (terms_document_id) DO NOTHING",
        )
        .bind(id)
        .bind(document.kind.as_str())
        .bind(&document.language)
        .bind(&document.version)
        .bind(&document.title)
        .bind(&document.full_text)
        .bind(&document.sha256)
        .bind(naive(document.established_date))
        .bind(naive(document.revised_date))
        .bind(document.effective_date.naive())
        .bind(document.published_at)
        .bind(&document.meeting_app_name)
        .bind(&document.source_uri)
        .execute(tx)
        .await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM terms_documents")
            .execute(tx)
            .await?;
        Ok(())
    }
}

/// The published document `terms_document_id`, if projected yet.
pub async fn find(
    pool: &PgPool,
    terms_document_id: Uuid,
) -> Result<Option<TermsDocument>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT terms_document_id, kind, language, version, title, full_text, sha256, \
         established_date, revised_date, effective_date, published_at, meeting_app_name, \
         source_uri FROM terms_documents WHERE terms_document_id = $1",
    )
    .bind(terms_document_id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        let date = |column: &str| -> Result<Option<CalendarDate>, sqlx::Error> {
            Ok(row
                .try_get::<Option<NaiveDate>, _>(column)?
                .and_then(calendar_date))
        };
        let kind: String = row.try_get("kind")?;
        let effective: NaiveDate = row.try_get("effective_date")?;
        let published_at: DateTime<Utc> = row.try_get("published_at")?;
        Ok(TermsDocument {
            terms_document_id: row.try_get::<Uuid, _>("terms_document_id")?.to_string(),
            kind: TermsKind::parse(&kind)
                .ok_or_else(|| sqlx::Error::Decode(format!("unknown kind {kind}").into()))?,
            version: row.try_get("version")?,
            language: row.try_get("language")?,
            title: row.try_get("title")?,
            full_text: row.try_get("full_text")?,
            sha256: row.try_get("sha256")?,
            established_date: date("established_date")?,
            revised_date: date("revised_date")?,
            effective_date: calendar_date(effective)
                .ok_or_else(|| sqlx::Error::Decode("effective date out of range".into()))?,
            published_at,
            meeting_app_name: row.try_get("meeting_app_name")?,
            source_uri: row.try_get("source_uri")?,
        })
    })
    .transpose()
}

/// The series (kind and language) `terms_document_id` belongs to.
pub async fn series_of(
    pool: &PgPool,
    terms_document_id: Uuid,
) -> Result<Option<(TermsKind, LanguageTag)>, sqlx::Error> {
    Ok(find(pool, terms_document_id)
        .await?
        .and_then(|document| Some((document.kind, LanguageTag::new(&document.language).ok()?))))
}

/// Every series (kind and language) with a published version.
pub async fn series(pool: &PgPool) -> Result<Vec<(TermsKind, LanguageTag)>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT DISTINCT kind, language FROM terms_documents ORDER BY 1, 2")
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(kind, language)| {
            Some((TermsKind::parse(&kind)?, LanguageTag::new(&language).ok()?))
        })
        .collect())
}

pub(crate) fn calendar_date(date: NaiveDate) -> Option<CalendarDate> {
    use chrono::Datelike;
    let month = i32::try_from(date.month()).ok()?;
    let day = i32::try_from(date.day()).ok()?;
    CalendarDate::new(date.year(), month, day).ok()
}
