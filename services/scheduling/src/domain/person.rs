//! The `Person` aggregate: one person's refusals of online services and
//! their lifting (Art. 12(1)). Pure decide/apply.

use std::collections::BTreeMap;

use hellowork_eventstore::Aggregate;
use hellowork_proto::scheduling::v1::{OnlineServicesRefused, RefusalLifted};

use super::{
    command::{PersonCommand, Refuse},
    contract::ConductReason,
    error::DomainError,
    event::Event,
    ids::{BookingId, JobSeekerId, RefusalId},
    note::StoredNote,
};

/// One refusal as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusalRecord {
    pub refusal_id: RefusalId,
    pub job_seeker_id: JobSeekerId,
    pub reason: ConductReason,
    /// Art. 8: why, sealed with the person's key.
    pub note: StoredNote,
    /// The booking in which the conduct happened, if any.
    pub booking_id: Option<BookingId>,
    pub lifted: bool,
}

/// One person, folded from their stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Person {
    refusals: BTreeMap<RefusalId, RefusalRecord>,
}

impl Person {
    pub fn refusal(&self, id: RefusalId) -> Option<&RefusalRecord> {
        self.refusals.get(&id)
    }

    /// Art. 12(1): refused while any refusal is not lifted.
    pub fn is_refused(&self) -> bool {
        self.refusals.values().any(|r| !r.lifted)
    }

    /// Art. 12(1): a supervisor refuses the person's future online services
    /// with a reason; the same refusal repeated changes nothing.
    fn refuse(&self, command: &Refuse) -> Result<Vec<Event>, DomainError> {
        if self.refusals.contains_key(&command.refusal_id) {
            return Ok(Vec::new());
        }
        Ok(vec![Event::OnlineServicesRefused(OnlineServicesRefused {
            refusal_id: command.refusal_id.to_string(),
            job_seeker_id: command.job_seeker_id.to_string(),
            reason: command.reason.into(),
            // Art. 8: sealed by the adapter before it is stored.
            note: command.note.clone(),
            booking_id: command
                .booking_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            sealed_note: None,
        })])
    }

    /// Art. 12(1): a supervisor lifts an active refusal.
    fn lift(&self, refusal_id: RefusalId, note: &str) -> Result<Vec<Event>, DomainError> {
        let record = self
            .refusals
            .get(&refusal_id)
            .ok_or(DomainError::RefusalNotFound(refusal_id))?;
        if record.lifted {
            return Err(DomainError::RefusalNotActive(refusal_id));
        }
        Ok(vec![Event::RefusalLifted(RefusalLifted {
            refusal_id: refusal_id.to_string(),
            job_seeker_id: record.job_seeker_id.to_string(),
            // Art. 8: sealed by the adapter before it is stored.
            note: note.to_owned(),
            sealed_note: None,
        })])
    }
}

impl Aggregate for Person {
    type Command = PersonCommand;
    type Event = Event;
    type Error = DomainError;

    fn decide(&self, command: &PersonCommand) -> Result<Vec<Event>, DomainError> {
        match command {
            PersonCommand::Refuse(c) => self.refuse(c),
            PersonCommand::Lift { refusal_id, note } => self.lift(*refusal_id, note),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::OnlineServicesRefused(e) => {
                let refusal_id = RefusalId::stored(&e.refusal_id);
                self.refusals.insert(
                    refusal_id,
                    RefusalRecord {
                        refusal_id,
                        job_seeker_id: JobSeekerId::stored(&e.job_seeker_id),
                        // Every stored refusal names its reason.
                        reason: ConductReason::try_from(e.reason)
                            .unwrap_or(ConductReason::OtherObstruction),
                        note: StoredNote::of(e.sealed_note.as_ref(), &e.note),
                        booking_id: (!e.booking_id.is_empty())
                            .then(|| BookingId::stored(&e.booking_id)),
                        lifted: false,
                    },
                );
            }
            Event::RefusalLifted(e) => {
                if let Some(r) = self.refusals.get_mut(&RefusalId::stored(&e.refusal_id)) {
                    r.lifted = true;
                }
            }
            _ => {}
        }
        self
    }
}
