//! The `Person` aggregate: one person's refusals of online services and
//! their lifting (Art. 12(1)). Pure decide/apply.

use std::collections::BTreeMap;

use hellowork_eventstore::Aggregate;
use hellowork_proto::scheduling::v1::{OnlineServicesRefused, RefusalLifted, RefusalState};

use super::{
    command::{PersonCommand, Refuse},
    error::DomainError,
    event::Event,
};

/// One refusal as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RefusalRecord {
    pub refused: OnlineServicesRefused,
    pub lifted: Option<RefusalLifted>,
}

impl RefusalRecord {
    pub fn state(&self) -> RefusalState {
        if self.lifted.is_some() {
            RefusalState::Lifted
        } else {
            RefusalState::Active
        }
    }
}

/// One person, folded from their stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Person {
    refusals: BTreeMap<String, RefusalRecord>,
}

impl Person {
    pub fn refusal(&self, id: &str) -> Option<&RefusalRecord> {
        self.refusals.get(id)
    }

    /// Art. 12(1): refused while any refusal is not lifted.
    pub fn is_refused(&self) -> bool {
        self.refusals.values().any(|r| r.lifted.is_none())
    }

    /// Art. 12(1): a supervisor refuses the person's future online services
    /// with a reason; the same refusal repeated changes nothing.
    fn refuse(&self, command: &Refuse) -> Result<Vec<Event>, DomainError> {
        if self.refusals.contains_key(&command.refusal_id) {
            return Ok(Vec::new());
        }
        Ok(vec![Event::OnlineServicesRefused(OnlineServicesRefused {
            refusal_id: command.refusal_id.clone(),
            job_seeker_id: command.job_seeker_id.clone(),
            reason: command.reason.into(),
            // Art. 8: sealed by the adapter before it is stored.
            note: command.note.clone(),
            booking_id: command.booking_id.clone(),
            sealed_note: None,
        })])
    }

    /// Art. 12(1): a supervisor lifts an active refusal.
    fn lift(&self, refusal_id: &str, note: &str) -> Result<Vec<Event>, DomainError> {
        let record = self
            .refusals
            .get(refusal_id)
            .ok_or_else(|| DomainError::RefusalNotFound(refusal_id.to_owned()))?;
        if record.lifted.is_some() {
            return Err(DomainError::RefusalNotActive(refusal_id.to_owned()));
        }
        Ok(vec![Event::RefusalLifted(RefusalLifted {
            refusal_id: refusal_id.to_owned(),
            job_seeker_id: record.refused.job_seeker_id.clone(),
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
            PersonCommand::Lift { refusal_id, note } => self.lift(refusal_id, note),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::OnlineServicesRefused(e) => {
                self.refusals.insert(
                    e.refusal_id.clone(),
                    RefusalRecord {
                        refused: e.clone(),
                        lifted: None,
                    },
                );
            }
            Event::RefusalLifted(e) => {
                if let Some(r) = self.refusals.get_mut(&e.refusal_id) {
                    r.lifted = Some(e.clone());
                }
            }
            _ => {}
        }
        self
    }
}
