//! The scheduling service (`hellowork.scheduling.v1`): counsellors publish
//! the offerings of Art. 1 as slots; eligible persons (Art. 2, asked of the
//! registration and consent services) book them free of charge (Art. 3);
//! sessions follow Art. 12 (attendants, checklist, acknowledgements, join
//! and leave as Art. 7(1) usage records, stopping and refusal).
//!
//! - [`domain`]: the pure rules.
//! - [`eligibility`]: asking registration and consent over gRPC.
//! - [`sealing`]: device identifiers sealed to the audit-log where they
//!   enter (Art. 7(2)).
//! - [`sealed`]: notes about a person sealed with their data key, erased
//!   with it, and the start-up reseal of what was stored in clear (Art. 8).
//! - [`service`]: the commands and queries with domain arguments.
//! - [`refusal_cascade`]: the process manager of Art. 12(1) (a refusal
//!   cancels the person's open bookings).
//! - [`projections`]: read models for the queries.
//! - [`grpc`]: the thin tonic adapter.
//! - [`metrics`]: what it counts for Prometheus.
//! - [`app`]: wiring onto the platform.

pub mod app;
pub mod carry_over;
pub mod domain;
pub mod eligibility;
pub mod grpc;
pub mod metrics;
pub mod projections;
pub mod refusal_cascade;
pub mod sealed;
pub mod sealing;
pub mod service;
pub mod settings;

pub use app::{MIGRATOR, SERVICE_NAME, build, build_with};
pub use settings::SchedulingSettings;
