//! The registration service (`hellowork.registration.v1`): registers job
//! seekers, takes their application for online services (Art. 2(1), 2(2),
//! 6), records their device (Art. 2(3)) and environment (Art. 5, 12(4))
//! attestations, and answers whether a person is eligible for online
//! services, with every unmet condition and its article.
//!
//! - [`domain`]: the pure rules.
//! - [`projections`]: read models of the consent service's and scheduling's
//!   events that eligibility needs, and the only writers of read models.
//! - [`sealed`]: personal data sealed per person, erased by destroying the
//!   person's key (Art. 8).
//! - [`service`]: the commands and queries with domain arguments.
//! - [`grpc`]: the thin tonic adapter: parse, call the service, convert.
//! - [`metrics`]: what it counts for Prometheus.
//! - [`app`]: wiring onto the platform.

pub mod app;
pub mod domain;
pub mod grpc;
pub mod metrics;
pub mod projections;
pub mod sealed;
pub mod service;
pub mod settings;

pub use app::{MIGRATOR, SERVICE_NAME, build, build_with};
pub use settings::RegistrationSettings;
