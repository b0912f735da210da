//! The four services as the demo calls them: where they are (the
//! `HELLOWORK_<SERVICE>_URL` variables the services use for each other) and
//! a development token for whoever is acting.

use std::{path::Path, sync::Arc, time::Duration};

use hellowork_auth::Role;
use hellowork_journey::{JourneyClient, Mint};
use hellowork_platform::{PlatformConfig, Service};
use hellowork_proto::{
    auditlog::v1::audit_log_service_client::AuditLogServiceClient,
    consent::v1::consent_service_client::ConsentServiceClient,
    registration::v1::registration_service_client::RegistrationServiceClient,
    scheduling::v1::scheduling_service_client::SchedulingServiceClient,
};
use tonic::{Status, transport::Channel};

use crate::{rpc, token::DevMinter, transport::ClientTransport};

/// How long each demo token is valid: the whole run, with a margin.
const TOKEN_TTL: Duration = Duration::from_secs(30 * 60);

/// Connected clients and the key to speak for anyone.
#[derive(Debug, Clone)]
pub struct Clients {
    pub consent: ConsentServiceClient<Channel>,
    pub scheduling: SchedulingServiceClient<Channel>,
    pub audit_log: AuditLogServiceClient<Channel>,
    /// The audit-log as the office's front system reaches it: over mutual
    /// TLS its `system:front` token counts only with the front's
    /// certificate.
    pub front_audit_log: AuditLogServiceClient<Channel>,
    /// A person's steps at registration and scheduling, as the tests and
    /// the benchmark take them.
    pub journey: JourneyClient,
    minter: Arc<DevMinter>,
}

impl Clients {
    /// Over TLS where `hellowork up` made a PKI under `data_dir` (or
    /// `HELLOWORK_TLS_CA_FILE` names a CA); see [`ClientTransport`].
    pub async fn connect(data_dir: &Path) -> Result<Self, String> {
        let config = PlatformConfig::from_vars(Service::Registration, crate::environment::vars())
            .map_err(|e| e.to_string())?;
        let minter = Arc::new(DevMinter::from_env()?);
        let people = ClientTransport::discover(data_dir, "cli")?;
        let front = ClientTransport::discover(data_dir, "front")?;
        let registration =
            RegistrationServiceClient::new(channel(&people, &config, Service::Registration).await?);
        let scheduling =
            SchedulingServiceClient::new(channel(&people, &config, Service::Scheduling).await?);
        let mint = minted_by(&minter);
        Ok(Self {
            journey: JourneyClient::new(
                registration.clone(),
                scheduling.clone(),
                Arc::clone(&mint),
                mint,
            ),
            consent: ConsentServiceClient::new(channel(&people, &config, Service::Consent).await?),
            scheduling,
            audit_log: AuditLogServiceClient::new(
                channel(&people, &config, Service::AuditLog).await?,
            ),
            front_audit_log: AuditLogServiceClient::new(
                channel(&front, &config, Service::AuditLog).await?,
            ),
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

/// Development tokens for whoever acts, as a journey mints them.
fn minted_by(minter: &Arc<DevMinter>) -> Mint {
    let minter = Arc::clone(minter);
    Arc::new(move |subject, role| {
        minter
            .mint_as(subject, vec![role], TOKEN_TTL, None)
            .and_then(|token| rpc::bearer(Some(&token), role))
            .map_err(Status::unauthenticated)
    })
}

async fn channel(
    transport: &ClientTransport,
    config: &PlatformConfig,
    service: Service,
) -> Result<Channel, String> {
    let url = transport.url(config.endpoint_of(service));
    let channel = transport.channel(&url, Duration::from_secs(20))?;
    // Connected now, so a stack that is not running is one clear error.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .map_err(|e| {
            format!(
                "cannot reach the {} service at {url} ({}); is `hellowork up` running?",
                service.name(),
                e.message()
            )
        })?;
    Ok(channel)
}
