//! The thin tonic adapter of `hellowork.registration.v1.RegistrationService`:
//! which roles may call each RPC (a job seeker only on their own record),
//! the request parsed into domain values (`parse`), one call of the
//! [`Registrations`] service, and its answer converted ([`view`]); errors
//! mapped once through `ServiceError`. No rule of the terms lives here.
//!
//! A job seeker's token subject is their job seeker id: the front system
//! issues it after registration, so `require_self_or` compares the two.

mod parse;
pub mod view;

use chrono::Utc;
use hellowork_eventstore::EventMetadata;
use hellowork_platform::{
    Caller, CallingService, Role, caller, correlation_id, event_metadata, require_any,
    require_self_or, require_service_or,
};
use hellowork_proto::registration::v1::{
    self as proto, registration_service_server::RegistrationService,
};
use tonic::{Request, Response, Status};

use crate::service::{Context, Registered, Registrations};

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct RegistrationApi {
    service: Registrations,
}

impl RegistrationApi {
    pub fn new(service: Registrations) -> Self {
        Self { service }
    }
}

/// The metadata of the events a request causes.
fn metadata<T>(request: &Request<T>, caller: &Caller) -> EventMetadata {
    event_metadata(caller, correlation_id(request))
}

/// Who acts on their own record: the person, or one of `others`.
fn on_own_record<'a, T>(
    request: &'a Request<T>,
    job_seeker_id: &str,
    others: &[Role],
) -> Result<(&'a Caller, EventMetadata), Status> {
    let caller = caller(request)?;
    require_self_or(caller, job_seeker_id, others)?;
    Ok((caller, metadata(request, caller)))
}

/// Who reads a person: themself, or staff the service then checks (Art. 8).
const READERS: [Role; 2] = [Role::Counsellor, Role::Supervisor];

#[tonic::async_trait]
impl RegistrationService for RegistrationApi {
    async fn register_job_seeker(
        &self,
        request: Request<proto::RegisterJobSeekerRequest>,
    ) -> Result<Response<proto::RegisterJobSeekerResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::JobSeeker, Role::Counsellor, Role::Operator])?;
        let registration = parse::registration(request.get_ref(), Utc::now())?;
        let metadata = metadata(&request, caller);
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let response = match self.service.register(cx, registration).await? {
            Registered::IdOnly(id) => proto::RegisterJobSeekerResponse {
                job_seeker: Some(view::id_only(id)),
                created: false,
            },
            Registered::Record { history, created } => proto::RegisterJobSeekerResponse {
                job_seeker: view::job_seeker(&history),
                created,
            },
        };
        Ok(Response::new(response))
    }

    async fn complete_registration(
        &self,
        request: Request<proto::CompleteRegistrationRequest>,
    ) -> Result<Response<proto::CompleteRegistrationResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Counsellor, Role::Operator])?;
        let id = parse::job_seeker_id(&request.get_ref().job_seeker_id)?;
        let metadata = metadata(&request, caller);
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let history = self.service.complete(cx, id).await?;
        Ok(Response::new(proto::CompleteRegistrationResponse {
            job_seeker: view::job_seeker(&history),
        }))
    }

    async fn apply_for_online_services(
        &self,
        request: Request<proto::ApplyForOnlineServicesRequest>,
    ) -> Result<Response<proto::ApplyForOnlineServicesResponse>, Status> {
        let (caller, metadata) = on_own_record(
            &request,
            &request.get_ref().job_seeker_id,
            &[Role::Counsellor],
        )?;
        let application = parse::application(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let applied = self.service.apply(cx, application).await?;
        Ok(Response::new(proto::ApplyForOnlineServicesResponse {
            job_seeker: view::job_seeker(&applied.history),
            converted_to_hello_work_user: applied.converted,
        }))
    }

    async fn attest_device(
        &self,
        request: Request<proto::AttestDeviceRequest>,
    ) -> Result<Response<proto::AttestDeviceResponse>, Status> {
        let (caller, metadata) = on_own_record(
            &request,
            &request.get_ref().job_seeker_id,
            &[Role::Counsellor],
        )?;
        let device = parse::device(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let (history, id) = self.service.attest_device(cx, device).await?;
        Ok(Response::new(proto::AttestDeviceResponse {
            device_attestation: view::device(&history, id),
        }))
    }

    async fn attest_environment(
        &self,
        request: Request<proto::AttestEnvironmentRequest>,
    ) -> Result<Response<proto::AttestEnvironmentResponse>, Status> {
        let (caller, metadata) = on_own_record(
            &request,
            &request.get_ref().job_seeker_id,
            &[Role::Counsellor],
        )?;
        let now = Utc::now();
        let environment = parse::environment(request.get_ref(), now)?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let (history, id) = self
            .service
            .attest_environment(cx, environment, now)
            .await?;
        Ok(Response::new(proto::AttestEnvironmentResponse {
            environment_attestation: view::environment(&history, id),
        }))
    }

    async fn get_job_seeker(
        &self,
        request: Request<proto::GetJobSeekerRequest>,
    ) -> Result<Response<proto::GetJobSeekerResponse>, Status> {
        let (caller, _) = on_own_record(&request, &request.get_ref().job_seeker_id, &READERS)?;
        let id = parse::job_seeker_id(&request.get_ref().job_seeker_id)?;
        let history = self.service.job_seeker(caller, id).await?;
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
        let erasure = parse::erasure(request.get_ref())?;
        let metadata = metadata(&request, caller);
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let erased = self.service.erase(cx, erasure, Utc::now()).await?;
        Ok(Response::new(proto::EraseJobSeekerResponse {
            job_seeker: view::job_seeker(&erased.history),
            erased_now: erased.erased_now,
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
        let id = parse::job_seeker_id(&request.get_ref().job_seeker_id)?;
        let at = parse::instant(request.get_ref().at.as_ref(), Utc::now())?;
        let eligibility = self.service.eligibility(caller, id, at).await?;
        Ok(Response::new(view::eligibility(&eligibility)))
    }
}
