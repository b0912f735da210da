//! Configuration from `HELLOWORK_*` environment variables (12-factor), typed
//! and validated at start: an invalid value stops the service with the exact
//! variable named, and secrets are never echoed.

use std::{
    collections::HashMap, fmt, net::SocketAddr, path::PathBuf, str::FromStr, time::Duration,
};

use hellowork_eventstore::{EventStreamConfig, SchemaName};
use sqlx::postgres::{PgConnectOptions, PgSslMode};

mod bus;
mod nats;
mod tls;

pub use bus::BusTrust;
pub use nats::{NatsCredentials, NatsCredentialsError, NatsSettings};
pub use tls::GrpcTls;

pub const PREFIX: &str = "HELLOWORK_";

/// What production requires beside the token keys, for the settings' unit
/// tests: event keys, NATS user and TLS, gRPC TLS and PostgreSQL over
/// verified TLS (the files need not exist; nothing here reads them).
#[cfg(test)]
pub(crate) fn production_vars(service: Service) -> Vec<(String, String)> {
    let mut vars = bus::production_vars(service);
    vars.extend(
        [
            ("TLS_CERT_FILE", "/run/secrets/tls/service.pem"),
            ("TLS_KEY_FILE", "/run/secrets/tls/service-key.pem"),
            ("TLS_CA_FILE", "/run/secrets/tls/ca.pem"),
            (
                "DATABASE_URL",
                "postgres://svc@db:5432/hellowork?sslmode=verify-full&sslrootcert=/run/secrets/tls/ca.pem",
            ),
        ]
        .map(|(name, value)| (format!("{PREFIX}{name}"), value.to_owned())),
    );
    vars
}

/// One of the four services; fixes its default ports, schema and stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Registration,
    Consent,
    Scheduling,
    AuditLog,
}

impl Service {
    /// The name used in proto packages, subjects and metrics (`auditlog` has
    /// no dash there, as in `hellowork.auditlog.v1`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Consent => "consent",
            Self::Scheduling => "scheduling",
            Self::AuditLog => "auditlog",
        }
    }

    pub const ALL: [Service; 4] = [
        Self::Registration,
        Self::Consent,
        Self::Scheduling,
        Self::AuditLog,
    ];

    /// The services whose event streams this one consumes (its own
    /// included where it reads it): whose producer keys it must trust, and
    /// what its NATS user may subscribe to.
    pub fn consumes(self) -> &'static [Service] {
        match self {
            Self::Registration => &[Self::Consent, Self::Scheduling],
            Self::Consent => &[Self::Consent, Self::Registration],
            Self::Scheduling => &[Self::Registration],
            Self::AuditLog => &[Self::Registration, Self::Consent, Self::Scheduling],
        }
    }

    fn default_ports(self) -> (u16, u16) {
        match self {
            Self::Registration => (50051, 9101),
            Self::Consent => (50052, 9102),
            Self::Scheduling => (50053, 9103),
            Self::AuditLog => (50054, 9104),
        }
    }
}

/// `HELLOWORK_ENVIRONMENT`, required (no default). Development allows the
/// generated dev signing key and the published development keys; production
/// refuses them wherever they appear and requires configured keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// A value that must not appear in logs or error messages.
#[derive(Clone)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// Parsed from `HELLOWORK_DATABASE_URL`, which may carry a password.
    pub options: Secret<PgConnectOptions>,
    pub schema: SchemaName,
    pub max_connections: u32,
    /// The event store writers' own connections, beside the pool (see
    /// `hellowork_eventstore::StoreConfig::writer_connections`).
    pub writer_connections: u32,
    /// How long a request waits for a connection of an exhausted pool before
    /// the database counts as unavailable (UNAVAILABLE, not a request
    /// hanging until its deadline).
    pub acquire_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    /// `(kid, public key PEM file)` pairs; empty in development means "trust
    /// the local development key".
    pub public_keys: Vec<(String, PathBuf)>,
    /// Where the development signing key lives (generated on first use,
    /// never in production); `hellowork token` mints with the same key.
    pub dev_key_dir: PathBuf,
    /// The `system` token for calls to other services, issued by the
    /// identity provider (production); in development one is minted.
    pub system_token_file: Option<PathBuf>,
    /// `HELLOWORK_JWT_MAX_LIFETIME` (default 1h, 1min to 24h): the longest
    /// lifetime of an accepted token, `exp - iat` and `exp` from now.
    pub max_lifetime: Duration,
    /// `HELLOWORK_JWT_KEYS_RELOAD_INTERVAL` (default 10s, 100ms to 1h): how
    /// often the `public_keys` files are checked for new contents (SIGHUP
    /// re-reads them at once).
    pub keys_reload_interval: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests served at once across all connections; beyond it requests are
    /// shed with RESOURCE_EXHAUSTED instead of queueing without bound.
    pub max_concurrent_requests: usize,
    pub max_message_bytes: usize,
    /// Upper bound on any request; a caller's shorter `grpc-timeout` wins.
    pub request_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    pub log_filter: String,
    pub json_logs: bool,
    /// The standard `OTEL_EXPORTER_OTLP_ENDPOINT` (unprefixed, as every
    /// OpenTelemetry SDK reads it).
    pub otlp_endpoint: Option<String>,
}

/// Everything a service needs to start.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    pub service: Service,
    pub environment: Environment,
    pub grpc_addr: SocketAddr,
    /// TLS for the gRPC server and for calls to other services; `None`
    /// (plaintext) only in development.
    pub grpc_tls: Option<GrpcTls>,
    pub metrics_addr: SocketAddr,
    pub database: DatabaseConfig,
    pub nats_url: Secret<String>,
    /// This service's NATS user and TLS.
    pub nats: NatsSettings,
    /// This service's own event stream.
    pub stream: EventStreamConfig,
    /// Its envelope signing key and the producer keys it trusts.
    pub bus: BusTrust,
    /// Every service's event stream (this one's included), for consumers of
    /// other services' events: `HELLOWORK_<SERVICE>_NATS_STREAM` and
    /// `HELLOWORK_<SERVICE>_NATS_SUBJECT_PREFIX` (defaults
    /// `HELLOWORK_<SERVICE>`, `hellowork.<service>.v1`).
    pub streams: Vec<(Service, EventStreamConfig)>,
    /// Where every service's gRPC endpoint is, for calls to other services:
    /// `HELLOWORK_<SERVICE>_URL` (default `http://127.0.0.1:<its default
    /// port>`, `https://` with TLS configured, which requires `https://`).
    pub endpoints: Vec<(Service, String)>,
    /// How long connecting to another service may take, and the deadline of
    /// a call to one made outside any request (within a request, the call
    /// gets what is left of the request's deadline).
    pub peer_timeout: Duration,
    pub auth: AuthConfig,
    pub limits: Limits,
    pub shutdown_grace: Duration,
    pub readiness_interval: Duration,
    pub telemetry: TelemetrySettings,
}

/// A configuration problem, naming the variable. Never contains the value of
/// a secret variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

impl PlatformConfig {
    /// Reads the process environment.
    pub fn from_env(service: Service) -> Result<Self, ConfigError> {
        Self::from_vars(service, std::env::vars())
    }

    /// Reads the given variables (tests pass their own).
    pub fn from_vars(
        service: Service,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let env = Vars(vars.into_iter().collect());
        let (grpc_port, metrics_port) = service.default_ports();
        let (environment, auth) = env.auth()?;
        let schema_default = service.name().to_owned();
        let schema = SchemaName::new(env.text("DATABASE_SCHEMA", &schema_default))
            .map_err(|problem| env.error("DATABASE_SCHEMA", &problem))?;
        let stream_of = |of: Service| {
            let upper = of.name().to_uppercase();
            let (stream_var, prefix_var) = if of == service {
                ("NATS_STREAM".to_owned(), "NATS_SUBJECT_PREFIX".to_owned())
            } else {
                (
                    format!("{upper}_NATS_STREAM"),
                    format!("{upper}_NATS_SUBJECT_PREFIX"),
                )
            };
            EventStreamConfig::new(
                env.text(&stream_var, &format!("HELLOWORK_{upper}")),
                env.text(&prefix_var, &format!("hellowork.{}.v1", of.name())),
            )
        };
        let production = environment == Environment::Production;
        let grpc_tls = env.grpc_tls(production)?;
        let scheme = if grpc_tls.is_some() { "https" } else { "http" };
        let endpoints = Service::ALL
            .iter()
            .map(|&of| {
                let name = format!("{}_URL", of.name().to_uppercase());
                let default = format!("{scheme}://127.0.0.1:{}", of.default_ports().0);
                let url = env.text(&name, &default);
                if grpc_tls.is_some() && !url.starts_with("https://") {
                    // A TLS client never falls back to plaintext.
                    return Err(env.error(&name, "must be https:// when TLS is configured"));
                }
                Ok((of, url))
            })
            .collect::<Result<_, _>>()?;
        let stream = stream_of(service);
        let streams = Service::ALL.iter().map(|&s| (s, stream_of(s))).collect();
        Ok(Self {
            service,
            environment,
            grpc_addr: env.parsed("GRPC_ADDR", SocketAddr::from(([127, 0, 0, 1], grpc_port)))?,
            grpc_tls,
            metrics_addr: env.parsed(
                "METRICS_ADDR",
                SocketAddr::from(([127, 0, 0, 1], metrics_port)),
            )?,
            database: DatabaseConfig {
                options: Secret(env.database_url(production)?),
                schema,
                max_connections: env.parsed("DATABASE_MAX_CONNECTIONS", 16)?,
                writer_connections: env.parsed("DATABASE_WRITER_CONNECTIONS", 4)?,
                acquire_timeout: env
                    .duration("DATABASE_ACQUIRE_TIMEOUT", Duration::from_secs(3))?,
            },
            nats_url: Secret(env.text("NATS_URL", "nats://127.0.0.1:4222")),
            nats: env.nats(production)?,
            stream,
            bus: env.bus_trust(service, production)?,
            streams,
            endpoints,
            peer_timeout: env.duration("PEER_TIMEOUT", Duration::from_secs(2))?,
            auth,
            limits: Limits {
                max_concurrent_requests: env.parsed("MAX_CONCURRENT_REQUESTS", 256)?,
                max_message_bytes: env.parsed("MAX_MESSAGE_BYTES", 4 * 1024 * 1024)?,
                request_timeout: env.duration("REQUEST_TIMEOUT", Duration::from_secs(10))?,
            },
            shutdown_grace: env.duration("SHUTDOWN_GRACE", Duration::from_secs(20))?,
            readiness_interval: env.duration("READINESS_INTERVAL", Duration::from_secs(1))?,
            telemetry: env.telemetry()?,
        })
    }
}

impl PlatformConfig {
    /// The event stream of `service` (this one's or another's).
    pub fn stream_of(&self, service: Service) -> &EventStreamConfig {
        self.streams
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, stream)| stream)
            .unwrap_or(&self.stream)
    }
}

impl PlatformConfig {
    /// A durable consumer of `producer`'s stream on `filter_subject`,
    /// trusting the keys configured for that producer.
    pub fn consumer_of(
        &self,
        producer: Service,
        filter_subject: impl Into<String>,
    ) -> hellowork_eventstore::ConsumerConfig {
        hellowork_eventstore::ConsumerConfig::new(
            self.stream_of(producer).stream_name.clone(),
            filter_subject,
            self.bus.producers_of(producer),
        )
    }
}

impl PlatformConfig {
    /// The gRPC endpoint of `service`.
    pub fn endpoint_of(&self, service: Service) -> &str {
        self.endpoints
            .iter()
            .find(|(s, _)| *s == service)
            .map_or("", |(_, url)| url.as_str())
    }
}

impl AuthConfig {
    /// The environment and token settings alone, as `hellowork token` needs
    /// them: the same variables and defaults the services read.
    pub fn from_env() -> Result<(Environment, Self), ConfigError> {
        Self::from_vars(std::env::vars())
    }

    /// The same from explicit variables (the witness, tests).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(Environment, Self), ConfigError> {
        Vars(vars.into_iter().collect()).auth()
    }
}

impl Environment {
    /// `HELLOWORK_ENVIRONMENT` alone (required), for a tool that needs no
    /// other service setting (`hellowork verify-log`).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Vars(vars.into_iter().collect()).environment()
    }
}

impl TelemetrySettings {
    /// `HELLOWORK_LOG`, `HELLOWORK_LOG_FORMAT` and the standard
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, as the services read them, for a
    /// process that is not one of them (the witness).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        Vars(vars.into_iter().collect()).telemetry()
    }
}

impl PlatformConfig {
    /// The telemetry settings in the form `hellowork_telemetry::init` takes.
    pub fn telemetry_config(&self) -> hellowork_telemetry::TelemetryConfig {
        hellowork_telemetry::TelemetryConfig {
            service_name: self.service.name().to_owned(),
            service_version: env!("CARGO_PKG_VERSION").to_owned(),
            log_filter: self.telemetry.log_filter.clone(),
            json_logs: self.telemetry.json_logs,
            otlp_endpoint: self.telemetry.otlp_endpoint.clone(),
        }
    }
}

pub(crate) struct Vars(pub(crate) HashMap<String, String>);

#[cfg(test)]
impl Vars {
    /// The variables `pairs`, for the settings' unit tests.
    pub(crate) fn of(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }
}

impl Vars {
    fn telemetry(&self) -> Result<TelemetrySettings, ConfigError> {
        Ok(TelemetrySettings {
            log_filter: self.text("LOG", "info"),
            json_logs: match self.text("LOG_FORMAT", "pretty").as_str() {
                "pretty" => false,
                "json" => true,
                _ => return Err(self.error("LOG_FORMAT", "must be pretty or json")),
            },
            otlp_endpoint: self
                .raw("OTEL_EXPORTER_OTLP_ENDPOINT")
                .filter(|v| !v.is_empty()),
        })
    }

    fn auth(&self) -> Result<(Environment, AuthConfig), ConfigError> {
        let environment = self.environment()?;
        let auth = AuthConfig {
            issuer: self.text("JWT_ISSUER", "hellowork-dev"),
            audience: self.text("JWT_AUDIENCE", "hellowork"),
            public_keys: self.key_files("JWT_PUBLIC_KEYS")?,
            dev_key_dir: PathBuf::from(self.text("DEV_KEY_DIR", ".data/dev-keys")),
            system_token_file: self
                .get("SYSTEM_TOKEN_FILE")
                .filter(|v| !v.trim().is_empty())
                .map(PathBuf::from),
            max_lifetime: self.bounded_duration(
                "JWT_MAX_LIFETIME",
                Duration::from_secs(3600),
                Duration::from_secs(60)..=Duration::from_secs(24 * 3600),
            )?,
            keys_reload_interval: self.bounded_duration(
                "JWT_KEYS_RELOAD_INTERVAL",
                Duration::from_secs(10),
                Duration::from_millis(100)..=Duration::from_secs(3600),
            )?,
        };
        if environment == Environment::Production && auth.public_keys.is_empty() {
            return Err(self.error(
                "JWT_PUBLIC_KEYS",
                "required in production (kid=path.pem,...)",
            ));
        }
        // Checked here, not when the first call is made: a service without
        // it would start, then fail every call to another service.
        if environment == Environment::Production && auth.system_token_file.is_none() {
            return Err(self.error(
                "SYSTEM_TOKEN_FILE",
                "required in production: the identity provider's system token for calls to \
                 other services",
            ));
        }
        Ok((environment, auth))
    }

    /// `ENVIRONMENT`, which has no default: a forgotten variable must not
    /// quietly run a production deployment on the published development keys.
    fn environment(&self) -> Result<Environment, ConfigError> {
        const NAME: &str = "ENVIRONMENT";
        let Some(value) = self.get(NAME).filter(|v| !v.trim().is_empty()) else {
            return Err(self.error(NAME, "required (development or production)"));
        };
        match value.to_ascii_lowercase().as_str() {
            "development" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            _ => Err(self.error(NAME, "must be development or production")),
        }
    }

    pub(crate) fn raw(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(&format!("{PREFIX}{name}")).map(String::as_str)
    }

    pub(crate) fn error(&self, name: &str, problem: &str) -> ConfigError {
        ConfigError {
            variable: format!("{PREFIX}{name}"),
            problem: problem.to_owned(),
        }
    }

    pub(crate) fn text(&self, name: &str, default: &str) -> String {
        self.get(name).unwrap_or(default).to_owned()
    }

    pub(crate) fn parsed<T: FromStr>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value
                .parse()
                .map_err(|e| self.error(name, &format!("{value:?} is invalid: {e}"))),
        }
    }

    /// `DATABASE_URL`; the error never includes the value (it may hold a
    /// password). TLS to PostgreSQL is the URL's `sslmode` (and
    /// `sslrootcert`); production requires `verify-full` or `verify-ca`, so
    /// the connection is encrypted and the server proven, never `prefer`'s
    /// quiet fallback to plaintext.
    fn database_url(&self, production: bool) -> Result<PgConnectOptions, ConfigError> {
        const NAME: &str = "DATABASE_URL";
        let url = self
            .get(NAME)
            .unwrap_or("postgres://postgres@127.0.0.1:5432/test");
        let problem = "must be a postgres://user@host:port/database url";
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(self.error(NAME, problem));
        }
        let options: PgConnectOptions = url.parse().map_err(|_| self.error(NAME, problem))?;
        let verified = matches!(
            options.get_ssl_mode(),
            PgSslMode::VerifyFull | PgSslMode::VerifyCa
        );
        if production && !verified {
            return Err(self.error(
                NAME,
                "production requires sslmode=verify-full (or verify-ca) and sslrootcert",
            ));
        }
        Ok(options)
    }

    pub(crate) fn duration(&self, name: &str, default: Duration) -> Result<Duration, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => humantime::parse_duration(value).map_err(|e| {
                self.error(
                    name,
                    &format!("{value:?} is not a duration like 500ms or 10s: {e}"),
                )
            }),
        }
    }

    /// [`Self::duration`] within `allowed`.
    fn bounded_duration(
        &self,
        name: &str,
        default: Duration,
        allowed: std::ops::RangeInclusive<Duration>,
    ) -> Result<Duration, ConfigError> {
        let value = self.duration(name, default)?;
        if !allowed.contains(&value) {
            let (low, high) = (allowed.start(), allowed.end());
            return Err(self.error(
                name,
                &format!(
                    "must be between {} and {}",
                    humantime::format_duration(*low),
                    humantime::format_duration(*high)
                ),
            ));
        }
        Ok(value)
    }

    /// `kid=path,kid=path`.
    fn key_files(&self, name: &str) -> Result<Vec<(String, PathBuf)>, ConfigError> {
        let Some(value) = self.get(name).filter(|v| !v.trim().is_empty()) else {
            return Ok(Vec::new());
        };
        value
            .split(',')
            .map(|entry| match entry.trim().split_once('=') {
                Some((kid, path)) if !kid.is_empty() && !path.is_empty() => {
                    Ok((kid.to_owned(), PathBuf::from(path)))
                }
                _ => Err(self.error(name, &format!("entry {entry:?} is not kid=path.pem"))),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `pairs` on a development machine: `HELLOWORK_ENVIRONMENT=development`
    /// unless `pairs` names another environment (a later pair wins).
    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        [("HELLOWORK_ENVIRONMENT", "development")]
            .iter()
            .chain(pairs)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn no_environment_is_no_default_but_a_refusal_naming_the_variable() {
        let error = PlatformConfig::from_vars(Service::Consent, std::iter::empty()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "HELLOWORK_ENVIRONMENT: required (development or production)"
        );
        let error = AuthConfig::from_vars(std::iter::empty()).unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_ENVIRONMENT");
        for value in ["", "staging"] {
            let set = vars(&[("HELLOWORK_ENVIRONMENT", value)]);
            let error = PlatformConfig::from_vars(Service::Consent, set).unwrap_err();
            assert_eq!(error.variable, "HELLOWORK_ENVIRONMENT");
        }
    }

    #[test]
    fn defaults_work_on_the_development_machine() {
        let config = PlatformConfig::from_vars(Service::AuditLog, vars(&[])).unwrap();
        assert_eq!(config.environment, Environment::Development);
        assert_eq!(config.grpc_addr, "127.0.0.1:50054".parse().unwrap());
        assert_eq!(config.database.schema.as_str(), "auditlog");
        assert_eq!(config.stream.stream_name, "HELLOWORK_AUDITLOG");
        assert_eq!(config.stream.subject_prefix, "hellowork.auditlog.v1");
        assert_eq!(config.nats_url.expose(), "nats://127.0.0.1:4222");
        assert_eq!(
            config.stream_of(Service::Registration).stream_name,
            "HELLOWORK_REGISTRATION"
        );
        assert_eq!(
            config.stream_of(Service::AuditLog).subject_prefix,
            "hellowork.auditlog.v1"
        );
    }

    #[test]
    fn other_services_endpoints_are_configurable() {
        let config = PlatformConfig::from_vars(
            Service::Scheduling,
            vars(&[("HELLOWORK_REGISTRATION_URL", "http://10.0.0.5:7000")]),
        )
        .unwrap();
        assert_eq!(
            config.endpoint_of(Service::Registration),
            "http://10.0.0.5:7000"
        );
        assert_eq!(
            config.endpoint_of(Service::Consent),
            "http://127.0.0.1:50052"
        );
        assert_eq!(config.peer_timeout, Duration::from_secs(2));
    }

    #[test]
    fn other_services_streams_are_configurable() {
        let config = PlatformConfig::from_vars(
            Service::Registration,
            vars(&[
                ("HELLOWORK_NATS_STREAM", "OWN"),
                ("HELLOWORK_CONSENT_NATS_STREAM", "TEST_CONSENT_1"),
                ("HELLOWORK_CONSENT_NATS_SUBJECT_PREFIX", "test_1.consent.v1"),
            ]),
        )
        .unwrap();
        assert_eq!(config.stream.stream_name, "OWN");
        assert_eq!(config.stream_of(Service::Registration).stream_name, "OWN");
        assert_eq!(
            config.stream_of(Service::Consent).stream_name,
            "TEST_CONSENT_1"
        );
        assert_eq!(
            config.stream_of(Service::Consent).subject_prefix,
            "test_1.consent.v1"
        );
    }

    #[test]
    fn an_invalid_value_names_its_variable() {
        let error = PlatformConfig::from_vars(
            Service::Consent,
            vars(&[("HELLOWORK_GRPC_ADDR", "localhost")]),
        )
        .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_GRPC_ADDR");
        let error = PlatformConfig::from_vars(
            Service::Consent,
            vars(&[("HELLOWORK_REQUEST_TIMEOUT", "soon")]),
        )
        .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_REQUEST_TIMEOUT");
        let error = PlatformConfig::from_vars(
            Service::Consent,
            vars(&[("HELLOWORK_DATABASE_SCHEMA", "Bad-Name")]),
        )
        .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_DATABASE_SCHEMA");
    }

    #[test]
    fn a_bad_database_url_is_reported_without_its_secret() {
        let url = "mysql://admin:hunter2@db/x";
        let error =
            PlatformConfig::from_vars(Service::Consent, vars(&[("HELLOWORK_DATABASE_URL", url)]))
                .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_DATABASE_URL");
        assert!(!error.to_string().contains("hunter2"));
        let config = PlatformConfig::from_vars(
            Service::Consent,
            vars(&[("HELLOWORK_DATABASE_URL", "postgres://admin:hunter2@db/x")]),
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn production_requires_configured_signing_keys() {
        let error = PlatformConfig::from_vars(
            Service::Scheduling,
            vars(&[("HELLOWORK_ENVIRONMENT", "production")]),
        )
        .unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_JWT_PUBLIC_KEYS");
        let config = PlatformConfig::from_vars(
            Service::Scheduling,
            vars(&[
                ("HELLOWORK_ENVIRONMENT", "Production"),
                ("HELLOWORK_JWT_PUBLIC_KEYS", "k1=/etc/keys/k1.pem"),
                ("HELLOWORK_SYSTEM_TOKEN_FILE", "/run/secrets/system.token"),
            ])
            .into_iter()
            .chain(production_vars(Service::Scheduling)),
        )
        .unwrap();
        assert_eq!(
            config.auth.public_keys,
            vec![("k1".to_owned(), PathBuf::from("/etc/keys/k1.pem"))]
        );
    }

    #[test]
    fn production_without_a_system_token_file_is_refused_by_the_configuration() {
        let production = |token: &str| {
            let set = vars(&[
                ("HELLOWORK_ENVIRONMENT", "production"),
                ("HELLOWORK_JWT_PUBLIC_KEYS", "k1=/etc/keys/k1.pem"),
                ("HELLOWORK_SYSTEM_TOKEN_FILE", token),
            ]);
            PlatformConfig::from_vars(
                Service::Consent,
                set.into_iter().chain(production_vars(Service::Consent)),
            )
        };
        for empty in ["", "  "] {
            let error = production(empty).unwrap_err();
            assert_eq!(error.variable, "HELLOWORK_SYSTEM_TOKEN_FILE", "{error}");
            assert!(
                error.problem.starts_with("required in production"),
                "{error}"
            );
        }
        assert!(production("/run/secrets/system.token").is_ok());
        // Development mints its own.
        assert!(PlatformConfig::from_vars(Service::Consent, vars(&[])).is_ok());
    }

    #[test]
    fn token_lifetime_and_key_reloads_default_and_are_bounded() {
        let config = PlatformConfig::from_vars(Service::Consent, vars(&[])).unwrap();
        assert_eq!(config.auth.max_lifetime, Duration::from_secs(3600));
        assert_eq!(config.auth.keys_reload_interval, Duration::from_secs(10));
        let set = vars(&[
            ("HELLOWORK_JWT_MAX_LIFETIME", "15min"),
            ("HELLOWORK_JWT_KEYS_RELOAD_INTERVAL", "500ms"),
        ]);
        let config = PlatformConfig::from_vars(Service::Consent, set).unwrap();
        assert_eq!(config.auth.max_lifetime, Duration::from_secs(900));
        assert_eq!(config.auth.keys_reload_interval, Duration::from_millis(500));
        for (name, value) in [
            ("HELLOWORK_JWT_MAX_LIFETIME", "30days"),
            ("HELLOWORK_JWT_MAX_LIFETIME", "1s"),
            ("HELLOWORK_JWT_MAX_LIFETIME", "soon"),
            ("HELLOWORK_JWT_KEYS_RELOAD_INTERVAL", "1ms"),
        ] {
            let error =
                PlatformConfig::from_vars(Service::Consent, vars(&[(name, value)])).unwrap_err();
            assert_eq!(error.variable, name, "{value}");
        }
    }
}
