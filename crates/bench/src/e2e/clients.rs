//! How the simulated users and staff reach the services: a few gRPC
//! connections per service, as a few front-system instances would hold
//! (one HTTP/2 connection for 200 users would measure the client's
//! connection task, not the services), and development tokens for any
//! subject and role, minted with the key the run's services trust.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use hellowork_auth::{DevKey, MintRequest, Role};
use hellowork_platform::Service;
use hellowork_proto::{
    auditlog::v1::audit_log_service_client::AuditLogServiceClient,
    consent::v1::consent_service_client::ConsentServiceClient,
    registration::v1::registration_service_client::RegistrationServiceClient,
    scheduling::v1::scheduling_service_client::SchedulingServiceClient,
};
use hellowork_tls::ClientTls;
use tonic::{
    metadata::{Ascii, MetadataValue},
    transport::{Channel, Endpoint},
};

use super::stack::Stack;

/// Connections to each service; users are spread over them.
const CONNECTIONS: usize = 4;
/// Tokens outlive any run.
const TOKEN_TTL: Duration = Duration::from_secs(3600);
/// A call still unanswered after this is an error, not a latency.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Clients of the four services on one connection each.
#[derive(Debug, Clone)]
pub struct Clients {
    pub registration: RegistrationServiceClient<Channel>,
    pub consent: ConsentServiceClient<Channel>,
    pub scheduling: SchedulingServiceClient<Channel>,
    pub audit_log: AuditLogServiceClient<Channel>,
}

/// [`CONNECTIONS`] sets of clients.
#[derive(Debug)]
pub struct Connections(Vec<Clients>);

impl Connections {
    /// Connections presenting, over TLS, the certificate issued to
    /// `identity`: the simulated users and staff come through the office's
    /// `front` system; the eligibility checks of the set-up are made as
    /// `scheduling` makes them.
    pub async fn open(stack: &Stack, identity: &str) -> anyhow::Result<Self> {
        let tls = stack.client_tls(identity)?;
        let channel = |service| channel(stack, service, tls.clone());
        let mut all = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            all.push(Clients {
                registration: RegistrationServiceClient::new(channel(Service::Registration).await?),
                consent: ConsentServiceClient::new(channel(Service::Consent).await?),
                scheduling: SchedulingServiceClient::new(channel(Service::Scheduling).await?),
                audit_log: AuditLogServiceClient::new(channel(Service::AuditLog).await?),
            });
        }
        Ok(Self(all))
    }

    /// The clients user or task `index` uses.
    pub fn get(&self, index: usize) -> Clients {
        self.0[index % self.0.len()].clone()
    }
}

async fn channel(
    stack: &Stack,
    service: Service,
    tls: Option<Arc<ClientTls>>,
) -> anyhow::Result<Channel> {
    let url = &stack.get(service).url;
    let endpoint = Endpoint::from_shared(url.clone())?.timeout(CALL_TIMEOUT);
    let channel = match tls {
        Some(tls) => hellowork_tls::channel(endpoint, tls),
        None => endpoint.connect_lazy(),
    };
    // Connected now, so the handshakes are not in the measured window.
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .with_context(|| format!("connecting to {url}"))?;
    Ok(channel)
}

/// The development key the run's services trust, with the issuer and
/// audience they check.
#[derive(Debug, Clone)]
pub struct Minter {
    pub key: DevKey,
    pub issuer: String,
    pub audience: String,
}

impl Minter {
    /// `Bearer <token>` for `subject` acting as `role`.
    pub fn bearer(&self, subject: &str, role: Role) -> anyhow::Result<MetadataValue<Ascii>> {
        let token = self.key.mint(&MintRequest {
            subject: subject.to_owned(),
            roles: vec![role],
            ttl: TOKEN_TTL,
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            not_before: None,
            personnel_id: None,
        })?;
        Ok(format!("Bearer {token}").parse()?)
    }
}

/// `message` with `bearer` as its authorization.
pub fn request<T>(message: T, bearer: &MetadataValue<Ascii>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", bearer.clone());
    request
}
