use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use hellowork_auth::{CallingService, MintRequest, Role, TokenIssuer};
use hellowork_journey::Mint;
use tonic::Status;

use crate::{TestDatabase, budget};

pub(crate) const ISSUER: &str = "hellowork-test";
pub(crate) const AUDIENCE: &str = "hellowork";

/// Everything one service under test needs of its own: a database cloned
/// from a migrated template, a unique JetStream stream and subject prefix, a
/// signing key its tokens are verified against, and `HELLOWORK_*` variables
/// saying so (ports 0). Tokens for any role come from [`ServiceEnv::token`];
/// those of the subjects given a personnel id
/// ([`ServiceEnv::assign_personnel_id`]) carry it, as the office's identity
/// provider puts it into its staff's tokens.
#[derive(Debug)]
pub struct ServiceEnv {
    pub database: TestDatabase,
    pub stream_name: String,
    pub subject_prefix: String,
    service: String,
    issuer: TokenIssuer,
    key_dir: std::path::PathBuf,
    nats_url: String,
    personnel: Mutex<HashMap<String, String>>,
}

impl ServiceEnv {
    /// `service` is the service's name (`consent`); `database` a database
    /// prepared for it (see [`TestDatabase::from_template`]).
    pub fn new(service: &str, database: TestDatabase, nats_url: &str) -> Self {
        // The service creates its stream on the server when it starts.
        crate::stream::ensure_anchor(nats_url);
        let id = crate::unique_suffix();
        let issuer = TokenIssuer::generate(format!("test-{id}")).expect("generate a signing key");
        let key_dir = std::env::temp_dir().join(format!("hellowork-keys-{id}"));
        std::fs::create_dir_all(&key_dir).expect("create the key dir");
        std::fs::write(key_dir.join("public.pem"), issuer.public_key().to_pem())
            .expect("write the public key");
        Self {
            database,
            stream_name: format!("TEST_{}_{id}", service.to_uppercase()),
            subject_prefix: format!("test_{id}.{service}.v1"),
            service: service.to_owned(),
            issuer,
            key_dir,
            nats_url: nats_url.to_owned(),
            personnel: Mutex::new(HashMap::new()),
        }
    }

    /// From now on, tokens minted for `subject` carry `personnel_id` (the
    /// person behind the subject; Art. 7(2) tells people apart by it). Two
    /// subjects given one personnel id are one person with two tokens.
    pub fn assign_personnel_id(&self, subject: &str, personnel_id: &str) {
        self.personnel
            .lock()
            .expect("personnel ids lock")
            .insert(subject.to_owned(), personnel_id.to_owned());
    }

    /// The configuration of one instance of the service, as environment
    /// variables. Each call declares one instance's connections
    /// ([`budget::SERVICE_CONNECTIONS`]) against the test's share of the
    /// connection budget, until the env is dropped: a pool of
    /// [`budget::SERVICE_POOL`] and [`budget::SERVICE_WRITER_CONNECTIONS`]
    /// for the writers, which a test must not enlarge on the shared server.
    pub fn vars(&self) -> Vec<(String, String)> {
        self.database.declare_service(budget::SERVICE_CONNECTIONS);
        let public_key = format!(
            "{}={}",
            self.issuer.kid(),
            self.key_dir.join("public.pem").display()
        );
        [
            ("HELLOWORK_ENVIRONMENT", "development".to_owned()),
            ("HELLOWORK_DATABASE_URL", self.database.url.clone()),
            (
                "HELLOWORK_DATABASE_MAX_CONNECTIONS",
                budget::SERVICE_POOL.to_string(),
            ),
            (
                "HELLOWORK_DATABASE_WRITER_CONNECTIONS",
                budget::SERVICE_WRITER_CONNECTIONS.to_string(),
            ),
            ("HELLOWORK_NATS_URL", self.nats_url.clone()),
            ("HELLOWORK_NATS_STREAM", self.stream_name.clone()),
            ("HELLOWORK_NATS_SUBJECT_PREFIX", self.subject_prefix.clone()),
            ("HELLOWORK_GRPC_ADDR", "127.0.0.1:0".to_owned()),
            ("HELLOWORK_METRICS_ADDR", "127.0.0.1:0".to_owned()),
            ("HELLOWORK_JWT_ISSUER", ISSUER.to_owned()),
            ("HELLOWORK_JWT_AUDIENCE", AUDIENCE.to_owned()),
            ("HELLOWORK_JWT_PUBLIC_KEYS", public_key),
            (
                "HELLOWORK_SYSTEM_TOKEN_FILE",
                self.key_dir.join("system.token").display().to_string(),
            ),
            ("HELLOWORK_READINESS_INTERVAL", "100ms".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// The variables that tell *another* service under test where this
    /// one's events are (`HELLOWORK_<SERVICE>_NATS_STREAM`, `…_SUBJECT_PREFIX`).
    pub fn peer_vars(&self) -> Vec<(String, String)> {
        let upper = self.service.to_uppercase();
        vec![
            (
                format!("HELLOWORK_{upper}_NATS_STREAM"),
                self.stream_name.clone(),
            ),
            (
                format!("HELLOWORK_{upper}_NATS_SUBJECT_PREFIX"),
                self.subject_prefix.clone(),
            ),
        ]
    }

    /// A valid bearer token (`Bearer …`) for `subject` with `roles`, with
    /// the personnel id assigned to `subject` if any.
    pub fn token(&self, subject: &str, roles: &[Role]) -> String {
        let personnel_id = self
            .personnel
            .lock()
            .expect("personnel ids lock")
            .get(subject)
            .cloned();
        self.token_as(subject, roles, personnel_id.as_deref())
    }

    /// A valid bearer token (`Bearer …`) for `subject` with `roles` and
    /// exactly `personnel_id` (none if `None`), whatever is assigned.
    pub fn token_as(&self, subject: &str, roles: &[Role], personnel_id: Option<&str>) -> String {
        mint(&self.issuer, subject, roles, personnel_id)
    }

    /// `message` as a request carrying a token for `subject` with `role`.
    pub fn request<T>(&self, message: T, subject: &str, role: Role) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        let token = self
            .token(subject, &[role])
            .parse()
            .expect("a token is valid metadata");
        request.metadata_mut().insert("authorization", token);
        request
    }

    /// A valid system token (`Bearer …`) of `service`: subject
    /// `system:<service>`, the `system` role alone, as the identity
    /// provider issues it to that service.
    pub fn system_token(&self, service: CallingService) -> String {
        self.token(&service.subject(), &[Role::System])
    }

    /// `message` as a request `service` makes with its system token.
    pub fn system_request<T>(&self, message: T, service: CallingService) -> tonic::Request<T> {
        self.request(message, &service.subject(), Role::System)
    }

    /// The `iss` the service expects of tokens (`HELLOWORK_JWT_ISSUER`).
    pub fn jwt_issuer(&self) -> &'static str {
        ISSUER
    }

    /// The `aud` the service expects of tokens (`HELLOWORK_JWT_AUDIENCE`).
    pub fn jwt_audience(&self) -> &'static str {
        AUDIENCE
    }

    /// The issuer tokens are verified against (to mint odd ones in tests).
    pub fn issuer(&self) -> &TokenIssuer {
        &self.issuer
    }

    /// Tokens signed with this environment's key, which the service it
    /// configures trusts, for a journey's calls; they outlive the borrow.
    pub fn mint(&self) -> Mint {
        let issuer = self.issuer.clone();
        Arc::new(move |subject, role| {
            mint(&issuer, subject, &[role], None)
                .parse()
                .map_err(|_| Status::internal("a minted token is not header text"))
        })
    }
}

impl Drop for ServiceEnv {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.key_dir);
        let url = self.nats_url.clone();
        let stream = self.stream_name.clone();
        crate::block_on_cleanup(async move {
            if let Ok(client) = async_nats::connect(url).await {
                let _ = async_nats::jetstream::new(client)
                    .delete_stream(stream)
                    .await;
            }
        });
    }
}

/// `Bearer …` signed by `issuer` for `subject` with `roles`, valid ten
/// minutes.
fn mint(issuer: &TokenIssuer, subject: &str, roles: &[Role], personnel_id: Option<&str>) -> String {
    let token = issuer
        .mint(&MintRequest {
            subject: subject.to_owned(),
            roles: roles.to_vec(),
            ttl: Duration::from_secs(600),
            issuer: ISSUER.to_owned(),
            audience: AUDIENCE.to_owned(),
            not_before: None,
            personnel_id: personnel_id.map(str::to_owned),
        })
        .expect("mint a test token");
    format!("Bearer {token}")
}
