//! The two halves of ingest and projection.
//!
//! - [`PeerIngest`]: Art. 7(1), every event of registration, consent and
//!   scheduling, heard on durable JetStream consumers (`auditlog-<service>`),
//!   becomes an audit-log event in this service's own store: scheduling's
//!   `SessionJoined`/`SessionLeft` a `UsageRecorded` with sealed device
//!   identifiers, registration's `JobSeekerErased` a `SubjectErased` once
//!   the person's data keys are destroyed ([`crate::erasure`]), every other
//!   event a `PeerEventObserved`. Event ids derive from the peer's, so
//!   redelivery records nothing new.
//! - [`AccessLogProjection`]: the hash-chained access log and the
//!   legal-request list, projected from this service's own events in commit
//!   order (a [`hellowork_eventstore::TailingRunner`]), so a rebuild equals
//!   the live log row for row, hash for hash.
//!
//! The list of legal requests the access log projection keeps beside it is
//! in `legal_list`.

mod access_log;
mod legal_list;
mod peer_ingest;

pub use access_log::{ACCESS_LOG, AccessLogProjection};
pub use peer_ingest::PeerIngest;
