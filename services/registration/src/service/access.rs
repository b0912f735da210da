//! Who may read a person's registration or eligibility (Art. 8): the person
//! themself, a supervisor, or a counsellor who serves them
//! ([`domain::require_served`]). Which roles may call at all is the
//! transport's first check; this one needs the person's record.

use hellowork_platform::{Caller, Role, ServiceError};

use super::{Registrations, database};
use crate::{domain, domain::JobSeekerId, projections::booked_with};

impl Registrations {
    /// Art. 8: refuses a counsellor who does not serve the person as it
    /// refuses one asking about no one: the answer does not depend on
    /// whether the person is registered.
    pub(super) async fn require_reader(
        &self,
        caller: &Caller,
        id: JobSeekerId,
    ) -> Result<(), ServiceError> {
        if caller.has_role(Role::Supervisor) || !caller.has_role(Role::Counsellor) {
            return Ok(());
        }
        let history = self.history(id).await?;
        let booked = booked_with(&self.pool, &id.to_string(), caller.subject())
            .await
            .map_err(database)?;
        domain::require_served(caller.subject(), history.registered_by.as_deref(), booked)?;
        Ok(())
    }
}
