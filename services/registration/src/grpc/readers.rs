//! Who may read a person's registration or eligibility (Art. 8): the person
//! themself, a supervisor, or a counsellor who serves them
//! ([`domain::require_served`]).

use hellowork_platform::{Caller, Role, ServiceError, require_self_or};

use super::{RegistrationApi, database, history::History, parse};
use crate::{domain, projections::booked_with};

impl RegistrationApi {
    /// Refuses a counsellor who does not serve the person as it refuses
    /// one asking about no one: the answer does not depend on whether the
    /// person is registered.
    pub(super) async fn require_reader(
        &self,
        caller: &Caller,
        job_seeker_id: &str,
    ) -> Result<(), ServiceError> {
        require_self_or(caller, job_seeker_id, &[Role::Counsellor, Role::Supervisor])?;
        if caller.has_role(Role::Supervisor) || !caller.has_role(Role::Counsellor) {
            return Ok(());
        }
        let id = parse::job_seeker_id(job_seeker_id)?;
        let opened = self.repository.open(id).await?;
        let history = History::of(opened.events.iter().map(|(r, e)| (r, e)));
        let booked = booked_with(&self.pool, &id.to_string(), caller.subject())
            .await
            .map_err(database)?;
        domain::require_served(caller.subject(), history.registered_by.as_deref(), booked)?;
        Ok(())
    }
}
