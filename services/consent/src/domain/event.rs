//! The consent service's events: the `hellowork.consent.v1` event messages,
//! stored and published as protobuf (schema version 1).

use chrono::{DateTime, Datelike, Utc};
use hellowork_eventstore::DomainEvent;
use hellowork_proto::consent::v1 as proto;
use prost::Message;

use super::values::CalendarDate;

/// One consent-service event; the variant name is the protobuf message name
/// and thus the event type and the last token of its NATS subject.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    TermsDocumentPublished(proto::TermsDocumentPublished),
    MeetingAppTermsPublished(proto::MeetingAppTermsPublished),
    ConsentRecorded(proto::ConsentRecorded),
    ConsentWithdrawn(proto::ConsentWithdrawn),
    TermsRevisionAnnounced(proto::TermsRevisionAnnounced),
}

impl DomainEvent for Event {
    fn event_type(&self) -> &'static str {
        match self {
            Self::TermsDocumentPublished(_) => "TermsDocumentPublished",
            Self::MeetingAppTermsPublished(_) => "MeetingAppTermsPublished",
            Self::ConsentRecorded(_) => "ConsentRecorded",
            Self::ConsentWithdrawn(_) => "ConsentWithdrawn",
            Self::TermsRevisionAnnounced(_) => "TermsRevisionAnnounced",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn encode(&self) -> Vec<u8> {
        match self {
            Self::TermsDocumentPublished(event) => event.encode_to_vec(),
            Self::MeetingAppTermsPublished(event) => event.encode_to_vec(),
            Self::ConsentRecorded(event) => event.encode_to_vec(),
            Self::ConsentWithdrawn(event) => event.encode_to_vec(),
            Self::TermsRevisionAnnounced(event) => event.encode_to_vec(),
        }
    }

    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, String> {
        fn read<M: Message + Default>(payload: &[u8]) -> Result<M, String> {
            M::decode(payload).map_err(|e| e.to_string())
        }
        match event_type {
            "TermsDocumentPublished" => read(payload).map(Self::TermsDocumentPublished),
            "MeetingAppTermsPublished" => read(payload).map(Self::MeetingAppTermsPublished),
            "ConsentRecorded" => read(payload).map(Self::ConsentRecorded),
            "ConsentWithdrawn" => read(payload).map(Self::ConsentWithdrawn),
            "TermsRevisionAnnounced" => read(payload).map(Self::TermsRevisionAnnounced),
            other => Err(format!("unknown event type {other}")),
        }
    }
}

/// A calendar date as its protobuf message.
pub fn date_message(date: CalendarDate) -> proto::Date {
    let naive = date.naive();
    proto::Date {
        year: naive.year(),
        month: i32::try_from(naive.month()).unwrap_or_default(),
        day: i32::try_from(naive.day()).unwrap_or_default(),
    }
}

/// A date the domain itself wrote (see [`instant`] for why it cannot fail).
pub fn date_of(date: Option<&proto::Date>) -> Option<CalendarDate> {
    date.and_then(|d| CalendarDate::new(d.year, d.month, d.day).ok())
}

pub use hellowork_values::time::timestamp;

/// A timestamp the domain itself wrote; a missing or out-of-range one (only
/// possible in a corrupt payload) reads as the epoch rather than failing the
/// fold, and is caught in debug builds.
pub fn instant(at: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    let parsed =
        at.and_then(|at| DateTime::from_timestamp(at.seconds, u32::try_from(at.nanos).ok()?));
    debug_assert!(parsed.is_some(), "events carry valid timestamps");
    parsed.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_their_payload() {
        let event = Event::ConsentWithdrawn(proto::ConsentWithdrawn {
            receipt_id: "r".into(),
            job_seeker_id: "p".into(),
            withdrawn_at: Some(timestamp(DateTime::from_timestamp(1, 5).unwrap())),
        });
        let decoded = Event::decode(event.event_type(), &event.encode()).unwrap();
        assert_eq!(decoded, event);
        assert!(Event::decode("Unknown", &[]).is_err());
    }
}
