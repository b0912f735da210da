//! The ids scheduling decides over, each its own type. Bookings, slots,
//! refusals and attendants are UUIDs the service derives from the request
//! that made them; a person is the job seeker registration knows; a
//! counsellor is the subject of their token.

use std::fmt;

pub use hellowork_values::JobSeekerId;
use hellowork_values::uuid_id;

uuid_id! {
    /// A booking, and the stream `scheduling-booking-<id>` of its life.
    BookingId
}

uuid_id! {
    /// A slot of a counsellor's schedule.
    SlotId
}

uuid_id! {
    /// Art. 12(1): one refusal of a person's online services.
    RefusalId
}

uuid_id! {
    /// Art. 12(3): someone declared to attend beside the person.
    AttendantId
}

/// Longest counsellor id (it names a stream).
pub const MAX_COUNSELLOR_ID: usize = 100;

/// A counsellor: the subject of their token, printable ASCII without
/// spaces, and the stream `scheduling-counsellor-<id>` of their schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CounsellorId(String);

impl CounsellorId {
    /// The id in a request or a token, around spaces trimmed.
    pub fn new(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if raw.len() > MAX_COUNSELLOR_ID || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!(
                "must be at most {MAX_COUNSELLOR_ID} printable ASCII characters without spaces"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id in an event the domain itself wrote, as it was written.
    pub fn stored(id: &str) -> Self {
        Self(id.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CounsellorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_counsellor_is_printable_ascii_without_spaces() {
        assert_eq!(CounsellorId::new(" c-1 ").unwrap().as_str(), "c-1");
        for bad in [
            "",
            "   ",
            "a b",
            "相談員",
            &"c".repeat(MAX_COUNSELLOR_ID + 1),
        ] {
            assert!(CounsellorId::new(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn an_accepted_counsellor_id_reads_back_as_written(raw in "\\PC{0,120}") {
            if let Ok(id) = CounsellorId::new(&raw) {
                prop_assert_eq!(CounsellorId::stored(id.as_str()), id);
            }
        }
    }
}
