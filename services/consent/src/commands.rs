//! The consent service with domain arguments, below any transport: loads the
//! aggregates, decides, appends (one append per command), counts what it
//! appended ([`crate::metrics`]), and answers the status queries. The gRPC
//! adapter and the deemed-consent consumer both call it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hellowork_eventstore::{EventMetadata, EventStore, Repository, StoreError};
use hellowork_platform::ServiceError;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::{
        DomainError,
        consent::{
            AgreedTerms, ConsentCommand, ConsentMethod, PersonConsents, Receipt, RecordConsent,
            WithdrawConsent,
        },
        status::{ConsentStatus, status_at},
        terms::{
            AnnounceRevision, NewDocument, Revision, TermsCommand, TermsDocument, TermsSeries,
        },
        values::{JobSeekerId, LanguageTag, TermsKind},
    },
    metrics,
    projections::{notices, terms_documents},
    streams,
};

/// A consent to record, before the versions in force are looked up.
#[derive(Debug, Clone)]
pub struct ConsentInput {
    pub receipt_id: Uuid,
    pub job_seeker_id: JobSeekerId,
    pub terms: AgreedTerms,
    pub meeting_app_terms: AgreedTerms,
    pub method: ConsentMethod,
    pub consented_at: DateTime<Utc>,
    pub language: LanguageTag,
}

/// The version in force at an instant, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsInForce {
    pub document: TermsDocument,
    pub since: DateTime<Utc>,
    pub revision_id: Option<Uuid>,
}

/// Commands and queries of the consent service.
#[derive(Debug, Clone)]
pub struct ConsentService {
    series: Repository<TermsSeries>,
    consents: Repository<PersonConsents>,
    pool: PgPool,
}

impl ConsentService {
    pub fn new(store: EventStore) -> Self {
        Self {
            series: Repository::new(store.clone()),
            consents: Repository::new(store.clone()),
            pool: store.pool().clone(),
        }
    }

    /// Art. 4, 13: publishes a version; a repeated request returns the
    /// version its first attempt published.
    pub async fn publish(
        &self,
        new: NewDocument,
        metadata: &EventMetadata,
    ) -> Result<TermsDocument, ServiceError> {
        if let Some(existing) = terms_documents::find(&self.pool, new.terms_document_id)
            .await
            .map_err(database)?
        {
            return Ok(existing);
        }
        let stream = streams::terms_series(new.kind, &new.language);
        let id = new.terms_document_id.to_string();
        let (events, _) = self
            .series
            .execute(&stream, &TermsCommand::Publish(new), metadata)
            .await?;
        metrics::record(&events);
        let series = self.series.load(&stream).await?.state;
        series
            .document(&id)
            .cloned()
            .ok_or_else(|| missing("published document"))
    }

    /// Art. 13: announces a revision of the terms of use.
    pub async fn announce(
        &self,
        command: AnnounceRevision,
        metadata: &EventMetadata,
    ) -> Result<Revision, ServiceError> {
        let (kind, language) = terms_documents::series_of(&self.pool, command.terms_document_id)
            .await
            .map_err(database)?
            .ok_or_else(|| {
                ServiceError::from(DomainError::UnknownDocument {
                    terms_document_id: command.terms_document_id.to_string(),
                })
            })?;
        let stream = streams::terms_series(kind, &language);
        let revision_id = command.revision_id;
        let (events, _) = self
            .series
            .execute(&stream, &TermsCommand::AnnounceRevision(command), metadata)
            .await?;
        metrics::record(&events);
        let series = self.series.load(&stream).await?.state;
        series
            .revision(revision_id)
            .cloned()
            .ok_or_else(|| missing("announced revision"))
    }

    /// Art. 2(1), 4, 6: records a consent to the versions in force at its time.
    pub async fn record_consent(
        &self,
        input: ConsentInput,
        metadata: &EventMetadata,
    ) -> Result<Receipt, ServiceError> {
        let terms = self
            .in_force(
                TermsKind::OnlineServices,
                &input.language,
                input.consented_at,
            )
            .await?;
        let meeting_app_terms = self
            .in_force(TermsKind::MeetingApp, &input.language, input.consented_at)
            .await?;
        let stream = streams::person_consents(input.job_seeker_id);
        let command = ConsentCommand::Record(Box::new(RecordConsent {
            receipt_id: input.receipt_id,
            job_seeker_id: input.job_seeker_id,
            terms: input.terms,
            meeting_app_terms: input.meeting_app_terms,
            method: input.method,
            consented_at: input.consented_at,
            language: input.language,
            terms_in_force: terms.map(|t| t.document.reference()),
            meeting_app_terms_in_force: meeting_app_terms.map(|t| t.document.reference()),
        }));
        let (events, _) = self.consents.execute(&stream, &command, metadata).await?;
        metrics::record(&events);
        self.receipt(input.job_seeker_id, input.receipt_id).await
    }

    /// Art. 2(1): withdraws the person's current consent.
    pub async fn withdraw(
        &self,
        command: WithdrawConsent,
        metadata: &EventMetadata,
    ) -> Result<Receipt, ServiceError> {
        let stream = streams::person_consents(command.job_seeker_id);
        let (job_seeker_id, receipt_id) = (command.job_seeker_id, command.receipt_id);
        let (events, _) = self
            .consents
            .execute(&stream, &ConsentCommand::Withdraw(command), metadata)
            .await?;
        metrics::record(&events);
        self.receipt(job_seeker_id, receipt_id).await
    }

    /// Art. 4, 13: the version of `kind` in `language` in force at `at`.
    pub async fn in_force(
        &self,
        kind: TermsKind,
        language: &LanguageTag,
        at: DateTime<Utc>,
    ) -> Result<Option<TermsInForce>, ServiceError> {
        let series = self
            .series
            .load(&streams::terms_series(kind, language))
            .await?
            .state;
        Ok(series.in_force_at(at).map(|in_force| TermsInForce {
            document: in_force.document.clone(),
            since: in_force.since,
            revision_id: in_force.revision.map(|r| r.revision_id),
        }))
    }

    /// A person's receipts, newest first.
    pub async fn receipts(&self, job_seeker_id: JobSeekerId) -> Result<Vec<Receipt>, ServiceError> {
        let consents = self.person(job_seeker_id).await?;
        let mut receipts = consents.receipts().to_vec();
        receipts.reverse();
        Ok(receipts)
    }

    /// Art. 2(1), 13: what binds the person at `at`.
    pub async fn status(
        &self,
        job_seeker_id: JobSeekerId,
        at: DateTime<Utc>,
    ) -> Result<ConsentStatus, ServiceError> {
        let consents = self.person(job_seeker_id).await?;
        let language = consents
            .current_at(at)
            .and_then(|r| LanguageTag::new(&r.language).ok())
            .unwrap_or_else(LanguageTag::japanese);
        let series = self
            .series
            .load(&streams::terms_series(TermsKind::OnlineServices, &language))
            .await?
            .state;
        let notified: HashMap<Uuid, DateTime<Utc>> =
            notices::notified_at(&self.pool, job_seeker_id.uuid())
                .await
                .map_err(database)?
                .into_iter()
                .collect();
        Ok(status_at(
            &consents,
            &series,
            |id| notified.get(&id).copied(),
            at,
        ))
    }

    /// Notices to the person, newest first.
    pub async fn notices(
        &self,
        job_seeker_id: JobSeekerId,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<notices::Notice>, ServiceError> {
        notices::list(&self.pool, job_seeker_id.uuid(), offset, limit)
            .await
            .map_err(database)
    }

    /// A published document by id.
    pub async fn document(&self, id: Uuid) -> Result<Option<TermsDocument>, ServiceError> {
        terms_documents::find(&self.pool, id)
            .await
            .map_err(database)
    }

    async fn person(&self, job_seeker_id: JobSeekerId) -> Result<PersonConsents, ServiceError> {
        Ok(self
            .consents
            .load(&streams::person_consents(job_seeker_id))
            .await?
            .state)
    }

    async fn receipt(
        &self,
        job_seeker_id: JobSeekerId,
        receipt_id: Uuid,
    ) -> Result<Receipt, ServiceError> {
        self.person(job_seeker_id)
            .await?
            .receipt(receipt_id)
            .cloned()
            .ok_or_else(|| missing("recorded receipt"))
    }
}

/// A read-model query failed: transient (UNAVAILABLE) or a bug (INTERNAL).
fn database(error: sqlx::Error) -> ServiceError {
    StoreError::Database(error).into()
}

/// What was just written cannot be read back: a bug.
fn missing(what: &'static str) -> ServiceError {
    ServiceError::Internal(format!("{what} not found after append").into())
}
