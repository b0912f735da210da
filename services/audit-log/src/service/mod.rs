//! The audit-log service with domain arguments, below any transport: usage
//! records sealed and appended (Art. 7(1)) and the access log read back
//! (Art. 7(2)); the legal requests of the Art. 7(2) proviso run on their
//! own streams through the pure rules of [`crate::domain::legal`]; what
//! they appended counted ([`crate::metrics`]). Every failure is an [`Error`]: a refusal of the
//! legal rules, which names Art. 7(2), or a [`ServiceError`]; both are
//! mapped to a status once, at the edge (`grpc::legal_errors`).
//!
//! - `usage`: recording the front system's usage records (Art. 7(1)),
//!   reading the access log (Art. 7(2)).
//! - `legal_requests`: filing, deciding and reading legal requests (Art.
//!   7(2) proviso).
//! - `disclosure`: disclosing the records in an authorized request's scope
//!   (Art. 7(2) proviso), every attempt on record; `opened` opens their
//!   identifiers.
//! - `transparency`: the log's checkpoints, proofs, leaves and
//!   cosignatures (tamper evidence); `verification`: checking the hash
//!   chain, itself on record.
//! - `statistics`: the k-anonymous usage statistics (Art. 7(2)).
//! - `sealing`: the public keys device identifiers are sealed to (Art.
//!   7(2)).
//! - `subjects`: the disclosures a data subject is told of (Art. 7(2), 8).

mod disclosure;
mod legal_requests;
mod opened;
mod sealing;
mod statistics;
mod subjects;
mod transparency;
mod usage;
mod verification;

use std::sync::Arc;

use chrono::Utc;
use hellowork_eventstore::{
    DomainEvent, EventMetadata, EventStore, ExecuteError, NewEvent, Repository, StreamId,
};
use hellowork_platform::{Article, Caller, ServiceError};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::{
        event::Event,
        legal::{Actor, LegalCase, LegalError, Refusal},
    },
    ingest::Ingestor,
    keys::KeyError,
    settings::AuditLogSettings,
    transparency::{LogError, TransparencyLog},
};

pub use disclosure::Disclosure;
pub use legal_requests::Page;
pub use subjects::SubjectDisclosure;
pub use usage::Recorded;

/// Who asks, and the metadata the events they cause are recorded with
/// (their correlation id, the trace context).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub caller: &'a Caller,
    pub metadata: &'a EventMetadata,
}

/// Why the service did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Art. 7(2): the legal rules refused a command on the legal request
    /// `id`; nothing was written. Who the caller is, what the request is
    /// and its terms each answer differently (`grpc::legal_errors`).
    #[error("{error}")]
    Legal { error: LegalError, id: String },
    /// Art. 7(2): a disclosure attempt on the legal request `id` refused;
    /// the refusal is on record (an event), nothing was disclosed.
    #[error("{}", .refusal.describe())]
    Refused { refusal: Refusal, id: String },
    /// Anything else: a missing request, the store, a conflict.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl Error {
    /// The article a refusal of the legal rules names: Art. 7(2).
    pub const ARTICLE: Article = Article::Art7_2;
}

/// The audit-log service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditLog {
    pool: PgPool,
    store: EventStore,
    requests: Repository<LegalCase>,
    ingestor: Ingestor,
    log: TransparencyLog,
    settings: Arc<AuditLogSettings>,
}

impl AuditLog {
    pub fn new(
        pool: PgPool,
        store: EventStore,
        ingestor: Ingestor,
        log: TransparencyLog,
        settings: Arc<AuditLogSettings>,
    ) -> Self {
        Self {
            pool,
            requests: Repository::new(store.clone()),
            store,
            ingestor,
            log,
            settings,
        }
    }
}

/// A domain event as the store takes it, occurring now.
pub(crate) fn new_event(event_id: Uuid, event: &Event, metadata: &EventMetadata) -> NewEvent {
    NewEvent {
        event_id,
        event_type: event.event_type().to_owned(),
        schema_version: event.schema_version(),
        payload: event.encode(),
        occurred_at: Utc::now(),
        metadata: metadata.clone(),
    }
}

/// A read-model query failed: UNAVAILABLE if the database is, else INTERNAL.
fn database(error: sqlx::Error) -> ServiceError {
    hellowork_eventstore::StoreError::Database(error).into()
}

/// A data key that could not be had: the database (retryable), a key
/// destroyed while it was made (a conflict: retry), or one that does not
/// unwrap (an operational fault, logged, never shown).
pub(crate) fn key_error(error: KeyError) -> ServiceError {
    match error {
        KeyError::Database(error) => database(error),
        KeyError::Destroyed => ServiceError::Conflict,
        other @ KeyError::Unwrap(_) => ServiceError::internal(other),
    }
}

/// A question the log could not answer: none signed yet, a size beyond the
/// tree (on `size_field`), a cosignature that does not fit, the database,
/// or a fault.
pub(crate) fn log_error(error: LogError, size_field: &'static str) -> ServiceError {
    match error {
        LogError::NoCheckpoint => {
            ServiceError::FailedPrecondition("the log has no checkpoint yet".to_owned())
        }
        beyond @ LogError::BeyondTree { .. } => {
            ServiceError::invalid(size_field, beyond.to_string())
        }
        LogError::Cosignature(problem) => ServiceError::invalid("signed_note", problem),
        LogError::Database(error) => database(error),
        other => ServiceError::internal(other),
    }
}

/// The caller as the legal rules see them: subject and personnel id.
pub(crate) fn actor(caller: &Caller) -> Actor {
    Actor::new(caller.subject(), caller.personnel_id())
}

/// The stream of the legal request `id` (a normalized UUID).
pub(crate) fn stream_of(id: &str) -> StreamId {
    StreamId::new(format!("legal-request-{id}")).expect("a UUID makes a valid stream id")
}

/// NOT_FOUND for the legal request `id`.
pub(crate) fn not_found(id: &str) -> ServiceError {
    ServiceError::NotFound {
        resource_type: "legal request",
        resource_name: id.to_owned(),
    }
}

/// A command on the legal request `id` that failed: refused by the rules
/// (Art. 7(2)), lost to a concurrent change (a conflict: retry), or the
/// store's fault.
pub(crate) fn executed(error: ExecuteError<LegalError>, id: &str) -> Error {
    match error {
        ExecuteError::Domain(error) => Error::Legal {
            error,
            id: id.to_owned(),
        },
        ExecuteError::Contention { .. } => ServiceError::Conflict.into(),
        ExecuteError::Append(append) => ServiceError::from(append).into(),
        ExecuteError::Store(store) => ServiceError::from(store).into(),
        decode @ ExecuteError::Decode { .. } => ServiceError::internal(decode).into(),
    }
}
