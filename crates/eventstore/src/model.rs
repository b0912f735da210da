//! The values the store accepts and returns.

use std::fmt;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::InvalidInput;

/// Longest accepted stream id; ids are `<aggregate>-<uuid>` in practice.
const MAX_STREAM_ID_LEN: usize = 200;

/// The id of one aggregate's stream, e.g. `registration-0190f2c4-...`.
///
/// Printable ASCII without spaces, at most 200 bytes: it ends up in logs, NATS
/// headers and database keys, where anything else would be a liability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(String);

impl StreamId {
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidInput> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_STREAM_ID_LEN {
            return Err(InvalidInput::StreamId(id));
        }
        if !id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(InvalidInput::StreamId(id));
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the writer believes the stream's version is; the append fails with
/// [`crate::AppendError::WrongExpectedVersion`] if it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Append whatever the version (no concurrency check).
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream's last event must have exactly this version (`Exact(0)` is
    /// the same as `NoStream`).
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream whose last version is `actual` (0 = no stream) meets it.
    pub fn accepts(self, actual: u64) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual == 0,
            Self::Exact(expected) => actual == expected,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::NoStream => f.write_str("no stream"),
            Self::Exact(version) => write!(f, "{version}"),
        }
    }
}

/// Who caused an event. `role` is the protobuf role name (e.g. `ROLE_SYSTEM`),
/// `subject` a pseudonymous id, never a person's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub subject: String,
    pub role: hellowork_proto::events::v1::Role,
}

/// Request-scoped facts recorded with every event (the envelope's metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMetadata {
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub actor: Actor,
    /// W3C `traceparent` of the request that produced the event.
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

impl EventMetadata {
    /// What a service records on its own behalf (a start-up step, a
    /// scheduled job): `subject` in the system role, correlated with
    /// `correlation_id` alone, outside any request or trace.
    pub fn system(subject: &str, correlation_id: Uuid) -> Self {
        Self {
            correlation_id,
            causation_id: None,
            actor: Actor {
                subject: subject.to_owned(),
                role: hellowork_proto::events::v1::Role::System,
            },
            traceparent: None,
            tracestate: None,
        }
    }
}

/// An event to append. `event_id` makes the append idempotent: appending an
/// event id that is already stored (same stream, same position) succeeds
/// without writing anything.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Vec<u8>,
    pub occurred_at: DateTime<Utc>,
    pub metadata: EventMetadata,
}

/// A committed event as read back from the store or from JetStream.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub event_id: Uuid,
    pub stream_id: StreamId,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Vec<u8>,
    pub occurred_at: DateTime<Utc>,
    pub recorded_at: DateTime<Utc>,
    pub metadata: EventMetadata,
}

/// A place in the store's global order, which is commit order: (writer
/// transaction id, row position). Stable: nothing is ever inserted behind a
/// position a reader has already passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GlobalPosition {
    pub transaction_id: i64,
    pub position: i64,
}

impl GlobalPosition {
    /// Before the first event.
    pub const START: Self = Self {
        transaction_id: 0,
        position: 0,
    };
}

/// The result of a successful append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    /// The stream's version after the append (its last event's version).
    pub stream_version: u64,
    /// True when every event was already stored (a retried command): nothing
    /// was written this time.
    pub already_recorded: bool,
}
