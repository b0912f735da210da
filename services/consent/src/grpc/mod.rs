//! The thin tonic adapter of `hellowork.consent.v1.ConsentService`: roles,
//! validation, event metadata, then the [`ConsentService`] commands and
//! queries; every error leaves through [`ServiceError`].

pub mod convert;
pub mod validate;

use chrono::Utc;
use hellowork_eventstore::EventMetadata;
use hellowork_platform::{
    Caller, CallingService, Role, ServiceError, caller, correlation_id, event_metadata,
    require_any, require_self_or, require_service, require_service_or,
};
use hellowork_proto::consent::v1::{self as proto, consent_service_server};
use tonic::{Request, Response, Status};

use crate::commands::ConsentService;

/// Who may read terms documents and the version in force.
const READERS: [Role; 4] = [
    Role::JobSeeker,
    Role::Counsellor,
    Role::Supervisor,
    Role::Operator,
];

/// Art. 8: who reads a person's consents besides the person. Not
/// counsellors: they read only the people they serve, which consent has no
/// record of; they see what consent means for a person they serve through
/// registration's `CheckEligibility`, which checks that they serve them.
const CONSENT_READERS: [Role; 1] = [Role::Supervisor];

/// The services that read the terms: the front system shows them (and the
/// meeting app's) to the person about to apply (Art. 4, 6).
const TERMS_READING_SERVICES: [CallingService; 1] = [CallingService::Front];

/// The gRPC face of the consent service.
#[derive(Debug, Clone)]
pub struct ConsentApi {
    service: ConsentService,
}

impl ConsentApi {
    pub fn new(service: ConsentService) -> Self {
        Self { service }
    }
}

/// The metadata of the events a request causes.
fn metadata<T>(request: &Request<T>, caller: &Caller) -> EventMetadata {
    event_metadata(caller, correlation_id(request))
}

#[tonic::async_trait]
impl consent_service_server::ConsentService for ConsentApi {
    async fn publish_terms_document(
        &self,
        request: Request<proto::PublishTermsDocumentRequest>,
    ) -> Result<Response<proto::PublishTermsDocumentResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Operator])?;
        let new = validate::publish_terms(request.get_ref(), Utc::now())?;
        let document = self
            .service
            .publish(new, &metadata(&request, caller))
            .await?;
        Ok(Response::new(proto::PublishTermsDocumentResponse {
            terms_document: Some(convert::document(&document)),
        }))
    }

    async fn publish_meeting_app_terms(
        &self,
        request: Request<proto::PublishMeetingAppTermsRequest>,
    ) -> Result<Response<proto::PublishMeetingAppTermsResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Operator])?;
        let new = validate::publish_meeting_app_terms(request.get_ref(), Utc::now())?;
        let document = self
            .service
            .publish(new, &metadata(&request, caller))
            .await?;
        Ok(Response::new(proto::PublishMeetingAppTermsResponse {
            terms_document: Some(convert::document(&document)),
        }))
    }

    async fn get_terms_document(
        &self,
        request: Request<proto::GetTermsDocumentRequest>,
    ) -> Result<Response<proto::GetTermsDocumentResponse>, Status> {
        require_service_or(
            caller(&request)?,
            "GetTermsDocument",
            &TERMS_READING_SERVICES,
            |person| require_any(person, &READERS),
        )?;
        let id = validate::terms_document_id(request.get_ref())?;
        let document = self
            .service
            .document(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                resource_type: "terms document",
                resource_name: id.to_string(),
            })?;
        Ok(Response::new(proto::GetTermsDocumentResponse {
            terms_document: Some(convert::document(&document)),
        }))
    }

    async fn get_terms_in_force(
        &self,
        request: Request<proto::GetTermsInForceRequest>,
    ) -> Result<Response<proto::GetTermsInForceResponse>, Status> {
        require_service_or(
            caller(&request)?,
            "GetTermsInForce",
            &TERMS_READING_SERVICES,
            |person| require_any(person, &READERS),
        )?;
        let (kind, language, at) = validate::terms_in_force(request.get_ref(), Utc::now())?;
        let in_force = self
            .service
            .in_force(kind, &language, at)
            .await?
            .ok_or_else(|| ServiceError::NotFound {
                resource_type: "terms in force",
                resource_name: format!("{}/{language}", kind.as_str()),
            })?;
        Ok(Response::new(proto::GetTermsInForceResponse {
            terms_document: Some(convert::document(&in_force.document)),
            in_force_since: Some(crate::domain::event::timestamp(in_force.since)),
            revision_id: in_force
                .revision_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
        }))
    }

    async fn record_consent(
        &self,
        request: Request<proto::RecordConsentRequest>,
    ) -> Result<Response<proto::RecordConsentResponse>, Status> {
        let caller = caller(&request)?;
        let message = request.get_ref();
        // Art. 6: deemed consent follows from an application, which only
        // registration takes, so only registration records it (any other
        // caller could otherwise make anyone consent, at any past instant);
        // explicit consent is the person's own act.
        if message.method() == proto::ConsentMethod::DeemedByApplication {
            require_service(caller, "RecordConsent", &[CallingService::Registration])?;
        } else {
            require_self_or(caller, &message.job_seeker_id, &[])?;
        }
        let input = validate::record_consent(message, Utc::now())?;
        let receipt = self
            .service
            .record_consent(input, &metadata(&request, caller))
            .await?;
        Ok(Response::new(proto::RecordConsentResponse {
            receipt: Some(convert::receipt(&receipt)),
        }))
    }

    async fn withdraw_consent(
        &self,
        request: Request<proto::WithdrawConsentRequest>,
    ) -> Result<Response<proto::WithdrawConsentResponse>, Status> {
        let caller = caller(&request)?;
        require_self_or(
            caller,
            &request.get_ref().job_seeker_id,
            &[Role::Counsellor],
        )?;
        let command = validate::withdraw_consent(request.get_ref(), Utc::now())?;
        let receipt = self
            .service
            .withdraw(command, &metadata(&request, caller))
            .await?;
        Ok(Response::new(proto::WithdrawConsentResponse {
            receipt: Some(convert::receipt(&receipt)),
        }))
    }

    async fn get_consent_status(
        &self,
        request: Request<proto::GetConsentStatusRequest>,
    ) -> Result<Response<proto::GetConsentStatusResponse>, Status> {
        // Scheduling asks before every booking; no other service needs to.
        require_service_or(
            caller(&request)?,
            "GetConsentStatus",
            &[CallingService::Scheduling],
            |person| require_self_or(person, &request.get_ref().job_seeker_id, &CONSENT_READERS),
        )?;
        let (job_seeker_id, at) = validate::consent_status(request.get_ref(), Utc::now())?;
        let status = self.service.status(job_seeker_id, at).await?;
        let response = convert::status(job_seeker_id, &status);
        crate::metrics::record_status(response.status());
        Ok(Response::new(response))
    }

    async fn list_consent_receipts(
        &self,
        request: Request<proto::ListConsentReceiptsRequest>,
    ) -> Result<Response<proto::ListConsentReceiptsResponse>, Status> {
        let message = request.get_ref();
        require_self_or(caller(&request)?, &message.job_seeker_id, &CONSENT_READERS)?;
        let (job_seeker_id, page) = validate::person_page(
            &message.job_seeker_id,
            message.page_size,
            &message.page_token,
        )?;
        let receipts: Vec<_> = self
            .service
            .receipts(job_seeker_id)
            .await?
            .iter()
            .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(page.size).unwrap_or(0))
            .map(convert::receipt)
            .collect();
        Ok(Response::new(proto::ListConsentReceiptsResponse {
            next_page_token: page.next_token(receipts.len()),
            receipts,
        }))
    }

    async fn announce_revision(
        &self,
        request: Request<proto::AnnounceRevisionRequest>,
    ) -> Result<Response<proto::AnnounceRevisionResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Operator])?;
        let command = validate::announce_revision(request.get_ref(), Utc::now())?;
        let revision = self
            .service
            .announce(command, &metadata(&request, caller))
            .await?;
        Ok(Response::new(proto::AnnounceRevisionResponse {
            revision: Some(convert::revision(&revision)),
        }))
    }

    async fn list_notices(
        &self,
        request: Request<proto::ListNoticesRequest>,
    ) -> Result<Response<proto::ListNoticesResponse>, Status> {
        let message = request.get_ref();
        require_self_or(caller(&request)?, &message.job_seeker_id, &[Role::Operator])?;
        let (job_seeker_id, page) = validate::person_page(
            &message.job_seeker_id,
            message.page_size,
            &message.page_token,
        )?;
        let notices: Vec<_> = self
            .service
            .notices(job_seeker_id, page.offset, page.size)
            .await?
            .iter()
            .map(convert::notice)
            .collect();
        Ok(Response::new(proto::ListNoticesResponse {
            next_page_token: page.next_token(notices.len()),
            notices,
        }))
    }
}
