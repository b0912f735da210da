//! `RegisterJobSeeker`: online by the person, at the counter by staff. What
//! the answer shows depends on who registers ([`Registrant`], Art. 8): an
//! online caller whose token does not name the person is told the id their
//! identity derives to and nothing else, so the answer is the same whether
//! or not that identity was registered before (or erased).

use chrono::Utc;
use hellowork_platform::{Role, ServiceError, caller, require_any};
use hellowork_proto::registration::v1 as proto;
use tonic::Request;

use super::{RegistrationApi, metadata, parse, view};
use crate::domain::{self, Channel, Command, RegisterJobSeeker, Registrant};

impl RegistrationApi {
    pub(super) async fn register(
        &self,
        request: &Request<proto::RegisterJobSeekerRequest>,
    ) -> Result<proto::RegisterJobSeekerResponse, ServiceError> {
        let caller = caller(request)?;
        require_any(caller, &[Role::JobSeeker, Role::Counsellor, Role::Operator])?;
        let parsed = parse::registration(request.get_ref(), Utc::now())?;
        // A person registers online themselves; staff register at the counter.
        match parsed.channel {
            Channel::Online => require_any(caller, &[Role::JobSeeker])?,
            Channel::Counter => require_any(caller, &[Role::Counsellor, Role::Operator])?,
        }
        let id = domain::derived_id(
            &self.settings.identity_key,
            &parsed.name,
            parsed.date_of_birth,
            &parsed.contact,
        );
        let registrant = match parsed.channel {
            Channel::Online => Registrant::online(caller.subject(), id),
            Channel::Counter => Registrant::Staff,
        };
        let command = Command::Register(RegisterJobSeeker {
            job_seeker_id: id,
            channel: parsed.channel,
            registrant,
            provisional: parsed.provisional,
            name: parsed.name,
            date_of_birth: parsed.date_of_birth,
            contact: parsed.contact,
        });
        let events = self
            .execute(&metadata(request, caller), id, &command)
            .await?;
        if !registrant.sees_the_record() {
            return Ok(proto::RegisterJobSeekerResponse {
                job_seeker: Some(view::id_only(id)),
                created: false,
            });
        }
        let history = self.registered(id).await?;
        Ok(proto::RegisterJobSeekerResponse {
            job_seeker: view::job_seeker(&history),
            created: !events.is_empty(),
        })
    }
}
