//! Domain state as the contract's messages. Times are UTC instants; the
//! front system shows them in Asia/Tokyo.

use hellowork_proto::scheduling::v1 as proto;

use super::history::{Fact, History};
use crate::domain::{Person, Schedule, Slot, timestamp};

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

pub fn booking(history: &History<Schedule>, booking_id: &str) -> Option<proto::Booking> {
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
        stop: b.stop.as_ref().map(|stop| proto::SessionStop {
            reason: stop.reason,
            note: stop.note.clone(),
            stopped_by: history.actor(booking_id, Fact::Stopped),
            stopped_at: at(Fact::Stopped),
        }),
    })
}

pub fn refusal(history: &History<Person>, refusal_id: &str) -> Option<proto::Refusal> {
    let r = history.state.refusal(refusal_id)?;
    Some(proto::Refusal {
        refusal_id: r.refused.refusal_id.clone(),
        job_seeker_id: r.refused.job_seeker_id.clone(),
        reason: r.refused.reason,
        note: r.refused.note.clone(),
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
    })
}
