//! Configuration from `HELLOWORK_*` environment variables (12-factor), typed
//! and validated at start: an invalid value stops the service with the exact
//! variable named, and secrets are never echoed.
//!
//! This file holds [`PlatformConfig`], everything a service needs to start,
//! read in one pass; its parts and their variables are in [`service`],
//! [`auth`], [`database`], [`telemetry`], [`nats`], [`bus`] and [`tls`],
//! and [`vars`] reads and checks single variables.

use std::{fmt, net::SocketAddr, time::Duration};

use hellowork_eventstore::{EventStreamConfig, SchemaName};

mod auth;
mod bus;
mod database;
mod nats;
mod service;
mod telemetry;
mod tls;
mod vars;

pub use auth::{AuthConfig, Environment};
pub use bus::BusTrust;
pub use database::DatabaseConfig;
pub use nats::{NatsCredentials, NatsCredentialsError, NatsSettings};
pub use service::Service;
pub use telemetry::TelemetrySettings;
pub use tls::GrpcTls;
pub use vars::ConfigError;
pub(crate) use vars::Vars;

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

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Requests served at once across all connections; beyond it requests are
    /// shed with RESOURCE_EXHAUSTED instead of queueing without bound.
    pub max_concurrent_requests: usize,
    pub max_message_bytes: usize,
    /// Upper bound on any request; a caller's shorter `grpc-timeout` wins.
    pub request_timeout: Duration,
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

#[cfg(test)]
mod tests;
