//! Registering a person: online by the person, at the counter by staff. What
//! the answer shows depends on who registers ([`Registrant`], Art. 8): an
//! online caller whose token does not name the person is told the id their
//! identity derives to and nothing else, so the answer is the same whether
//! or not that identity was registered before (or erased).

use hellowork_platform::{Role, ServiceError, require_any};

use super::{Context, History, NewRegistration, Registrations};
use crate::domain::{self, Channel, Command, JobSeekerId, RegisterJobSeeker, Registrant};

/// What a registration answers with.
#[derive(Debug)]
pub enum Registered {
    /// Art. 8: for an unidentified online registrant, whether or not the
    /// identity was registered before: the id it derives to, nothing else.
    IdOnly(JobSeekerId),
    /// The registration, and whether this request created it.
    Record {
        history: Box<History>,
        created: bool,
    },
}

impl Registrations {
    /// Registers a person (求職登録); the same person registering again gets
    /// the existing registration and nothing is written.
    pub async fn register(
        &self,
        cx: Context<'_>,
        registration: NewRegistration,
    ) -> Result<Registered, ServiceError> {
        // A person registers online themselves; staff register at the counter.
        match registration.channel {
            Channel::Online => require_any(cx.caller, &[Role::JobSeeker])?,
            Channel::Counter => require_any(cx.caller, &[Role::Counsellor, Role::Operator])?,
        }
        let id = domain::derived_id(
            &self.settings.identity_key,
            &registration.name,
            registration.date_of_birth,
            &registration.contact,
        );
        let registrant = match registration.channel {
            Channel::Online => Registrant::online(cx.caller.subject(), id),
            Channel::Counter => Registrant::Staff,
        };
        let command = Command::Register(RegisterJobSeeker {
            job_seeker_id: id,
            channel: registration.channel,
            registrant,
            provisional: registration.provisional,
            name: registration.name,
            date_of_birth: registration.date_of_birth,
            contact: registration.contact,
        });
        let events = self.execute(cx, id, &command).await?;
        if !registrant.sees_the_record() {
            return Ok(Registered::IdOnly(id));
        }
        Ok(Registered::Record {
            history: Box::new(self.registered(id).await?),
            created: !events.is_empty(),
        })
    }
}
