//! Domain state as the contract's messages. Times are UTC instants; the
//! front system shows them in Asia/Tokyo. Notes come opened by the caller
//! (Art. 8: the state holds them sealed).

use std::fmt::Display;

use hellowork_proto::scheduling::v1 as proto;

use hellowork_platform::ServiceError;

use crate::{
    domain::{Schedule, Slot, timestamp},
    projections::SlotRow,
    sealed::codec::Note,
    service::{BookingView, Fact, RefusalView},
};

/// The service made a view of something its state does not hold: a bug.
fn vanished(what: &str, id: impl Display) -> ServiceError {
    ServiceError::Internal(format!("{what} {id} is not in the state it was shown from").into())
}

/// A note as the contract shows it: its text and whether it was erased.
fn shown(note: Note) -> (String, bool) {
    match note {
        Note::Text(text) => (text, false),
        Note::Erased => (String::new(), true),
    }
}

pub fn slot(schedule: &Schedule, slot: &Slot) -> proto::Slot {
    proto::Slot {
        slot_id: slot.slot_id.to_string(),
        counsellor_id: slot.counsellor_id.to_string(),
        offering: slot.offering.into(),
        start_time: Some(timestamp(slot.start)),
        end_time: Some(timestamp(slot.end)),
        capacity: slot.capacity,
        booked_count: schedule.booked_count(slot.slot_id),
    }
}

/// A free slot as the read model lists it.
pub fn listed_slot(row: SlotRow) -> proto::Slot {
    proto::Slot {
        slot_id: row.slot_id,
        counsellor_id: row.counsellor_id,
        offering: row.offering,
        start_time: Some(timestamp(row.start_time)),
        end_time: Some(timestamp(row.end_time)),
        capacity: u32::try_from(row.capacity).unwrap_or_default(),
        booked_count: u32::try_from(row.booked_count).unwrap_or_default(),
    }
}

/// A booking with its stop's note, opened.
pub fn booking(view: BookingView) -> Result<proto::Booking, ServiceError> {
    let BookingView {
        booking: history,
        booking_id,
        stop_note,
    } = view;
    let b = history
        .state
        .record()
        .ok_or_else(|| vanished("booking", booking_id))?;
    let at = |fact| history.at(booking_id, fact).map(timestamp);
    Ok(proto::Booking {
        booking_id: b.booking_id.to_string(),
        slot_id: b.slot_id.to_string(),
        job_seeker_id: b.job_seeker_id.to_string(),
        counsellor_id: b.counsellor_id.to_string(),
        offering: b.offering.into(),
        start_time: Some(timestamp(b.start)),
        end_time: Some(timestamp(b.end)),
        state: b.state.into(),
        booked_at: at(Fact::Booked),
        attendants: b
            .attendants
            .iter()
            .map(|a| proto::Attendant {
                attendant_id: a.attendant_id.to_string(),
                kind: a.kind.into(),
                declared_at: history.at(a.attendant_id, Fact::Declared).map(timestamp),
            })
            .collect(),
        attendant_cutoff: Some(timestamp(b.attendant_cutoff)),
        checklist_completed_at: at(Fact::Checklist),
        private_room_acknowledged_at: at(Fact::PrivateRoom),
        no_recording_acknowledged_at: at(Fact::NoRecording),
        joined_at: at(Fact::Joined),
        left_at: at(Fact::Left),
        cancellation_reason: b
            .cancellation_reason
            .map_or(proto::CancellationReason::Unspecified, Into::into)
            .into(),
        stop: b.stop.as_ref().map(|stop| {
            let (note, note_erased) = shown(stop_note);
            proto::SessionStop {
                reason: stop.reason.into(),
                note,
                stopped_by: history.actor(booking_id, Fact::Stopped),
                stopped_at: at(Fact::Stopped),
                note_erased,
            }
        }),
    })
}

/// A refusal with its note, opened.
pub fn refusal(view: RefusalView) -> Result<proto::Refusal, ServiceError> {
    let RefusalView {
        person: history,
        refusal_id,
        note,
    } = view;
    let r = history
        .state
        .refusal(refusal_id)
        .ok_or_else(|| vanished("refusal", refusal_id))?;
    let (note, note_erased) = shown(note);
    Ok(proto::Refusal {
        refusal_id: r.refusal_id.to_string(),
        job_seeker_id: r.job_seeker_id.to_string(),
        reason: r.reason.into(),
        note,
        booking_id: r.booking_id.map(|id| id.to_string()).unwrap_or_default(),
        state: if r.lifted {
            proto::RefusalState::Lifted
        } else {
            proto::RefusalState::Active
        }
        .into(),
        refused_by: history.actor(refusal_id, Fact::Refused),
        refused_at: history.at(refusal_id, Fact::Refused).map(timestamp),
        lifted_by: if r.lifted {
            history.actor(refusal_id, Fact::Lifted)
        } else {
            String::new()
        },
        lifted_at: history.at(refusal_id, Fact::Lifted).map(timestamp),
        note_erased,
    })
}
