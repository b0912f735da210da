//! Who may act on what. A job seeker's token subject is their job seeker id
//! and a counsellor's is their counsellor id, so ownership compares the two.
//! Which roles may call an operation at all is the transport's first check;
//! these need the resource, so they run once it is loaded.

use hellowork_platform::{Caller, Role, ServiceError};

use crate::domain::{CounsellorId, JobSeekerId};

/// `owner_role` acting on their own resource, or any of `others`.
pub fn require_owner_or(
    caller: &Caller,
    owner_role: Role,
    owner: &CounsellorId,
    others: &[Role],
) -> Result<(), ServiceError> {
    if others.iter().any(|role| caller.has_role(*role))
        || (caller.has_role(owner_role) && caller.subject() == owner.as_str())
    {
        return Ok(());
    }
    Err(ServiceError::PermissionDenied(
        "not allowed for this caller on this resource".to_owned(),
    ))
}

/// The parties to a booking who may act on it, beside the roles in `others`.
#[derive(Debug, Clone, Copy)]
pub struct Parties<'a> {
    /// The booking's person.
    pub job_seeker: bool,
    /// The counsellor of the booking's slot.
    pub counsellor: bool,
    pub others: &'a [Role],
}

impl Parties<'_> {
    /// The person, their counsellor and supervisors.
    pub const ALL: Parties<'static> = Parties {
        job_seeker: true,
        counsellor: true,
        others: &[Role::Supervisor],
    };
    /// The person and their counsellor only.
    pub const BOTH: Parties<'static> = Parties {
        job_seeker: true,
        counsellor: true,
        others: &[],
    };
    /// The person alone (what they confirm, their presence).
    pub const PERSON: Parties<'static> = Parties {
        job_seeker: true,
        counsellor: false,
        others: &[],
    };
    /// Art. 12(1): who conducts the session (stopping it).
    pub const CONDUCT: Parties<'static> = Parties {
        job_seeker: false,
        counsellor: true,
        others: &[Role::Supervisor],
    };

    /// Whether `caller` is one of these parties to the booking of
    /// `job_seeker_id` with `counsellor_id`.
    pub fn require(
        self,
        caller: &Caller,
        job_seeker_id: JobSeekerId,
        counsellor_id: &CounsellorId,
    ) -> Result<(), ServiceError> {
        let own_person = self.job_seeker
            && caller.has_role(Role::JobSeeker)
            && JobSeekerId::new(caller.subject()) == Ok(job_seeker_id);
        let own_slot = self.counsellor
            && caller.has_role(Role::Counsellor)
            && caller.subject() == counsellor_id.as_str();
        if own_person || own_slot || self.others.iter().any(|role| caller.has_role(*role)) {
            return Ok(());
        }
        Err(ServiceError::PermissionDenied(
            "not allowed for this caller on this booking".to_owned(),
        ))
    }
}
