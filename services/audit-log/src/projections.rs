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

use hellowork_eventstore::{
    Aggregate, AppendError, AppendOutcome, DomainEvent, EventStore, ExpectedVersion, NewEvent,
    Projection, ProjectionError, RecordedEvent, StreamId,
};
use hellowork_proto::{
    auditlog::v1::{self as proto, AccessKind, AccessOutcome, EntryKind},
    scheduling::v1::{DeviceIdentifiers, SessionJoined, SessionLeft},
    sealing::v1::HpkeSealed,
};
use prost::Message;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    domain::{
        event::Event,
        legal::{LegalCase, annotate},
        time::{to_datetime, to_micros},
        usage::{Device, Usage},
    },
    erasure,
    ingest::{Ingestor, usage_event_id},
    metrics,
    store::{self, Entry},
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

/// The access log and the legal-request list.
#[derive(Debug, Default)]
pub struct AccessLogProjection;

/// The projection's name (its checkpoint).
pub const ACCESS_LOG: &str = "access-log";

/// The log entry of one of this service's events; `None` for events the log
/// does not show (a verification).
fn entry(recorded: &RecordedEvent, event: &Event) -> Option<Entry> {
    let actor = recorded.metadata.actor.subject.clone();
    let legal = |kind: EntryKind, id: &str| Entry {
        kind: kind as i32,
        occurred_at: to_micros(recorded.occurred_at),
        record_id: Some(recorded.event_id.to_string()),
        actor: actor.clone(),
        legal_request_id: id.to_owned(),
        ..Entry::default()
    };
    Some(match event {
        Event::UsageRecorded(usage) => usage_entry(usage, actor, recorded),
        Event::PeerEventObserved(observed) => Entry {
            kind: EntryKind::DomainEvent as i32,
            occurred_at: to_micros(recorded.occurred_at),
            record_id: Some(recorded.event_id.to_string()),
            action: observed.peer_event_type.clone(),
            source: observed.service.clone(),
            actor,
            ..Entry::default()
        },
        // Art. 7(2): the filer's personnel id is on the log with the filing.
        Event::LegalRequestFiled(e) => Entry {
            reference: e.filed_by_personnel_id.clone(),
            ..legal(EntryKind::LegalRequestFiled, &e.legal_request_id)
        },
        Event::LegalRequestApproved(e) => approval_entry(
            e,
            legal(EntryKind::LegalRequestApproved, &e.legal_request_id),
        ),
        Event::LegalRequestDenied(e) => legal(EntryKind::LegalRequestDenied, &e.legal_request_id),
        Event::LegalRequestRevoked(e) => legal(EntryKind::LegalRequestRevoked, &e.legal_request_id),
        Event::DeviceRecordsDisclosed(e) => Entry {
            record_count: i64::try_from(e.record_count).unwrap_or(i64::MAX),
            ..legal(EntryKind::DeviceRecordsDisclosed, &e.legal_request_id)
        },
        Event::DeviceDisclosureRefused(e) => Entry {
            action: e.reason().as_str_name().to_owned(),
            ..legal(EntryKind::DeviceDisclosureRefused, &e.legal_request_id)
        },
        Event::SubjectErased(e) => Entry {
            kind: EntryKind::SubjectErased as i32,
            occurred_at: to_micros(recorded.occurred_at),
            record_id: Some(recorded.event_id.to_string()),
            action: e.reason().as_str_name().to_owned(),
            source: e.service.clone(),
            actor,
            reference: e.reference.clone(),
            peer_event_id: e.peer_event_id.clone(),
            ..Entry::default()
        },
        Event::RetentionShredded(e) => Entry {
            kind: EntryKind::RetentionShredded as i32,
            occurred_at: to_micros(recorded.occurred_at),
            record_id: Some(recorded.event_id.to_string()),
            // The cutoff: keys of periods ending by it were destroyed.
            window_end: to_datetime(e.before.as_ref()).map(to_micros),
            record_count: i64::try_from(e.keys_destroyed).unwrap_or(i64::MAX),
            actor,
            ..Entry::default()
        },
        Event::LogVerified(_) => return None,
    })
}

/// Art. 7(2): an approval on the log with the approver's personnel id (the
/// reference), their disclosure limit (the record count) and all their
/// terms as text (the action): `expires_at=<RFC 3339> disclosure_limit=<n>
/// notification_deferral=<seconds>s`. Staff and terms only: no job seeker,
/// no free text. An approval stored before Step 9 (no personnel id) keeps
/// the entry it had, so a rebuild reproduces the log as it was signed.
fn approval_entry(approved: &proto::LegalRequestApproved, entry: Entry) -> Entry {
    if approved.approver_personnel_id.is_empty() {
        return entry;
    }
    let expires_at = to_datetime(approved.expires_at.as_ref())
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let deferral = approved
        .notification_deferral
        .as_ref()
        .map_or(0, |d| d.seconds);
    Entry {
        action: format!(
            "expires_at={expires_at} disclosure_limit={} notification_deferral={deferral}s",
            approved.disclosure_limit
        ),
        reference: approved.approver_personnel_id.clone(),
        record_count: i64::try_from(approved.disclosure_limit).unwrap_or(i64::MAX),
        ..entry
    }
}

fn usage_entry(usage: &proto::UsageRecorded, actor: String, recorded: &RecordedEvent) -> Entry {
    let window = usage.usage_window.as_ref();
    let device = usage.device.clone().unwrap_or_default();
    let sealed = |value: &Option<hellowork_proto::sealing::v1::PersonalSealed>| {
        value
            .as_ref()
            .map(Message::encode_to_vec)
            .unwrap_or_default()
    };
    Entry {
        kind: EntryKind::Usage as i32,
        occurred_at: to_datetime(usage.occurred_at.as_ref())
            .map_or_else(|| to_micros(recorded.occurred_at), to_micros),
        record_id: Some(usage.record_id.clone()),
        subject_tag: usage.subject_tag.clone(),
        access_kind: usage.access_kind,
        action: usage.action.clone(),
        method: usage.method.clone(),
        outcome: usage.outcome,
        offering: usage.offering,
        booking_id: usage.booking_id.clone(),
        source: usage.source.clone(),
        window_start: to_datetime(window.and_then(|w| w.start_time.as_ref())),
        window_end: to_datetime(window.and_then(|w| w.end_time.as_ref())),
        device_class: usage.device_class,
        device_pseudonym: device.device_pseudonym,
        pseudonym_period: device.pseudonym_period,
        ip_prefix: device.ip_prefix,
        browser_family: device.browser_family,
        os_family: device.os_family,
        sealed_job_seeker: sealed(&usage.sealed_job_seeker_id),
        sealed_device: sealed(&usage.sealed_device),
        actor,
        ..Entry::default()
    }
}

/// The legal request an event concerns, if it is a legal event.
fn legal_request_id(event: &Event) -> Option<&str> {
    match event {
        Event::LegalRequestFiled(e) => Some(&e.legal_request_id),
        Event::LegalRequestApproved(e) => Some(&e.legal_request_id),
        Event::LegalRequestDenied(e) => Some(&e.legal_request_id),
        Event::LegalRequestRevoked(e) => Some(&e.legal_request_id),
        Event::DeviceRecordsDisclosed(e) => Some(&e.legal_request_id),
        _ => None,
    }
}

/// Folds a legal event into the listed request.
async fn list_legal(
    tx: &mut PgConnection,
    id: &str,
    recorded: &RecordedEvent,
    event: &Event,
) -> Result<(), ProjectionError> {
    let body: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT body FROM legal_requests WHERE legal_request_id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let request = body
        .map(|body| proto::LegalRequest::decode(body.as_slice()))
        .transpose()
        .map_err(|error| ProjectionError::Rejected {
            event_id: recorded.event_id,
            event_type: recorded.event_type.clone(),
            reason: error.to_string(),
        })?;
    // The listed request is the view; the filer's personnel id, which only
    // decisions need, is not kept in it.
    let case = LegalCase {
        request,
        ..LegalCase::default()
    }
    .apply(event);
    let Some(mut request) = case.request else {
        return Ok(());
    };
    annotate(
        &mut request,
        event,
        &recorded.metadata.actor.subject,
        to_micros(recorded.occurred_at),
    );
    let filed_at = to_datetime(request.filed_at.as_ref()).unwrap_or(recorded.occurred_at);
    sqlx::query(
        "INSERT INTO legal_requests (legal_request_id, filed_at, body) VALUES ($1, $2, $3) \
         ON CONFLICT (legal_request_id) DO UPDATE SET body = EXCLUDED.body",
    )
    .bind(id)
    .bind(filed_at)
    .bind(request.encode_to_vec())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Projection for AccessLogProjection {
    fn name(&self) -> &str {
        ACCESS_LOG
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_all(tx, std::slice::from_ref(event)).await
    }

    /// The page's entries are chained and written in one statement.
    async fn apply_all(
        &self,
        tx: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut entries = Vec::with_capacity(events.len());
        for recorded in events {
            let event =
                Event::decode(&recorded.event_type, &recorded.payload).map_err(|reason| {
                    ProjectionError::Rejected {
                        event_id: recorded.event_id,
                        event_type: recorded.event_type.clone(),
                        reason,
                    }
                })?;
            if let Some(id) = legal_request_id(&event) {
                list_legal(tx, id, recorded, &event).await?;
            }
            entries.extend(entry(recorded, &event));
        }
        store::append(tx, entries).await?;
        Ok(())
    }

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), ProjectionError> {
        store::reset(tx).await?;
        sqlx::query("DELETE FROM legal_requests")
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}
