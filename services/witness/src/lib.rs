//! `hellowork-witness`: the independent witness of the audit-log's access
//! log (Art. 7(2)). Anyone who can write the audit-log's database can make
//! the log agree with itself again; the witness keeps its own copy of every
//! leaf it accepted, outside that database, cosigns (C2SP
//! tlog-cosignature) only checkpoints that extend it, and on a fork,
//! rollback or changed entry alerts and refuses to cosign.
//!
//! - [`check`]: the pure judgement of a checkpoint.
//! - [`state`]: the witness's own storage.
//! - [`observe`]: the schedule against the log.
//! - [`server`]: the `hellowork.witness.v1.WitnessService` API.
//! - [`metrics`], [`config`], [`app`].

pub mod app;
pub mod check;
pub mod config;
pub mod metrics;
pub mod observe;
pub mod server;
pub mod state;

pub use app::{Running, start};
pub use config::WitnessConfig;
