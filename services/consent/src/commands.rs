//! The consent service with domain arguments, below any transport: loads the
//! aggregates, decides, appends (one append per command), counts what it
//! appended ([`crate::metrics`]), and answers the status queries. The gRPC
//! adapter and the deemed-consent consumer both call it.
//!
//! The terms series and each person's consents are kept in memory: every
//! status call reads both, and a status call is on the path of every
//! booking. A kept stream is read from memory while the store's commit
//! follower has seen nothing newer of it (every command of this process is
//! in it once committed; another replica's within the follower's lag).

use chrono::{DateTime, Utc};
use hellowork_eventstore::{
    Applied, CachedRepository, CommitFollower, EventMetadata, EventStore, FollowConfig, StoreError,
};
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
        status::{ConsentStatus, revision_binding, status_at},
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

/// The memory the terms series may take: a handful of streams, each every
/// published text of one kind and language.
const SERIES_KEPT: u64 = 32 << 20;
/// The memory persons' consents may take: about 200,000 people's receipts.
const CONSENTS_KEPT: u64 = 256 << 20;

/// Commands and queries of the consent service.
#[derive(Debug, Clone)]
pub struct ConsentService {
    series: CachedRepository<Applied<TermsSeries>>,
    consents: CachedRepository<Applied<PersonConsents>>,
    pool: PgPool,
}

impl ConsentService {
    /// Must be called inside a Tokio runtime: the commit follower starts.
    pub fn new(store: EventStore) -> Self {
        let follower = CommitFollower::start(&store, FollowConfig::default());
        Self {
            series: CachedRepository::new(store.clone(), SERIES_KEPT).followed(follower.clone()),
            consents: CachedRepository::new(store.clone(), CONSENTS_KEPT).followed(follower),
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
        let (events, series) = self
            .series
            .decide(&stream, &TermsCommand::Publish(new), metadata)
            .await?;
        metrics::record(&events);
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
        let (events, series) = self
            .series
            .decide(&stream, &TermsCommand::AnnounceRevision(command), metadata)
            .await?;
        metrics::record(&events);
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
        let (events, consents) = self.consents.decide(&stream, &command, metadata).await?;
        metrics::record(&events);
        receipt(&consents, input.receipt_id)
    }

    /// Art. 2(1): withdraws the person's current consent.
    pub async fn withdraw(
        &self,
        command: WithdrawConsent,
        metadata: &EventMetadata,
    ) -> Result<Receipt, ServiceError> {
        let stream = streams::person_consents(command.job_seeker_id);
        let receipt_id = command.receipt_id;
        let (events, consents) = self
            .consents
            .decide(&stream, &ConsentCommand::Withdraw(command), metadata)
            .await?;
        metrics::record(&events);
        receipt(&consents, receipt_id)
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
            .read_followed(&streams::terms_series(kind, language))
            .await?
            .0;
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

    /// Art. 2(1), 13: what binds the person at `at`. The notice of a
    /// revision is looked up only when a revision binds the person.
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
            .read_followed(&streams::terms_series(TermsKind::OnlineServices, &language))
            .await?
            .0;
        let notified = match revision_binding(&consents, &series, at) {
            Some(revision_id) => {
                notices::notified_at(&self.pool, job_seeker_id.uuid(), revision_id)
                    .await
                    .map_err(database)?
            }
            None => None,
        };
        Ok(status_at(&consents, &series, |_| notified, at))
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
            .read_followed(&streams::person_consents(job_seeker_id))
            .await?
            .0)
    }
}

/// The receipt a command just recorded or withdrew.
fn receipt(consents: &PersonConsents, receipt_id: Uuid) -> Result<Receipt, ServiceError> {
    consents
        .receipt(receipt_id)
        .cloned()
        .ok_or_else(|| missing("recorded receipt"))
}

/// A read-model query failed: transient (UNAVAILABLE) or a bug (INTERNAL).
fn database(error: sqlx::Error) -> ServiceError {
    StoreError::Database(error).into()
}

/// What was just written cannot be read back: a bug.
fn missing(what: &'static str) -> ServiceError {
    ServiceError::Internal(format!("{what} not found after append").into())
}
