//! The scheduling service's events: the prost messages of
//! `hellowork/scheduling/v1/events.proto`, stored and published as
//! protobuf, typed by their message name.

use hellowork_eventstore::DomainEvent;
use hellowork_proto::scheduling::v1::{
    AttendantDeclared, BookingCancelled, BookingCarriedOver, BookingRescheduled,
    NoRecordingAcknowledged, OnlineServicesRefused, PreSessionChecklistCompleted,
    PrivateRoomAcknowledged, RefusalLifted, SeatMoved, SeatReleased, SeatTaken, SessionBooked,
    SessionJoined, SessionLeft, SessionStopped, SlotPublished,
};
use prost::Message;

/// One fact about a schedule, a booking or a person, past tense.
#[derive(Clone, PartialEq)]
pub enum Event {
    SlotPublished(SlotPublished),
    SeatTaken(SeatTaken),
    SeatReleased(SeatReleased),
    SeatMoved(SeatMoved),
    BookingCarriedOver(BookingCarriedOver),
    SessionBooked(SessionBooked),
    BookingCancelled(BookingCancelled),
    BookingRescheduled(BookingRescheduled),
    AttendantDeclared(AttendantDeclared),
    ChecklistCompleted(PreSessionChecklistCompleted),
    PrivateRoomAcknowledged(PrivateRoomAcknowledged),
    NoRecordingAcknowledged(NoRecordingAcknowledged),
    SessionJoined(SessionJoined),
    SessionLeft(SessionLeft),
    SessionStopped(SessionStopped),
    OnlineServicesRefused(OnlineServicesRefused),
    RefusalLifted(RefusalLifted),
}

impl Event {
    /// The booking the event is about, if it is about one (its own stream's
    /// events, and those a schedule held before bookings had streams).
    pub fn booking_id(&self) -> Option<&str> {
        Some(match self {
            Self::SessionBooked(e) => &e.booking_id,
            Self::BookingCarriedOver(e) => &e.booking_id,
            Self::BookingCancelled(e) => &e.booking_id,
            Self::BookingRescheduled(e) => &e.booking_id,
            Self::AttendantDeclared(e) => &e.booking_id,
            Self::ChecklistCompleted(e) => &e.booking_id,
            Self::PrivateRoomAcknowledged(e) => &e.booking_id,
            Self::NoRecordingAcknowledged(e) => &e.booking_id,
            Self::SessionJoined(e) => &e.booking_id,
            Self::SessionLeft(e) => &e.booking_id,
            Self::SessionStopped(e) => &e.booking_id,
            _ => return None,
        })
    }
}

/// Art. 7, 8: `SessionJoined`/`SessionLeft` carry device identifiers, so
/// the debug form names the event type only and never prints payloads.
impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Event::{}", self.event_type())
    }
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Self::SlotPublished(_) => "SlotPublished",
            Self::SeatTaken(_) => "SeatTaken",
            Self::SeatReleased(_) => "SeatReleased",
            Self::SeatMoved(_) => "SeatMoved",
            Self::BookingCarriedOver(_) => "BookingCarriedOver",
            Self::SessionBooked(_) => "SessionBooked",
            Self::BookingCancelled(_) => "BookingCancelled",
            Self::BookingRescheduled(_) => "BookingRescheduled",
            Self::AttendantDeclared(_) => "AttendantDeclared",
            Self::ChecklistCompleted(_) => "PreSessionChecklistCompleted",
            Self::PrivateRoomAcknowledged(_) => "PrivateRoomAcknowledged",
            Self::NoRecordingAcknowledged(_) => "NoRecordingAcknowledged",
            Self::SessionJoined(_) => "SessionJoined",
            Self::SessionLeft(_) => "SessionLeft",
            Self::SessionStopped(_) => "SessionStopped",
            Self::OnlineServicesRefused(_) => "OnlineServicesRefused",
            Self::RefusalLifted(_) => "RefusalLifted",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Self::SlotPublished(e) => e.encode_to_vec(),
            Self::SeatTaken(e) => e.encode_to_vec(),
            Self::SeatReleased(e) => e.encode_to_vec(),
            Self::SeatMoved(e) => e.encode_to_vec(),
            Self::BookingCarriedOver(e) => e.encode_to_vec(),
            Self::SessionBooked(e) => e.encode_to_vec(),
            Self::BookingCancelled(e) => e.encode_to_vec(),
            Self::BookingRescheduled(e) => e.encode_to_vec(),
            Self::AttendantDeclared(e) => e.encode_to_vec(),
            Self::ChecklistCompleted(e) => e.encode_to_vec(),
            Self::PrivateRoomAcknowledged(e) => e.encode_to_vec(),
            Self::NoRecordingAcknowledged(e) => e.encode_to_vec(),
            Self::SessionJoined(e) => e.encode_to_vec(),
            Self::SessionLeft(e) => e.encode_to_vec(),
            Self::SessionStopped(e) => e.encode_to_vec(),
            Self::OnlineServicesRefused(e) => e.encode_to_vec(),
            Self::RefusalLifted(e) => e.encode_to_vec(),
        }
    }

    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, String> {
        fn decode<M: Message + Default>(payload: &[u8]) -> Result<M, String> {
            M::decode(payload).map_err(|error| error.to_string())
        }
        Ok(match event_type {
            "SlotPublished" => Self::SlotPublished(decode(payload)?),
            "SeatTaken" => Self::SeatTaken(decode(payload)?),
            "SeatReleased" => Self::SeatReleased(decode(payload)?),
            "SeatMoved" => Self::SeatMoved(decode(payload)?),
            "BookingCarriedOver" => {
                let carried: BookingCarriedOver = decode(payload)?;
                for copy in &carried.events {
                    Self::decode(&copy.event_type, &copy.payload)?;
                }
                Self::BookingCarriedOver(carried)
            }
            "SessionBooked" => Self::SessionBooked(decode(payload)?),
            "BookingCancelled" => Self::BookingCancelled(decode(payload)?),
            "BookingRescheduled" => Self::BookingRescheduled(decode(payload)?),
            "AttendantDeclared" => Self::AttendantDeclared(decode(payload)?),
            "PreSessionChecklistCompleted" => Self::ChecklistCompleted(decode(payload)?),
            "PrivateRoomAcknowledged" => Self::PrivateRoomAcknowledged(decode(payload)?),
            "NoRecordingAcknowledged" => Self::NoRecordingAcknowledged(decode(payload)?),
            "SessionJoined" => Self::SessionJoined(decode(payload)?),
            "SessionLeft" => Self::SessionLeft(decode(payload)?),
            "SessionStopped" => Self::SessionStopped(decode(payload)?),
            "OnlineServicesRefused" => Self::OnlineServicesRefused(decode(payload)?),
            "RefusalLifted" => Self::RefusalLifted(decode(payload)?),
            other => return Err(format!("unknown scheduling event type {other}")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_under_their_message_names() {
        let event = Event::RefusalLifted(RefusalLifted {
            refusal_id: "r".into(),
            job_seeker_id: "j".into(),
            note: String::new(),
            sealed_note: None,
        });
        assert_eq!(event.event_type(), "RefusalLifted");
        assert!(Event::decode(event.event_type(), &event.encode()).unwrap() == event);
        assert!(Event::decode("Nope", &[]).is_err());
        assert_eq!(format!("{event:?}"), "Event::RefusalLifted");
    }
}
