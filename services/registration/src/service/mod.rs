//! The registration service with domain arguments, below any transport: who
//! registers (Art. 8), who may read whom, one command per person's stream
//! through the sealed repository (Art. 8), what it appended counted
//! ([`crate::metrics`]), and the eligibility answer (Art. 2, 5, 6, 12).
//! Every failure is a [`ServiceError`], mapped to a status once, at the
//! edge.
//!
//! - `requests`: what it is asked, parsed;
//! - `history`: a person's aggregate with when and by whom each fact
//!   happened;
//! - `access`: who may read a person;
//! - `register`: registering, and what the answer may show (Art. 8).

mod access;
mod history;
mod register;
mod requests;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hellowork_eventstore::{CommitFollower, EventMetadata, FollowConfig, StoreError};
use hellowork_platform::{Caller, ServiceError};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{
    domain::{
        self, ApplyForOnlineServices, AttestDevice, AttestEnvironment, Channel, Command,
        DomainError, EraseJobSeeker, Event, JobSeekerId, UnmetCondition,
    },
    metrics,
    projections::{PeerRecords, peer_records},
    sealed::{SealedRepository, facts::KeptFacts, repository::stream_of},
    settings::RegistrationSettings,
};

pub use history::History;
pub use register::Registered;
pub use requests::{
    DeviceReport, EnvironmentAttestationRequest, ErasureRequest, NewApplication, NewRegistration,
};

/// Who asks, and the metadata the events they cause are recorded with
/// (their correlation id, the trace context).
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub caller: &'a Caller,
    pub metadata: &'a EventMetadata,
}

/// A person after an application (Art. 2(1), 6).
#[derive(Debug)]
pub struct Applied {
    pub history: History,
    /// Art. 2(2): this application (the first of an online registrant)
    /// converted them into a Hello Work user registrant.
    pub converted: bool,
}

/// A person after an erasure (Art. 8).
#[derive(Debug)]
pub struct Erased {
    pub history: History,
    /// Whether this request erased them (not a repetition).
    pub erased_now: bool,
}

/// Art. 2, 5, 6, 12: the conditions unmet at an instant; eligible exactly
/// when there are none.
#[derive(Debug)]
pub struct Eligibility {
    pub job_seeker_id: JobSeekerId,
    pub unmet: Vec<UnmetCondition>,
    pub at: DateTime<Utc>,
}

/// The registration service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Registrations {
    repository: SealedRepository,
    /// People's records for eligibility, personal data unopened.
    facts: KeptFacts,
    pool: PgPool,
    settings: Arc<RegistrationSettings>,
}

/// An id derived from the job seeker and the client's request id: the same
/// request repeated names the same application or attestation.
fn derived(id: JobSeekerId, kind: &str, request_id: Uuid) -> Uuid {
    Uuid::new_v5(&id.uuid(), format!("{kind}:{request_id}").as_bytes())
}

/// `history` and the id of the attestation it holds; NOT_FOUND if it does
/// not (`found`).
fn holding(
    history: History,
    found: bool,
    what: &'static str,
    id: Uuid,
) -> Result<(History, Uuid), ServiceError> {
    if !found {
        return Err(ServiceError::NotFound {
            resource_type: what,
            resource_name: id.to_string(),
        });
    }
    Ok((history, id))
}

/// A read-model query failed: UNAVAILABLE if the database is, else INTERNAL.
fn database(error: sqlx::Error) -> ServiceError {
    StoreError::Database(error).into()
}

/// The memory people's records for eligibility may take: about 100,000
/// people's facts.
const FACTS_KEPT: u64 = 128 << 20;

impl Registrations {
    /// Must be called inside a Tokio runtime: the commit follower starts.
    pub fn new(repository: SealedRepository, pool: PgPool, settings: RegistrationSettings) -> Self {
        let store = repository.store();
        let follower = CommitFollower::start(store, FollowConfig::default());
        Self {
            facts: KeptFacts::new(store.clone(), FACTS_KEPT).followed(follower),
            repository,
            pool,
            settings: Arc::new(settings),
        }
    }

    /// Art. 2(2): the office completes a provisional registration.
    pub async fn complete(
        &self,
        cx: Context<'_>,
        id: JobSeekerId,
    ) -> Result<History, ServiceError> {
        let command = Command::CompleteRegistration { job_seeker_id: id };
        self.decided(cx, id, &command).await
    }

    /// Art. 2(1), 2(2), 6: applies for online services; a repeated request
    /// answers as its first attempt did.
    pub async fn apply(
        &self,
        cx: Context<'_>,
        application: NewApplication,
    ) -> Result<Applied, ServiceError> {
        let id = application.job_seeker_id;
        let application_id = derived(id, "application", application.request_id);
        let command = Command::Apply(ApplyForOnlineServices {
            job_seeker_id: id,
            application_id,
            terms: application.terms,
        });
        let history = self.decided(cx, id, &command).await?;
        // Art. 2(2): the first application of an online registrant converted
        // them (the same answer when the request is repeated).
        let converted = history
            .state
            .registration()
            .is_some_and(|r| r.channel == Channel::Online)
            && history
                .state
                .applications()
                .first()
                .is_some_and(|a| a.application_id == application_id);
        Ok(Applied { history, converted })
    }

    /// Art. 2(3): records a device; the answer holds the attestation whose
    /// id it returns.
    pub async fn attest_device(
        &self,
        cx: Context<'_>,
        device: DeviceReport,
    ) -> Result<(History, Uuid), ServiceError> {
        let id = device.job_seeker_id;
        let device_attestation_id = derived(id, "device", device.request_id);
        let command = Command::AttestDevice(AttestDevice {
            job_seeker_id: id,
            device_attestation_id,
            capability: device.capability,
        });
        let history = self.decided(cx, id, &command).await?;
        let found = history.state.device(device_attestation_id).is_some();
        holding(history, found, "device attestation", device_attestation_id)
    }

    /// Art. 5, 12(4): evaluates and records an environment at `at` under the
    /// office's policy; the answer holds the attestation whose id it
    /// returns.
    pub async fn attest_environment(
        &self,
        cx: Context<'_>,
        environment: EnvironmentAttestationRequest,
        at: DateTime<Utc>,
    ) -> Result<(History, Uuid), ServiceError> {
        let id = environment.job_seeker_id;
        let environment_attestation_id = derived(id, "environment", environment.request_id);
        let command = Command::AttestEnvironment(AttestEnvironment {
            job_seeker_id: id,
            environment_attestation_id,
            device_attestation_id: environment.device_attestation_id,
            report: environment.report,
            at,
            policy: self.settings.environment_policy.clone(),
        });
        let history = self.decided(cx, id, &command).await?;
        let found = history
            .state
            .environment(environment_attestation_id)
            .is_some();
        holding(
            history,
            found,
            "environment attestation",
            environment_attestation_id,
        )
    }

    /// Art. 8: a person's registration, for a caller who may read it.
    pub async fn job_seeker(
        &self,
        caller: &Caller,
        id: JobSeekerId,
    ) -> Result<History, ServiceError> {
        self.require_reader(caller, id).await?;
        self.registered(id).await
    }

    /// Art. 8: records the erasure at `at`, then destroys the person's data
    /// key.
    pub async fn erase(
        &self,
        cx: Context<'_>,
        erasure: ErasureRequest,
        at: DateTime<Utc>,
    ) -> Result<Erased, ServiceError> {
        let id = erasure.job_seeker_id;
        let command = Command::Erase(EraseJobSeeker {
            job_seeker_id: id,
            reason: erasure.reason,
            reference: erasure.reference,
            at,
        });
        let events = self.execute(cx, id, &command).await?;
        // Art. 8: the key goes right after the event, not in its
        // transaction: the kernel's group-commit writer appends in one
        // statement on a pool of its own and lends no transaction to join.
        // Not before it either: a crash in between would leave a person
        // unreadable with no erasure recorded. The person reads as erased
        // from the moment the event is stored; the deletion is idempotent,
        // repeated by a retried request (which appends nothing) and by the
        // start-up sweep (`PersonalKeys::destroy_erased`).
        self.repository
            .keys()
            .destroy(id)
            .await
            .map_err(ServiceError::from)?;
        Ok(Erased {
            history: self.registered(id).await?,
            erased_now: !events.is_empty(),
        })
    }

    /// Art. 2, 5, 6, 12: whether the person may use online services at
    /// `at`, every unmet condition with its article. A person (not a peer
    /// service) asking must be allowed to read them (Art. 8).
    pub async fn eligibility(
        &self,
        caller: &Caller,
        id: JobSeekerId,
        at: DateTime<Utc>,
    ) -> Result<Eligibility, ServiceError> {
        if caller.service().is_none() {
            self.require_reader(caller, id).await?;
        }
        let facts = self.facts.read_followed(&stream_of(id)?).await?.0;
        if facts.registration().is_none() {
            return Err(DomainError::NotRegistered(id).into());
        }
        let PeerRecords { consents, refusals } = peer_records(&self.pool, &id.to_string())
            .await
            .map_err(database)?;
        let unmet = domain::eligibility(&facts, &consents, &refusals, at);
        metrics::record_eligibility(&unmet);
        Ok(Eligibility {
            job_seeker_id: id,
            unmet,
            at,
        })
    }

    /// Decides and appends one command: all of its events or none; counts
    /// what was appended.
    async fn execute(
        &self,
        cx: Context<'_>,
        id: JobSeekerId,
        command: &Command,
    ) -> Result<Vec<Event>, ServiceError> {
        let events = self.repository.execute(id, command, cx.metadata).await?;
        metrics::record(&events);
        if !events.is_empty() {
            // What the caller changed is in their next eligibility answer,
            // not only once the commit follower reaches it. The command
            // stands if this read fails; the follower then catches up.
            if let Err(error) = self.facts.read(&stream_of(id)?).await {
                tracing::warn!(%error, "kept facts not refreshed after a command");
            }
        }
        Ok(events)
    }

    /// Runs `command`, then the person as they are afterwards.
    async fn decided(
        &self,
        cx: Context<'_>,
        id: JobSeekerId,
        command: &Command,
    ) -> Result<History, ServiceError> {
        self.execute(cx, id, command).await?;
        self.registered(id).await
    }

    /// The person's stream folded, registered or not.
    async fn history(&self, id: JobSeekerId) -> Result<History, ServiceError> {
        let opened = self.repository.open(id).await?;
        Ok(History::of(id, opened.events.iter().map(|(r, e)| (r, e))))
    }

    /// The person's stream folded; NOT_FOUND unless they are registered.
    async fn registered(&self, id: JobSeekerId) -> Result<History, ServiceError> {
        let history = self.history(id).await?;
        if history.state.registration().is_none() {
            return Err(DomainError::NotRegistered(id).into());
        }
        Ok(history)
    }
}
