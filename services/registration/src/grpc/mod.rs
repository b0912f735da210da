//! The thin tonic adapter of `hellowork.registration.v1.RegistrationService`:
//! who may call (roles per RPC, a job seeker only on their own record),
//! request parsing, one command per call through the repository, and errors
//! mapped once through `ServiceError`. No rule of the terms lives here.
//!
//! A job seeker's token subject is their job seeker id: the front system
//! issues it after registration, so `require_self_or` compares the two.
//!
//! Streams are read and written through `crate::sealed`, which seals and
//! opens the personal data with the person's data key (Art. 8).

pub mod history;
mod parse;
mod readers;
mod register;
pub mod view;

use std::sync::Arc;

use chrono::Utc;
use hellowork_eventstore::{EventMetadata, StoreError};
use hellowork_platform::{
    Caller, CallingService, Role, ServiceError, caller, correlation_id, event_metadata,
    require_any, require_self_or, require_service_or,
};
use hellowork_proto::registration::v1::{
    self as proto, registration_service_server::RegistrationService,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{
        self, ApplyForOnlineServices, AttestDevice, AttestEnvironment, Channel, Command,
        EraseJobSeeker, Event, JobSeekerId,
    },
    metrics,
    projections::{consents_of, refusals_of},
    sealed::SealedRepository,
    settings::RegistrationSettings,
};

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct RegistrationApi {
    repository: SealedRepository,
    pool: PgPool,
    settings: Arc<RegistrationSettings>,
}

impl RegistrationApi {
    pub fn new(repository: SealedRepository, pool: PgPool, settings: RegistrationSettings) -> Self {
        Self {
            repository,
            pool,
            settings: Arc::new(settings),
        }
    }

    /// Decides and appends one command: all of its events or none.
    async fn execute(
        &self,
        metadata: &EventMetadata,
        id: JobSeekerId,
        command: &Command,
    ) -> Result<Vec<Event>, ServiceError> {
        let events = self.repository.execute(id, command, metadata).await?;
        metrics::record(&events);
        Ok(events)
    }

    async fn registered(&self, id: JobSeekerId) -> Result<history::History, ServiceError> {
        let opened = self.repository.open(id).await?;
        let history = history::History::of(opened.events.iter().map(|(r, e)| (r, e)));
        if history.state.registration().is_none() {
            return Err(domain::DomainError::NotRegistered(id).into());
        }
        Ok(history)
    }
}

/// An id derived from the job seeker and the client's request id: the same
/// request repeated names the same application or attestation.
fn derived(id: JobSeekerId, kind: &str, request_id: Uuid) -> Uuid {
    Uuid::new_v5(&id.uuid(), format!("{kind}:{request_id}").as_bytes())
}

fn missing(what: &'static str, id: impl ToString) -> ServiceError {
    ServiceError::NotFound {
        resource_type: what,
        resource_name: id.to_string(),
    }
}

#[tonic::async_trait]
impl RegistrationService for RegistrationApi {
    async fn register_job_seeker(
        &self,
        request: Request<proto::RegisterJobSeekerRequest>,
    ) -> Result<Response<proto::RegisterJobSeekerResponse>, Status> {
        Ok(Response::new(self.register(&request).await?))
    }

    async fn complete_registration(
        &self,
        request: Request<proto::CompleteRegistrationRequest>,
    ) -> Result<Response<proto::CompleteRegistrationResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Counsellor, Role::Operator])?;
        let id = parse::job_seeker_id(&request.get_ref().job_seeker_id)?;
        self.execute(
            &metadata(&request, caller),
            id,
            &Command::CompleteRegistration { job_seeker_id: id },
        )
        .await?;
        let history = self.registered(id).await?;
        Ok(Response::new(proto::CompleteRegistrationResponse {
            job_seeker: view::job_seeker(&history),
        }))
    }

    async fn apply_for_online_services(
        &self,
        request: Request<proto::ApplyForOnlineServicesRequest>,
    ) -> Result<Response<proto::ApplyForOnlineServicesResponse>, Status> {
        let caller = caller(&request)?;
        require_self_or(
            caller,
            &request.get_ref().job_seeker_id,
            &[Role::Counsellor],
        )?;
        let (request_id, id, terms) = parse::application(request.get_ref())?;
        let application_id = derived(id, "application", request_id);
        let command = Command::Apply(ApplyForOnlineServices {
            job_seeker_id: id,
            application_id,
            terms,
        });
        self.execute(&metadata(&request, caller), id, &command)
            .await?;
        let history = self.registered(id).await?;
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
                .is_some_and(|a| a.application_id == application_id.to_string());
        Ok(Response::new(proto::ApplyForOnlineServicesResponse {
            job_seeker: view::job_seeker(&history),
            converted_to_hello_work_user: converted,
        }))
    }

    async fn attest_device(
        &self,
        request: Request<proto::AttestDeviceRequest>,
    ) -> Result<Response<proto::AttestDeviceResponse>, Status> {
        let caller = caller(&request)?;
        require_self_or(
            caller,
            &request.get_ref().job_seeker_id,
            &[Role::Counsellor],
        )?;
        let (request_id, id, capability) = parse::device(request.get_ref())?;
        let device_attestation_id = derived(id, "device", request_id);
        let command = Command::AttestDevice(AttestDevice {
            job_seeker_id: id,
            device_attestation_id,
            capability,
        });
        self.execute(&metadata(&request, caller), id, &command)
            .await?;
        let history = self.registered(id).await?;
        let attestation = view::device(&history, device_attestation_id)
            .ok_or_else(|| missing("device attestation", device_attestation_id))?;
        Ok(Response::new(proto::AttestDeviceResponse {
            device_attestation: Some(attestation),
        }))
    }

    async fn attest_environment(
        &self,
        request: Request<proto::AttestEnvironmentRequest>,
    ) -> Result<Response<proto::AttestEnvironmentResponse>, Status> {
        let caller = caller(&request)?;
        require_self_or(
            caller,
            &request.get_ref().job_seeker_id,
            &[Role::Counsellor],
        )?;
        let now = Utc::now();
        let (request_id, id, device_attestation_id, report) =
            parse::environment(request.get_ref(), now)?;
        let environment_attestation_id = derived(id, "environment", request_id);
        let command = Command::AttestEnvironment(AttestEnvironment {
            job_seeker_id: id,
            environment_attestation_id,
            device_attestation_id,
            report,
            at: now,
            policy: self.settings.environment_policy.clone(),
        });
        self.execute(&metadata(&request, caller), id, &command)
            .await?;
        let history = self.registered(id).await?;
        let attestation = view::environment(&history, environment_attestation_id)
            .ok_or_else(|| missing("environment attestation", environment_attestation_id))?;
        Ok(Response::new(proto::AttestEnvironmentResponse {
            environment_attestation: Some(attestation),
        }))
    }

    async fn get_job_seeker(
        &self,
        request: Request<proto::GetJobSeekerRequest>,
    ) -> Result<Response<proto::GetJobSeekerResponse>, Status> {
        let caller = caller(&request)?;
        self.require_reader(caller, &request.get_ref().job_seeker_id)
            .await?;
        let id = parse::job_seeker_id(&request.get_ref().job_seeker_id)?;
        let history = self.registered(id).await?;
        Ok(Response::new(proto::GetJobSeekerResponse {
            job_seeker: view::job_seeker(&history),
        }))
    }

    async fn erase_job_seeker(
        &self,
        request: Request<proto::EraseJobSeekerRequest>,
    ) -> Result<Response<proto::EraseJobSeekerResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Supervisor])?;
        let (id, reason, reference) = parse::erasure(request.get_ref())?;
        let command = Command::Erase(EraseJobSeeker {
            job_seeker_id: id,
            reason,
            reference,
            at: Utc::now(),
        });
        let events = self
            .execute(&metadata(&request, caller), id, &command)
            .await?;
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
        let history = self.registered(id).await?;
        Ok(Response::new(proto::EraseJobSeekerResponse {
            job_seeker: view::job_seeker(&history),
            erased_now: !events.is_empty(),
        }))
    }

    async fn check_eligibility(
        &self,
        request: Request<proto::CheckEligibilityRequest>,
    ) -> Result<Response<proto::CheckEligibilityResponse>, Status> {
        let caller = caller(&request)?;
        // Scheduling asks before every booking; no other service needs to.
        require_service_or(
            caller,
            "CheckEligibility",
            &[CallingService::Scheduling],
            |person| {
                require_self_or(
                    person,
                    &request.get_ref().job_seeker_id,
                    &[Role::Counsellor],
                )
            },
        )?;
        if caller.service().is_none() {
            self.require_reader(caller, &request.get_ref().job_seeker_id)
                .await?;
        }
        let id = parse::job_seeker_id(&request.get_ref().job_seeker_id)?;
        let at = parse::instant(request.get_ref().at.as_ref(), Utc::now())?;
        let history = self.registered(id).await?;
        let key = id.to_string();
        let consents = consents_of(&self.pool, &key).await.map_err(database)?;
        let refusals = refusals_of(&self.pool, &key).await.map_err(database)?;
        let unmet = domain::eligibility(&history.state, &consents, &refusals, at);
        metrics::record_eligibility(&unmet);
        Ok(Response::new(proto::CheckEligibilityResponse {
            job_seeker_id: key,
            eligible: unmet.is_empty(),
            unmet_conditions: unmet,
            evaluated_at: Some(prost_types::Timestamp {
                seconds: at.timestamp(),
                nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or_default(),
            }),
        }))
    }
}

/// A read-model query failed: UNAVAILABLE if the database is, else INTERNAL.
fn database(error: sqlx::Error) -> ServiceError {
    StoreError::Database(error).into()
}

/// The metadata of the events a request causes.
fn metadata<T>(request: &Request<T>, caller: &Caller) -> EventMetadata {
    event_metadata(caller, correlation_id(request))
}
