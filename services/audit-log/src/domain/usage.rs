//! Art. 7(1): a usage record as the log accepts it. Constructed only by the
//! parser at the gRPC edge or from a scheduling event, so one that exists is
//! valid.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

/// Raw device identifiers (Art. 7(1)); sealed before storing, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Device {
    pub device_id: String,
    pub ip_address: IpAddr,
    pub user_agent: String,
    pub os_name: String,
    pub os_version: String,
}

/// Art. 7, 8: the debug form never prints an identifier.
impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Device(<redacted>)")
    }
}

/// One usage record, valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    /// Idempotency key: the client's record id, or the event id.
    pub record_id: String,
    pub job_seeker_id: String,
    pub occurred_at: DateTime<Utc>,
    pub usage_window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// `AccessKind` of the contract.
    pub access_kind: i32,
    pub action: String,
    pub method: String,
    /// `AccessOutcome` of the contract.
    pub outcome: i32,
    /// `Offering` of scheduling's contract.
    pub offering: i32,
    pub booking_id: String,
    pub source: String,
    pub device: Option<Device>,
}
