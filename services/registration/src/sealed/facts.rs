//! A person's record as eligibility reads it: every fact of their stream,
//! their personal data left sealed ([`PersonalData::Unopened`]). No data key
//! is fetched and nothing personal is kept, so the record can stay in
//! memory between requests (the kernel's cached repository, read while its
//! commit follower vouches that nothing newer was committed).
//!
//! [`PersonalData::Unopened`]: crate::domain::PersonalData::Unopened

use hellowork_eventstore::{Aggregate, CachedRepository, DomainEvent, Fold};

use super::codec;
use crate::domain::{DomainError, Event, JobSeeker};

/// The people's records kept for eligibility.
pub type KeptFacts = CachedRepository<Facts>;

/// A job seeker folded from unopened events.
#[derive(Debug, Default, Clone)]
pub struct Facts(pub JobSeeker);

/// An event as a facts read decodes it.
#[derive(Debug, Clone)]
pub struct Unopened(pub Event);

impl DomainEvent for Unopened {
    fn event_type(&self) -> &'static str {
        self.0.event_type()
    }

    fn schema_version(&self) -> u32 {
        self.0.schema_version()
    }

    /// Never carries personal data (see [`Event`]'s own encoding); facts
    /// are only read, never appended, through this form.
    fn encode(&self) -> Vec<u8> {
        self.0.encode()
    }

    fn decode(event_type: &str, payload: &[u8]) -> Result<Self, String> {
        codec::decode_unopened(event_type, payload)
            .map(Self)
            .map_err(|error| error.to_string())
    }
}

impl Fold for Facts {
    type Event = Unopened;
    type Error = DomainError;

    fn fold(&mut self, event: &Unopened, _: chrono::DateTime<chrono::Utc>, _: &str) {
        self.0 = std::mem::take(&mut self.0).apply(&event.0);
    }
}
