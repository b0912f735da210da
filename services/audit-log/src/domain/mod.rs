//! The audit-log domain: pure, no I/O and no clock.
//!
//! - [`anonymize`]: Art. 7(2) pseudonyms, IP truncation, user-agent reduction.
//! - [`seal`]: Art. 7(2), 8 encryption of raw device identifiers at rest.
//! - [`kanon`]: Art. 7(2) k-anonymity with complementary suppression.
//! - [`event`]: the service's events, of which the access log is a projection.
//! - [`legal`]: Art. 7(2) proviso, legal requests and the two-person rule.
//! - [`chain`]: tamper evidence, the hash chain.
//! - [`usage`]: Art. 7(1) usage records, validated.

pub mod anonymize;
pub mod chain;
pub mod event;
pub mod kanon;
pub mod legal;
pub mod seal;
pub mod time;
pub mod usage;
