//! Art. 7(1): ingest of every event of registration, consent and
//! scheduling, from durable JetStream consumers (`auditlog-<service>`),
//! idempotent through the consumer inbox and the entry's record id (the
//! event id). Scheduling's `SessionJoined`/`SessionLeft` become usage records
//! with sealed device identifiers; every other event a domain-event entry.
//!
//! The log is append-only and hash-chained: its entries are not rebuilt
//! (a rebuild would re-seal with fresh nonces and re-interleave positions),
//! so `reset` refuses.

use hellowork_eventstore::{Projection, ProjectionError, RecordedEvent};
use hellowork_proto::{
    auditlog::v1::{AccessKind, AccessOutcome, EntryKind},
    scheduling::v1::{DeviceIdentifiers, SessionJoined, SessionLeft},
};
use sqlx::PgConnection;

use crate::{
    domain::usage::{Device, Usage},
    ingest::Ingestor,
    store::{self, Entry},
};

/// One peer service's events into the log.
#[derive(Debug)]
pub struct IngestProjection {
    name: String,
    ingestor: Ingestor,
}

impl IngestProjection {
    /// `service` is the peer's name, e.g. `scheduling`.
    pub fn new(service: &str, ingestor: Ingestor) -> Self {
        Self {
            name: format!("auditlog-{service}"),
            ingestor,
        }
    }
}

fn decode<M: prost::Message + Default>(event: &RecordedEvent) -> Result<M, ProjectionError> {
    M::decode(event.payload.as_slice()).map_err(|error| ProjectionError::Rejected {
        event_id: event.event_id,
        event_type: event.event_type.clone(),
        reason: error.to_string(),
    })
}

fn device(raw: Option<DeviceIdentifiers>) -> Option<Device> {
    let raw = raw?;
    if raw.device_id.is_empty() {
        return None;
    }
    Some(Device {
        device_id: raw.device_id,
        // An address the front system could not read is kept as unspecified.
        ip_address: raw
            .ip_address
            .parse()
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
        user_agent: raw.user_agent,
        os_name: raw.os_name,
        os_version: raw.os_version,
    })
}

impl Projection for IngestProjection {
    fn name(&self) -> &str {
        &self.name
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let session = match event.event_type.as_str() {
            "SessionJoined" => {
                let e: SessionJoined = decode(event)?;
                Some((
                    AccessKind::SessionJoin,
                    e.booking_id,
                    e.job_seeker_id,
                    e.offering,
                    e.device,
                ))
            }
            "SessionLeft" => {
                let e: SessionLeft = decode(event)?;
                Some((
                    AccessKind::SessionLeave,
                    e.booking_id,
                    e.job_seeker_id,
                    e.offering,
                    e.device,
                ))
            }
            _ => None,
        };
        let entry = match session {
            Some((kind, booking_id, job_seeker_id, offering, raw)) => {
                let usage = Usage {
                    record_id: event.event_id.to_string(),
                    job_seeker_id,
                    occurred_at: event.occurred_at,
                    usage_window: None,
                    access_kind: kind as i32,
                    action: event.event_type.clone(),
                    method: "event".to_owned(),
                    outcome: AccessOutcome::Success as i32,
                    offering,
                    booking_id,
                    source: "scheduling".to_owned(),
                    device: device(raw),
                };
                self.ingestor.entry(&usage, &event.metadata.actor.subject)
            }
            None => Entry {
                kind: EntryKind::DomainEvent as i32,
                occurred_at: event.occurred_at,
                record_id: Some(event.event_id.to_string()),
                action: event.event_type.clone(),
                actor: event.metadata.actor.subject.clone(),
                ..Entry::default()
            },
        };
        store::append(tx, vec![entry]).await?;
        Ok(())
    }

    async fn reset(&self, _tx: &mut PgConnection) -> Result<(), ProjectionError> {
        Err(ProjectionError::Transient(
            "the hash-chained access log is append-only and never rebuilt".into(),
        ))
    }
}
