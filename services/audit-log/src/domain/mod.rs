//! The audit-log domain: pure, no I/O and no clock.
//!
//! - [`anonymize`]: Art. 7(2) pseudonyms, IP truncation, user-agent reduction.
//! - [`subject`]: Art. 7(2), 8 key periods and the keyed lookup tags of the
//!   per person and period data keys.
//! - [`legacy`]: opening device identifiers sealed before Step 8.
//! - [`grid`]: Art. 7(2) the slot grid and the valid statistics requests.
//! - [`kanon`]: Art. 7(2) k-anonymity that cannot be differenced: below k,
//!   remainders of longer slots, complementary suppression per slot.
//! - [`event`]: the service's events, of which the access log is a projection.
//! - [`legal`]: Art. 7(2) proviso, legal requests and the two-person rule.
//! - [`notice`]: Art. 7(2), 8 when a data subject is told of a disclosure.
//! - [`chain`]: tamper evidence, the hash chain.
//! - [`usage`]: Art. 7(1) usage records, validated.

pub mod anonymize;
pub mod chain;
pub mod event;
pub mod grid;
pub mod kanon;
pub mod legacy;
pub mod legal;
pub mod notice;
pub mod subject;
pub mod time;
pub mod usage;
