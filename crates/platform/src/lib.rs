//! The service platform: every Hello Work service is configured, started,
//! authenticated, observed and stopped the same way.
//!
//! - [`PlatformConfig`]: `HELLOWORK_*` variables, validated, secrets redacted.
//! - [`Platform::connect`]: schema and migrations under an advisory lock,
//!   event store, NATS and the JetStream stream, token verification keys.
//! - [`Application`]: binds gRPC and metrics listeners (port 0 allowed),
//!   serves with health (reflecting Postgres and NATS readiness), reflection,
//!   deadlines, message size and concurrency limits with load shedding,
//!   bearer-token authentication and telemetry; runs the relay and the
//!   service's background tasks; shuts down gracefully on SIGTERM/SIGINT.
//! - [`ServiceError`]: the closed error vocabulary, mapped once to gRPC
//!   statuses with `google.rpc` rich details.

mod app;
mod auth;
mod config;
pub mod deadline;
mod error;
mod exit;
mod metadata;
mod migrate;
pub mod nats_accounts;
mod readiness;
mod system_token;

pub use app::{
    Application, BackgroundTask, GrpcTransport, Platform, ServiceParts, StartupError,
    terminate_signal,
};
pub use auth::{
    KEY_RELOADS, KeyLoadError, SharedVerifier, caller, require_any, require_self_or,
    require_service, require_service_or,
};
pub use config::{
    AuthConfig, BusTrust, ConfigError, DatabaseConfig, Environment, GrpcTls, Limits,
    NatsCredentials, NatsCredentialsError, NatsSettings, PlatformConfig, Secret, Service,
    TelemetrySettings,
};
pub use error::{Article, ArticleViolation, ERROR_DOMAIN, FieldViolation, ServiceError};
pub use exit::exit_with;
pub use hellowork_auth::{Caller, CallingService, Role};
pub use metadata::{CORRELATION_HEADER, correlation_id, event_metadata};
pub use migrate::prepare_database;
pub use system_token::{SystemAuth, SystemCredentials, SystemTokenError};
