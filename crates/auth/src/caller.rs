//! The identified caller of a request and the permission checks handlers make
//! on it: least privilege per role (Art. 8), a job seeker acting only on
//! their own records, and a service (the `system` role) named by its
//! subject, so that each RPC can accept only the services that need it.

use std::collections::BTreeSet;

use crate::error::AuthError;
use crate::role::Role;
use crate::service::{CallingService, SYSTEM_SUBJECT_PREFIX};

/// Who is calling: a pseudonymous subject, the roles it holds (at least
/// one), for staff the personnel id of the person behind it, and for a
/// service the service it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    subject: String,
    roles: BTreeSet<Role>,
    personnel_id: Option<String>,
    service: Option<CallingService>,
}

/// The longest personnel id a token may carry, in bytes.
pub const MAX_PERSONNEL_ID_BYTES: usize = 64;

/// Whether `id` is a well-formed personnel id: 1 to
/// [`MAX_PERSONNEL_ID_BYTES`] printable ASCII characters, no spaces.
pub fn is_personnel_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_PERSONNEL_ID_BYTES && id.bytes().all(|b| b.is_ascii_graphic())
}

/// The order [`Caller::actor_role`] picks from, most specific first.
const ACTOR_ROLE_PRECEDENCE: [Role; 8] = [
    Role::LegalOfficer,
    Role::Approver,
    Role::Auditor,
    Role::Supervisor,
    Role::Counsellor,
    Role::Operator,
    Role::JobSeeker,
    Role::System,
];

impl Caller {
    /// A caller with the given subject and roles.
    ///
    /// Fails with [`AuthError::NoSubject`] for a blank subject,
    /// [`AuthError::NoRoles`] when no role is given, and
    /// [`AuthError::UnknownService`] unless the `system` role and a
    /// `system:` subject go together: a service's token names a known
    /// service ([`CallingService::from_subject`]) and holds no other role
    /// (a service is no person: it never passes a check meant for one), and
    /// no one else's subject starts with `system:`.
    pub fn new(
        subject: impl Into<String>,
        roles: impl IntoIterator<Item = Role>,
    ) -> Result<Self, AuthError> {
        let subject = subject.into();
        if subject.trim().is_empty() {
            return Err(AuthError::NoSubject);
        }
        let roles: BTreeSet<Role> = roles.into_iter().collect();
        if roles.is_empty() {
            return Err(AuthError::NoRoles);
        }
        let service = if roles.contains(&Role::System) {
            if roles.len() > 1 {
                return Err(AuthError::UnknownService);
            }
            Some(CallingService::from_subject(&subject).ok_or(AuthError::UnknownService)?)
        } else if subject.starts_with(SYSTEM_SUBJECT_PREFIX) {
            return Err(AuthError::UnknownService);
        } else {
            None
        };
        Ok(Self {
            subject,
            roles,
            personnel_id: None,
            service,
        })
    }

    /// The service calling, when the caller is one (the `system` role);
    /// `None` for a person.
    pub fn service(&self) -> Option<CallingService> {
        self.service
    }

    /// The same caller with the personnel id of the person behind it.
    ///
    /// Fails with [`AuthError::Malformed`] unless the id is well formed
    /// ([`is_personnel_id`]).
    pub fn with_personnel_id(mut self, personnel_id: impl Into<String>) -> Result<Self, AuthError> {
        let personnel_id = personnel_id.into();
        if !is_personnel_id(&personnel_id) {
            return Err(AuthError::Malformed);
        }
        self.personnel_id = Some(personnel_id);
        Ok(self)
    }

    /// The personnel id of the person behind the subject (the token's
    /// `personnel_id` claim), if the token names one. Two subjects with one
    /// personnel id are one person (Art. 7(2): the two-person rule).
    pub fn personnel_id(&self) -> Option<&str> {
        self.personnel_id.as_deref()
    }

    /// The pseudonymous subject id (the token's `sub`); never a name.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The roles held; never empty.
    pub fn roles(&self) -> &BTreeSet<Role> {
        &self.roles
    }

    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Succeeds when the caller holds at least one of `allowed`; otherwise
    /// [`AuthError::PermissionDenied`] naming them.
    ///
    /// [`Role::System`] in `allowed` admits no one: a service is admitted
    /// by name ([`Caller::require_service`]), so that no RPC accepts every
    /// service by a role they all hold.
    pub fn require_any(&self, allowed: &[Role]) -> Result<(), AuthError> {
        if allowed.iter().any(|role| self.holds_personal(*role)) {
            return Ok(());
        }
        Err(AuthError::PermissionDenied {
            allowed: allowed.to_vec(),
        })
    }

    /// Access to a record owned by `owner_subject`: a caller holding one of
    /// `others` may act on anyone's record; a caller holding `self_role` (e.g.
    /// [`Role::JobSeeker`]) only on a record whose owner is the caller itself.
    ///
    /// Fails with [`AuthError::NotOwner`] when the caller holds only
    /// `self_role` and the record is someone else's, and with
    /// [`AuthError::PermissionDenied`] when it holds none of the roles.
    /// As in [`Caller::require_any`], [`Role::System`] admits no one.
    pub fn require_self_or(
        &self,
        owner_subject: &str,
        self_role: Role,
        others: &[Role],
    ) -> Result<(), AuthError> {
        if others.iter().any(|role| self.holds_personal(*role)) {
            return Ok(());
        }
        if !self.holds_personal(self_role) {
            let mut allowed = vec![self_role];
            allowed.extend_from_slice(others);
            return Err(AuthError::PermissionDenied { allowed });
        }
        if self.subject == owner_subject {
            return Ok(());
        }
        Err(AuthError::NotOwner)
    }

    /// Succeeds when the caller is one of the services `allowed`;
    /// otherwise [`AuthError::ServiceNotAllowed`] (a person, or another
    /// service).
    pub fn require_service(&self, allowed: &[CallingService]) -> Result<CallingService, AuthError> {
        match self.service {
            Some(service) if allowed.contains(&service) => Ok(service),
            _ => Err(AuthError::ServiceNotAllowed {
                allowed: allowed.to_vec(),
            }),
        }
    }

    /// Whether the caller holds `role` as a person may: never
    /// [`Role::System`], which only [`Caller::require_service`] admits.
    fn holds_personal(&self, role: Role) -> bool {
        role != Role::System && self.has_role(role)
    }

    /// The role to record as the actor of the events this caller causes: the
    /// most specific role it holds, in the order legal_officer, approver,
    /// auditor, supervisor, counsellor, operator, job_seeker, system. The
    /// duties of Art. 7(2) come first because the log must show in which of
    /// them a disclosure was made; `system` comes last because a person's role
    /// says more than a service identity.
    pub fn actor_role(&self) -> Role {
        let role = ACTOR_ROLE_PRECEDENCE
            .into_iter()
            .find(|role| self.has_role(*role));
        debug_assert!(role.is_some(), "a caller always holds a role");
        role.unwrap_or(Role::System)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(subject: &str, roles: &[Role]) -> Caller {
        Caller::new(subject, roles.iter().copied()).unwrap()
    }

    #[test]
    fn needs_a_subject_and_a_role() {
        assert_eq!(
            Caller::new("", [Role::Counsellor]),
            Err(AuthError::NoSubject)
        );
        assert_eq!(
            Caller::new("  ", [Role::Counsellor]),
            Err(AuthError::NoSubject)
        );
        assert_eq!(Caller::new("s-1", []), Err(AuthError::NoRoles));
        let duplicated = caller("s-1", &[Role::Counsellor, Role::Counsellor]);
        assert_eq!(duplicated.roles().len(), 1);
        assert_eq!(duplicated.subject(), "s-1");
    }

    #[test]
    fn a_personnel_id_is_optional_and_well_formed() {
        let approver = caller("approver-1", &[Role::Approver]);
        assert_eq!(approver.personnel_id(), None);
        let named = approver.clone().with_personnel_id("P-0042").unwrap();
        assert_eq!(named.personnel_id(), Some("P-0042"));
        assert_eq!(named.subject(), "approver-1");
        for bad in [
            "",
            " ",
            "P 42",
            "P-\n",
            &"p".repeat(MAX_PERSONNEL_ID_BYTES + 1),
            "職員",
        ] {
            assert_eq!(
                approver.clone().with_personnel_id(bad),
                Err(AuthError::Malformed),
                "{bad:?}"
            );
        }
        assert!(is_personnel_id(&"p".repeat(MAX_PERSONNEL_ID_BYTES)));
    }

    #[test]
    fn require_any_accepts_one_matching_role() {
        let counsellor = caller("c-1", &[Role::Counsellor]);
        assert!(counsellor.has_role(Role::Counsellor));
        assert!(!counsellor.has_role(Role::Supervisor));
        assert_eq!(
            counsellor.require_any(&[Role::Supervisor, Role::Counsellor]),
            Ok(())
        );
        assert_eq!(
            counsellor.require_any(&[Role::LegalOfficer, Role::Approver]),
            Err(AuthError::PermissionDenied {
                allowed: vec![Role::LegalOfficer, Role::Approver]
            })
        );
        assert!(matches!(
            counsellor.require_any(&[]),
            Err(AuthError::PermissionDenied { .. })
        ));
    }

    #[test]
    fn job_seeker_acts_only_on_own_records() {
        let seeker = caller("seeker-1", &[Role::JobSeeker]);
        let staff = [Role::Counsellor, Role::Supervisor];
        assert_eq!(
            seeker.require_self_or("seeker-1", Role::JobSeeker, &staff),
            Ok(())
        );
        assert_eq!(
            seeker.require_self_or("seeker-2", Role::JobSeeker, &staff),
            Err(AuthError::NotOwner)
        );
    }

    #[test]
    fn listed_other_roles_act_on_anyones_records() {
        let staff = [Role::Counsellor, Role::Supervisor];
        let counsellor = caller("c-1", &[Role::Counsellor]);
        assert_eq!(
            counsellor.require_self_or("seeker-2", Role::JobSeeker, &staff),
            Ok(())
        );
        let operator = caller("o-1", &[Role::Operator]);
        assert_eq!(
            operator.require_self_or("seeker-2", Role::JobSeeker, &staff),
            Err(AuthError::PermissionDenied {
                allowed: vec![Role::JobSeeker, Role::Counsellor, Role::Supervisor]
            })
        );
        assert!(matches!(
            operator.require_self_or("o-1", Role::JobSeeker, &staff),
            Err(AuthError::PermissionDenied { .. })
        ));
    }

    #[test]
    fn actor_role_picks_the_most_specific_role() {
        assert_eq!(
            caller("s", &[Role::JobSeeker]).actor_role(),
            Role::JobSeeker
        );
        assert_eq!(
            caller("system:scheduling", &[Role::System]).actor_role(),
            Role::System
        );
        assert_eq!(
            caller("s", &[Role::Counsellor, Role::Supervisor]).actor_role(),
            Role::Supervisor
        );
        assert_eq!(
            caller("s", &[Role::Operator, Role::LegalOfficer]).actor_role(),
            Role::LegalOfficer
        );
        for role in Role::ALL {
            assert!(ACTOR_ROLE_PRECEDENCE.contains(&role));
            let subject = if role == Role::System {
                "system:witness"
            } else {
                "s"
            };
            assert_eq!(caller(subject, &[role]).actor_role(), role);
        }
    }

    #[test]
    fn a_system_caller_is_a_known_service_and_nothing_else() {
        for service in CallingService::ALL {
            let caller = caller(&service.subject(), &[Role::System]);
            assert_eq!(caller.service(), Some(service));
        }
        for subject in [
            "web",
            "system:",
            "system:web",
            "system:audit-log",
            "scheduling",
        ] {
            assert_eq!(
                Caller::new(subject, [Role::System]),
                Err(AuthError::UnknownService),
                "{subject:?}"
            );
        }
        // A service is no person, and no person is a service.
        assert_eq!(
            Caller::new("system:scheduling", [Role::System, Role::Operator]),
            Err(AuthError::UnknownService)
        );
        assert_eq!(
            Caller::new("system:scheduling", [Role::Counsellor]),
            Err(AuthError::UnknownService)
        );
        assert_eq!(caller("c-1", &[Role::Counsellor]).service(), None);
    }

    #[test]
    fn services_are_admitted_by_name_only() {
        let scheduling = caller("system:scheduling", &[Role::System]);
        assert_eq!(
            scheduling.require_service(&[CallingService::Witness, CallingService::Scheduling]),
            Ok(CallingService::Scheduling)
        );
        assert_eq!(
            scheduling.require_service(&[CallingService::Registration]),
            Err(AuthError::ServiceNotAllowed {
                allowed: vec![CallingService::Registration]
            })
        );
        // The role they all hold admits none of them.
        assert!(matches!(
            scheduling.require_any(&[Role::System]),
            Err(AuthError::PermissionDenied { .. })
        ));
        assert!(matches!(
            scheduling.require_self_or("system:scheduling", Role::System, &[Role::System]),
            Err(AuthError::PermissionDenied { .. })
        ));
        // A person is no service.
        let counsellor = caller("c-1", &[Role::Counsellor]);
        assert!(matches!(
            counsellor.require_service(&CallingService::ALL),
            Err(AuthError::ServiceNotAllowed { .. })
        ));
    }
}
