//! The audit-log service (`hellowork.auditlog.v1`): the Art. 7 access log.
//! Usage records are ingested (Art. 7(1)) with raw device identifiers sealed
//! at rest; they are shown only device-anonymized (Art. 7(2)); raw records
//! leave only under an authorized legal request approved by a second person
//! (Art. 7(2) proviso); every entry is hash-chained for tamper evidence.
//!
//! - [`domain`]: the pure rules.
//! - [`store`]: the hash-chained log in Postgres.
//! - [`ingest`], [`projections`]: Art. 7(1) ingest.
//! - [`grpc`]: the thin tonic adapter.
//! - [`metrics`]: what it counts for Prometheus (Art. 7 oversight).
//! - [`app`]: wiring onto the platform.

pub mod app;
pub mod domain;
pub mod grpc;
pub mod ingest;
pub mod metrics;
pub mod projections;
pub mod settings;
pub mod store;

pub use app::{MIGRATOR, SERVICE_NAME, build, build_with};
pub use settings::AuditLogSettings;
