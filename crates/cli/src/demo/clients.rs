//! The four services as the demo calls them: where they are (the
//! `HELLOWORK_<SERVICE>_URL` variables the services use for each other) and
//! a development token for whoever is acting.

use std::time::Duration;

use hellowork_auth::Role;
use hellowork_platform::{PlatformConfig, Service};
use hellowork_proto::{
    auditlog::v1::audit_log_service_client::AuditLogServiceClient,
    consent::v1::consent_service_client::ConsentServiceClient,
    registration::v1::registration_service_client::RegistrationServiceClient,
    scheduling::v1::scheduling_service_client::SchedulingServiceClient,
};
use tonic::transport::{Channel, Endpoint};

use crate::{rpc, token::DevMinter};

/// How long each demo token is valid: the whole run, with a margin.
const TOKEN_TTL: Duration = Duration::from_secs(30 * 60);

/// Connected clients and the key to speak for anyone.
#[derive(Debug, Clone)]
pub struct Clients {
    pub registration: RegistrationServiceClient<Channel>,
    pub consent: ConsentServiceClient<Channel>,
    pub scheduling: SchedulingServiceClient<Channel>,
    pub audit_log: AuditLogServiceClient<Channel>,
    minter: std::sync::Arc<DevMinter>,
}

impl Clients {
    pub async fn connect() -> Result<Self, String> {
        let config = PlatformConfig::from_vars(Service::Registration, crate::environment::vars())
            .map_err(|e| e.to_string())?;
        let minter = std::sync::Arc::new(DevMinter::from_env()?);
        Ok(Self {
            registration: RegistrationServiceClient::new(
                channel(&config, Service::Registration).await?,
            ),
            consent: ConsentServiceClient::new(channel(&config, Service::Consent).await?),
            scheduling: SchedulingServiceClient::new(channel(&config, Service::Scheduling).await?),
            audit_log: AuditLogServiceClient::new(channel(&config, Service::AuditLog).await?),
            minter,
        })
    }

    /// `message` sent by `subject` acting as `role`.
    pub fn request<T>(
        &self,
        message: T,
        subject: &str,
        role: Role,
    ) -> Result<tonic::Request<T>, String> {
        self.staff_request(message, subject, role, None)
    }

    /// `message` sent by `subject` acting as `role`, with the personnel id
    /// of the member of staff behind the subject (Art. 7(2): legal
    /// requests tell people apart by it).
    pub fn staff_request<T>(
        &self,
        message: T,
        subject: &str,
        role: Role,
        personnel_id: Option<&str>,
    ) -> Result<tonic::Request<T>, String> {
        let token = self
            .minter
            .mint_as(subject, vec![role], TOKEN_TTL, personnel_id)?;
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", rpc::bearer(Some(&token), role)?);
        Ok(request)
    }
}

async fn channel(config: &PlatformConfig, service: Service) -> Result<Channel, String> {
    let url = config.endpoint_of(service);
    Endpoint::from_shared(url.to_owned())
        .map_err(|e| {
            format!(
                "HELLOWORK_{}_URL {url:?}: {e}",
                service.name().to_uppercase()
            )
        })?
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(20))
        .connect()
        .await
        .map_err(|e| {
            format!(
                "cannot reach the {} service at {url} ({e}); is `hellowork up` running?",
                service.name()
            )
        })
}
