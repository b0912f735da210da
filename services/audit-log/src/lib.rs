//! The audit-log service (`hellowork.auditlog.v1`): the Art. 7 access log.
//! Usage records are ingested (Art. 7(1)) with the job seeker id and raw
//! device identifiers sealed per person and key period (Art. 7(2), 8); they
//! are shown only device-anonymized (Art. 7(2)); raw records leave only
//! under an authorized legal request approved by a second person (Art. 7(2)
//! proviso); retention and erasure destroy the keys (crypto-shredding);
//! every entry is hash-chained and a leaf of a Merkle tree whose signed
//! checkpoints witnesses and clients check (tamper evidence).
//!
//! - [`domain`]: the pure rules.
//! - [`store`]: the hash-chained log in Postgres.
//! - [`statistics`]: Art. 7(2) usage statistics counted in Postgres.
//! - [`keys`]: the per person and period data keys.
//! - [`ingest`], [`projections`]: Art. 7(1) ingest.
//! - [`retention`], [`erasure`]: Art. 7(2), 8 crypto-shredding.
//! - [`transparency`]: the Merkle tree, signed checkpoints and proofs.
//! - [`upgrade`]: the start-up reseal of records stored before Step 8.
//! - [`service`]: the service with domain arguments, below any transport.
//! - [`grpc`]: the thin tonic adapter.
//! - [`metrics`]: what it counts for Prometheus (Art. 7 oversight).
//! - [`app`]: wiring onto the platform.

pub mod app;
pub mod domain;
pub mod erasure;
pub mod grpc;
pub mod ingest;
pub mod keys;
pub mod metrics;
pub mod projections;
pub mod retention;
pub mod service;
pub mod settings;
pub mod statistics;
pub mod store;
pub mod transparency;
pub mod upgrade;

pub use app::{MIGRATOR, SERVICE_NAME, build, build_with};
pub use settings::AuditLogSettings;
