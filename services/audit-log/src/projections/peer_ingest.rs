//! [`PeerIngest`] (Art. 7(1)): every event of registration, consent and
//! scheduling, heard on a durable JetStream consumer (`auditlog-<service>`),
//! recorded as an audit-log event in this service's own store: a join or a
//! leave as a `UsageRecorded` with its device identifiers opened and sealed
//! again per person, registration's erasure through [`crate::erasure`],
//! anything else as a `PeerEventObserved`. Event ids derive from the
//! peer's, so redelivery records nothing new.

use hellowork_eventstore::{
    AppendError, AppendOutcome, DomainEvent, EventStore, ExpectedVersion, NewEvent, Projection,
    ProjectionError, RecordedEvent, StreamId,
};
use hellowork_proto::{
    auditlog::v1::{self as proto, AccessKind, AccessOutcome},
    scheduling::v1::{DeviceIdentifiers, SessionJoined, SessionLeft},
    sealing::v1::HpkeSealed,
};
use prost::Message;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{
        event::Event,
        usage::{Device, Usage},
    },
    erasure,
    ingest::{Ingestor, usage_event_id},
    metrics,
};

/// Namespace of the ids of `PeerEventObserved` events (UUIDv5 of the peer
/// event id).
const OBSERVED_NAMESPACE: Uuid = Uuid::from_u128(0x6865_6c6c_6f77_6f72_6b2e_6f62_7365_7201);

/// One peer service's events into this service's store.
#[derive(Debug)]
pub struct PeerIngest {
    name: String,
    service: String,
    ingestor: Ingestor,
    store: EventStore,
}

impl PeerIngest {
    /// `service` is the peer's name, e.g. `scheduling`.
    pub fn new(service: &str, ingestor: Ingestor, store: EventStore) -> Self {
        Self {
            name: format!("auditlog-{service}"),
            service: service.to_owned(),
            ingestor,
            store,
        }
    }

    /// The audit-log event that records `event`, with its id.
    async fn observe(&self, event: &RecordedEvent) -> Result<(Uuid, Event), ProjectionError> {
        if self.service == "registration" && event.event_type == erasure::ERASED {
            return erasure::apply(&self.ingestor, &self.service, event, decode(event)?).await;
        }
        let session = match event.event_type.as_str() {
            "SessionJoined" => {
                let e: SessionJoined = decode(event)?;
                Some((
                    AccessKind::SessionJoin,
                    e.booking_id,
                    e.job_seeker_id,
                    e.offering,
                    e.device,
                    e.sealed_device,
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
                    e.sealed_device,
                ))
            }
            _ => None,
        };
        let session = session.and_then(|(kind, booking_id, job_seeker_id, offering, raw, sealed)| {
            match self.session_device(&booking_id, raw, sealed) {
                Ok(device) => Some((kind, booking_id, job_seeker_id, offering, device)),
                // Art. 7(2): a blob that does not open is refused and
                // counted, never recorded without its device: the event is
                // only observed.
                Err(error) => {
                    tracing::warn!(peer = %self.service, event_id = %event.event_id, field = error.field(), %error, "sealed device identifiers refused");
                    metrics::sealed_device_refused(&self.service);
                    None
                }
            }
        });
        Ok(match session {
            Some((kind, booking_id, job_seeker_id, offering, device)) => {
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
                    source: self.service.clone(),
                    device,
                };
                let mut recorded = self
                    .ingestor
                    .recorded_all(std::slice::from_ref(&usage))
                    .await
                    .map_err(|error| ProjectionError::Transient(error.into()))?;
                (
                    usage_event_id(&usage.record_id),
                    Event::UsageRecorded(Box::new(recorded.remove(0))),
                )
            }
            None => (
                Uuid::new_v5(&OBSERVED_NAMESPACE, event.event_id.as_bytes()),
                Event::PeerEventObserved(proto::PeerEventObserved {
                    service: self.service.clone(),
                    peer_event_id: event.event_id.to_string(),
                    peer_event_type: event.event_type.clone(),
                }),
            ),
        })
    }
}

impl PeerIngest {
    /// The device of a join or leave: sealed (schema 2) or, from an event
    /// stored before sealing and not yet re-sealed, in clear (schema 1).
    fn session_device(
        &self,
        booking_id: &str,
        raw: Option<DeviceIdentifiers>,
        sealed: Option<HpkeSealed>,
    ) -> Result<Option<Device>, hellowork_sealing::device::SealError> {
        let Some(sealed) = sealed else {
            return Ok(device(raw));
        };
        let hellowork_proto::sealing::v1::DeviceIdentifiers {
            device_id,
            ip_address,
            user_agent,
            os_name,
            os_version,
        } = self.ingestor.open_device(&sealed, booking_id)?;
        Ok(device(Some(DeviceIdentifiers {
            device_id,
            ip_address,
            user_agent,
            os_name,
            os_version,
        })))
    }
}

fn decode<M: Message + Default>(event: &RecordedEvent) -> Result<M, ProjectionError> {
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

impl PeerIngest {
    /// The append recording `event` in this service's store.
    async fn recording(
        &self,
        event: &RecordedEvent,
    ) -> Result<(StreamId, NewEvent, Event), ProjectionError> {
        let (event_id, observed) = self.observe(event).await?;
        let stream = StreamId::new(format!("observed-{event_id}"))
            .map_err(|error| ProjectionError::Transient(error.into()))?;
        let new = NewEvent {
            event_id,
            event_type: observed.event_type().to_owned(),
            schema_version: observed.schema_version(),
            payload: observed.encode(),
            occurred_at: event.occurred_at,
            metadata: event.metadata.clone(),
        };
        Ok((stream, new, observed))
    }

    /// Counts what an append recorded, or says why it did not.
    fn recorded(
        &self,
        event: &RecordedEvent,
        observed: &Event,
        outcome: Result<AppendOutcome, AppendError>,
    ) -> Result<(), ProjectionError> {
        match outcome {
            // Recorded before (a crash before the inbox commit): counted then.
            Ok(outcome) if outcome.already_recorded => Ok(()),
            Ok(_) => {
                match observed {
                    Event::UsageRecorded(usage) => {
                        metrics::record_usage(&self.service, usage.access_kind, 1);
                    }
                    _ => metrics::record_peer_event(&self.service),
                }
                Ok(())
            }
            Err(AppendError::Store(error)) => Err(ProjectionError::Transient(error.into())),
            Err(error) => Err(ProjectionError::Rejected {
                event_id: event.event_id,
                event_type: event.event_type.clone(),
                reason: error.to_string(),
            }),
        }
    }
}

impl Projection for PeerIngest {
    fn name(&self) -> &str {
        &self.name
    }

    /// Appends to this service's store, not in `_tx`: the derived event id
    /// makes a repeated append (after a crash before the inbox commit) a
    /// no-op, so the pair stays exactly-once.
    async fn apply(
        &self,
        _tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let (stream, new, observed) = self.recording(event).await?;
        let outcome = self
            .store
            .append(&stream, ExpectedVersion::NoStream, vec![new])
            .await;
        self.recorded(event, &observed, outcome)
    }

    /// The page's appends share commits and keep the peer's order.
    async fn apply_all(
        &self,
        _tx: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut appends = Vec::with_capacity(events.len());
        let mut observed = Vec::with_capacity(events.len());
        for event in events {
            let (stream, new, seen) = self.recording(event).await?;
            appends.push((stream, ExpectedVersion::NoStream, vec![new]));
            observed.push(seen);
        }
        let outcomes = self.store.append_in_order(appends).await;
        for ((event, seen), outcome) in events.iter().zip(&observed).zip(outcomes) {
            self.recorded(event, seen, outcome)?;
        }
        Ok(())
    }

    async fn reset(&self, _tx: &mut PgConnection) -> Result<(), ProjectionError> {
        Ok(())
    }
}
