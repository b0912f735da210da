//! Domain state as the contract's messages. Times are UTC instants; the
//! front system shows them in Asia/Tokyo. Notes come opened by the caller
//! (Art. 8: the state holds them sealed).

use hellowork_proto::scheduling::v1 as proto;

use super::history::{Fact, History};
use crate::{
    domain::{Person, Schedule, Slot, timestamp},
    sealed::codec::Note,
};

/// A note as the contract shows it: its text and whether it was erased.
fn shown(note: Note) -> (String, bool) {
    match note {
        Note::Text(text) => (text, false),
        Note::Erased => (String::new(), true),
    }
}

pub fn slot(schedule: &Schedule, slot: &Slot) -> proto::Slot {
    proto::Slot {
        slot_id: slot.slot_id.clone(),
        counsellor_id: slot.counsellor_id.clone(),
        offering: slot.offering.into(),
        start_time: Some(timestamp(slot.start)),
        end_time: Some(timestamp(slot.end)),
        capacity: slot.capacity,
        booked_count: schedule.booked_count(&slot.slot_id),
    }
}

/// The booking `booking_id`; `stop_note` is its stop's note, opened.
pub fn booking(
    history: &History<Schedule>,
    booking_id: &str,
    stop_note: Note,
) -> Option<proto::Booking> {
    let schedule = &history.state;
    let b = schedule.booking(booking_id)?;
    let s = schedule.slot(&b.slot_id)?;
    let at = |fact| history.at(booking_id, fact).map(timestamp);
    Some(proto::Booking {
        booking_id: b.booking_id.clone(),
        slot_id: b.slot_id.clone(),
        job_seeker_id: b.job_seeker_id.clone(),
        counsellor_id: s.counsellor_id.clone(),
        offering: s.offering.into(),
        start_time: Some(timestamp(s.start)),
        end_time: Some(timestamp(s.end)),
        state: b.state.into(),
        booked_at: at(Fact::Booked),
        attendants: b
            .attendants
            .iter()
            .map(|a| proto::Attendant {
                attendant_id: a.attendant_id.clone(),
                kind: a.kind,
                declared_at: history.at(&a.attendant_id, Fact::Declared).map(timestamp),
            })
            .collect(),
        attendant_cutoff: Some(timestamp(b.attendant_cutoff)),
        checklist_completed_at: at(Fact::Checklist),
        private_room_acknowledged_at: at(Fact::PrivateRoom),
        no_recording_acknowledged_at: at(Fact::NoRecording),
        joined_at: at(Fact::Joined),
        left_at: at(Fact::Left),
        cancellation_reason: b.cancellation_reason.unwrap_or_default().into(),
        stop: b.stop.as_ref().map(|stop| {
            let (note, note_erased) = shown(stop_note);
            proto::SessionStop {
                reason: stop.reason,
                note,
                stopped_by: history.actor(booking_id, Fact::Stopped),
                stopped_at: at(Fact::Stopped),
                note_erased,
            }
        }),
    })
}

/// The refusal `refusal_id`; `note` is its note, opened.
pub fn refusal(history: &History<Person>, refusal_id: &str, note: Note) -> Option<proto::Refusal> {
    let r = history.state.refusal(refusal_id)?;
    let (note, note_erased) = shown(note);
    Some(proto::Refusal {
        refusal_id: r.refused.refusal_id.clone(),
        job_seeker_id: r.refused.job_seeker_id.clone(),
        reason: r.refused.reason,
        note,
        booking_id: r.refused.booking_id.clone(),
        state: r.state().into(),
        refused_by: history.actor(refusal_id, Fact::Refused),
        refused_at: history.at(refusal_id, Fact::Refused).map(timestamp),
        lifted_by: r
            .lifted
            .as_ref()
            .map(|_| history.actor(refusal_id, Fact::Lifted))
            .unwrap_or_default(),
        lifted_at: history.at(refusal_id, Fact::Lifted).map(timestamp),
        note_erased,
    })
}
