//! The roles of the office's operating model (DESIGN.md, "Roles"): who may do
//! what is decided by role, so that personal data is seen only by those whose
//! duty needs it (Art. 8) and raw device identifiers only through a legal
//! request filed by one person and approved by another (Art. 7(2)).

use std::fmt;
use std::str::FromStr;

use hellowork_proto::events::v1 as proto;
use serde::{Deserialize, Serialize};

/// A role a caller holds. Tokens carry roles by their [`Role::as_str`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A person using the online services for themself, through a front system.
    JobSeeker,
    /// A Hello Work counsellor who holds sessions with job seekers.
    Counsellor,
    /// A counsellor's supervisor; may lift a refusal of future bookings (Art. 12(1)).
    Supervisor,
    /// Office staff who run the service (terms, offerings, schedules).
    Operator,
    /// Files legal requests for raw device identifiers (Art. 7(2)).
    LegalOfficer,
    /// Approves legal requests; never the person who filed them (Art. 7(2)).
    Approver,
    /// Verifies the tamper-evident access log.
    Auditor,
    /// Another Hello Work service calling on its own behalf.
    System,
}

impl Role {
    /// Every role, in declaration order.
    pub const ALL: [Role; 8] = [
        Role::JobSeeker,
        Role::Counsellor,
        Role::Supervisor,
        Role::Operator,
        Role::LegalOfficer,
        Role::Approver,
        Role::Auditor,
        Role::System,
    ];

    /// The snake_case name used in tokens, configuration and logs, e.g. `legal_officer`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::JobSeeker => "job_seeker",
            Role::Counsellor => "counsellor",
            Role::Supervisor => "supervisor",
            Role::Operator => "operator",
            Role::LegalOfficer => "legal_officer",
            Role::Approver => "approver",
            Role::Auditor => "auditor",
            Role::System => "system",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value that names no [`Role`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    /// A name that is not the [`Role::as_str`] of any role.
    #[error("unknown role `{0}`")]
    Unknown(String),
    /// `ROLE_UNSPECIFIED` in a protobuf message.
    #[error("role is unspecified")]
    Unspecified,
}

impl FromStr for Role {
    type Err = RoleError;

    /// Parses the exact snake_case name given by [`Role::as_str`].
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| RoleError::Unknown(name.to_owned()))
    }
}

impl From<Role> for proto::Role {
    fn from(role: Role) -> Self {
        match role {
            Role::JobSeeker => proto::Role::JobSeeker,
            Role::Counsellor => proto::Role::Counsellor,
            Role::Supervisor => proto::Role::Supervisor,
            Role::Operator => proto::Role::Operator,
            Role::LegalOfficer => proto::Role::LegalOfficer,
            Role::Approver => proto::Role::Approver,
            Role::Auditor => proto::Role::Auditor,
            Role::System => proto::Role::System,
        }
    }
}

impl TryFrom<proto::Role> for Role {
    type Error = RoleError;

    fn try_from(role: proto::Role) -> Result<Self, Self::Error> {
        match role {
            proto::Role::Unspecified => Err(RoleError::Unspecified),
            proto::Role::JobSeeker => Ok(Role::JobSeeker),
            proto::Role::Counsellor => Ok(Role::Counsellor),
            proto::Role::Supervisor => Ok(Role::Supervisor),
            proto::Role::Operator => Ok(Role::Operator),
            proto::Role::LegalOfficer => Ok(Role::LegalOfficer),
            proto::Role::Approver => Ok(Role::Approver),
            proto::Role::Auditor => Ok(Role::Auditor),
            proto::Role::System => Ok(Role::System),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case_and_parse_back() {
        let names: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
        assert_eq!(
            names,
            [
                "job_seeker",
                "counsellor",
                "supervisor",
                "operator",
                "legal_officer",
                "approver",
                "auditor",
                "system"
            ]
        );
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
        }
    }

    #[test]
    fn unknown_names_are_rejected() {
        for name in [
            "",
            "JobSeeker",
            "JOB_SEEKER",
            "job-seeker",
            " counsellor",
            "admin",
        ] {
            assert_eq!(
                name.parse::<Role>(),
                Err(RoleError::Unknown(name.to_owned()))
            );
        }
    }

    #[test]
    fn serde_uses_the_snake_case_names() {
        for role in Role::ALL {
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        assert!(serde_json::from_str::<Role>("\"admin\"").is_err());
    }

    #[test]
    fn converts_to_and_from_the_proto_enum() {
        for role in Role::ALL {
            let wire = proto::Role::from(role);
            assert_eq!(
                wire.as_str_name(),
                format!("ROLE_{}", role.as_str().to_uppercase())
            );
            assert_eq!(Role::try_from(wire), Ok(role));
        }
        assert_eq!(
            Role::try_from(proto::Role::Unspecified),
            Err(RoleError::Unspecified)
        );
    }
}
