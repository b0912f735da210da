//! A complete, tiny service on the platform: notes about job seekers, one
//! event per note. It exists so the platform is tested end to end.
#![allow(dead_code)] // each test binary uses its own subset

use std::time::Duration;

use chrono::Utc;
use hellowork_eventstore::{EventStore, ExpectedVersion, NewEvent, StreamId, Upcasters};
use hellowork_platform::{
    Application, Article, Platform, PlatformConfig, Role, Service, ServiceError, ServiceParts,
    caller, require_any, require_self_or,
};
use hellowork_testing::{ServiceEnv, TestDatabase, database_url, nats_url};
use tonic::{Request, Response, Status, service::Routes};
use uuid::Uuid;

pub mod proto {
    tonic::include_proto!("hellowork.sample.v1");
}

use proto::{
    note_service_client::NoteServiceClient,
    note_service_server::{NoteService, NoteServiceServer},
    *,
};

pub const DESCRIPTOR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/sample_descriptor.bin"));
pub const SERVICE_NAME: &str = "hellowork.sample.v1.NoteService";

const MAX_NOTE_CHARS: usize = 500;

#[derive(Debug)]
struct Notes {
    store: EventStore,
}

impl Notes {
    async fn append_note(
        &self,
        request: &Request<impl Send>,
        job_seeker_id: &str,
        text: &str,
    ) -> Result<u64, ServiceError> {
        let caller = caller(request)?;
        let stream = StreamId::new(format!("notes-{job_seeker_id}"))
            .map_err(|e| ServiceError::invalid("job_seeker_id", e.to_string()))?;
        let metadata = hellowork_platform::event_metadata(caller, None);
        let event = NewEvent {
            event_id: Uuid::now_v7(),
            event_type: "NoteWritten".into(),
            schema_version: 1,
            payload: text.as_bytes().to_vec(),
            occurred_at: Utc::now(),
            metadata,
        };
        Ok(self
            .store
            .append(&stream, ExpectedVersion::Any, vec![event])
            .await?
            .stream_version)
    }
}

fn validate_note(request: &WriteNoteRequest) -> Result<(), ServiceError> {
    let mut violations = Vec::new();
    if request.job_seeker_id.trim().is_empty() {
        violations.push(hellowork_platform::FieldViolation::new(
            "job_seeker_id",
            "must not be empty",
        ));
    }
    if request.text.trim().is_empty() || request.text.chars().count() > MAX_NOTE_CHARS {
        violations.push(hellowork_platform::FieldViolation::new(
            "text",
            "must be 1-500 characters",
        ));
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::InvalidArgument(violations))
    }
}

#[tonic::async_trait]
impl NoteService for Notes {
    async fn write_note(
        &self,
        request: Request<WriteNoteRequest>,
    ) -> Result<Response<WriteNoteResponse>, Status> {
        require_any(caller(&request)?, &[Role::Counsellor, Role::Supervisor])?;
        validate_note(request.get_ref())?;
        let message = request.get_ref();
        let version = self
            .append_note(&request, &message.job_seeker_id, &message.text)
            .await?;
        Ok(Response::new(WriteNoteResponse { version }))
    }

    async fn get_notes(
        &self,
        request: Request<GetNotesRequest>,
    ) -> Result<Response<GetNotesResponse>, Status> {
        let owner = &request.get_ref().job_seeker_id;
        require_self_or(
            caller(&request)?,
            owner,
            &[Role::Counsellor, Role::Supervisor],
        )?;
        let stream = StreamId::new(format!("notes-{owner}"))
            .map_err(|e| ServiceError::invalid("job_seeker_id", e.to_string()))?;
        let texts = self
            .store
            .read_stream(&stream, 0)
            .await
            .map_err(ServiceError::from)?
            .into_iter()
            .map(|event| String::from_utf8_lossy(&event.payload).into_owned())
            .collect();
        Ok(Response::new(GetNotesResponse { texts }))
    }

    async fn forbidden_action(
        &self,
        request: Request<ForbiddenActionRequest>,
    ) -> Result<Response<ForbiddenActionResponse>, Status> {
        caller(&request)?;
        Err(ServiceError::forbidden(
            Article::Art12_2,
            "session",
            "recording a session is prohibited",
        )
        .into())
    }

    async fn slow(&self, request: Request<SlowRequest>) -> Result<Response<SlowResponse>, Status> {
        require_any(caller(&request)?, &[Role::Counsellor])?;
        tokio::time::sleep(Duration::from_millis(u64::from(
            request.get_ref().hold_millis,
        )))
        .await;
        let owner = request.get_ref().job_seeker_id.clone();
        let version = self.append_note(&request, &owner, "slow").await?;
        Ok(Response::new(SlowResponse { version }))
    }
}

/// The sample service's own projection tables: none; it needs only the
/// event store's migrations.
static NO_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;

/// A fresh environment: database cloned from the migrated template, own
/// stream, own signing key.
pub async fn environment() -> ServiceEnv {
    environment_on(&database_url()).await
}

/// The same on another PostgreSQL server (a test's private one).
pub async fn environment_on(server_url: &str) -> ServiceEnv {
    let fingerprint = hellowork_eventstore::schema_fingerprint();
    let database =
        TestDatabase::from_template(server_url, "sample", &fingerprint, |url| async move {
            let vars = vec![
                ("HELLOWORK_ENVIRONMENT".to_owned(), "development".to_owned()),
                ("HELLOWORK_DATABASE_URL".to_owned(), url),
            ];
            let config = PlatformConfig::from_vars(Service::Consent, vars).unwrap();
            let pool = hellowork_platform::prepare_database(&config.database, &NO_MIGRATIONS)
                .await
                .unwrap();
            pool.close().await;
        })
        .await;
    ServiceEnv::new("sample", database, &nats_url())
}

/// Builds the sample service on the platform with `vars` (plus overrides).
pub async fn build(env: &ServiceEnv, overrides: &[(&str, &str)]) -> Application {
    let mut vars = env.vars();
    vars.extend(
        overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let config = PlatformConfig::from_vars(Service::Consent, vars).unwrap();
    let platform = Platform::connect(config, &NO_MIGRATIONS, Upcasters::new())
        .await
        .unwrap();
    let notes = NoteServiceServer::new(Notes {
        store: platform.store.clone(),
    })
    .max_decoding_message_size(platform.config.limits.max_message_bytes);
    let parts = ServiceParts {
        routes: Routes::new(notes),
        health_names: vec![SERVICE_NAME.to_owned()],
        file_descriptor_sets: vec![DESCRIPTOR],
        background: Vec::new(),
    };
    Application::build(platform, parts).await.unwrap()
}

/// Starts it; returns its address, the shutdown token and the run task.
pub async fn start(env: &ServiceEnv, overrides: &[(&str, &str)]) -> Running {
    start_with(env, overrides, None).await
}

/// Starts it with TLS configured in `overrides` from `pki`, whose CA the
/// health checks trust.
pub async fn start_tls(
    env: &ServiceEnv,
    overrides: &[(&str, &str)],
    pki: &hellowork_tls::dev_pki::DevPki,
) -> Running {
    let tls = hellowork_tls::ClientTls::load(&pki.ca(), None).unwrap();
    start_with(env, overrides, Some(tls)).await
}

async fn start_with(
    env: &ServiceEnv,
    overrides: &[(&str, &str)],
    tls: Option<std::sync::Arc<hellowork_tls::ClientTls>>,
) -> Running {
    let app = build(env, overrides).await;
    let addr = app.grpc_addr();
    let metrics = app.metrics_addr();
    let shutdown = app.shutdown_token();
    let task = tokio::spawn(app.run_until_stopped());
    let running = Running {
        addr,
        metrics,
        shutdown,
        task,
        tls,
    };
    running.wait_until_serving().await;
    running
}

#[derive(Debug)]
pub struct Running {
    pub addr: std::net::SocketAddr,
    pub metrics: std::net::SocketAddr,
    pub shutdown: tokio_util::sync::CancellationToken,
    pub task: tokio::task::JoinHandle<Result<(), hellowork_platform::StartupError>>,
    /// Where the service serves TLS: what its clients here trust.
    tls: Option<std::sync::Arc<hellowork_tls::ClientTls>>,
}

impl Running {
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// A channel to the service, over TLS where it serves TLS.
    pub async fn channel(&self) -> tonic::transport::Channel {
        let endpoint = tonic::transport::Channel::from_shared(self.url()).unwrap();
        match &self.tls {
            Some(tls) => hellowork_tls::channel(endpoint, tls.clone()),
            None => endpoint.connect().await.unwrap(),
        }
    }

    pub async fn client(&self) -> NoteServiceClient<tonic::transport::Channel> {
        NoteServiceClient::new(self.channel().await)
    }

    pub async fn health(&self) -> tonic_health::pb::health_check_response::ServingStatus {
        let channel = self.channel().await;
        let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
        let response = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: SERVICE_NAME.into(),
            })
            .await
            .unwrap();
        response.into_inner().status()
    }

    /// Polls health (no sleeps as readiness proxies) until SERVING.
    pub async fn wait_until_serving(&self) {
        self.wait_for_health(tonic_health::pb::health_check_response::ServingStatus::Serving)
            .await;
    }

    pub async fn wait_for_health(
        &self,
        wanted: tonic_health::pb::health_check_response::ServingStatus,
    ) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self.health().await != wanted {
            assert!(
                std::time::Instant::now() < deadline,
                "health never became {wanted:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
