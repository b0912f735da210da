//! [`AccessLogProjection`]: the hash-chained access log, one entry per
//! event of this service's own (a verification excepted), projected in
//! commit order (a [`hellowork_eventstore::TailingRunner`]), so a rebuild
//! equals the live log row for row, hash for hash. Legal events also
//! update the listed request ([`super::legal_list`]).

use hellowork_eventstore::{DomainEvent, Projection, ProjectionError, RecordedEvent};
use hellowork_proto::auditlog::v1::{self as proto, EntryKind};
use prost::Message;
use sqlx::PgConnection;

use super::legal_list::{legal_request_id, list_legal};
use crate::{
    domain::{
        event::Event,
        time::{to_datetime, to_micros},
    },
    store::{self, Entry},
};

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
