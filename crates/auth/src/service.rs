//! The services that call other services with the `system` role. A system
//! token names its caller in its subject, `system:<service>`, so that each
//! RPC can accept only the services that need it (Art. 8: least privilege
//! per caller, not only per role) and an RPC that records facts on a
//! person's behalf — a deemed consent, a usage record — hears them only
//! from the service that sees them happen.

use std::fmt;

/// The prefix of every service's token subject: `system:<service>`.
pub const SYSTEM_SUBJECT_PREFIX: &str = "system:";

/// A service that calls others as `system`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CallingService {
    /// `hellowork-registration`.
    Registration,
    /// `hellowork-consent`.
    Consent,
    /// `hellowork-scheduling`.
    Scheduling,
    /// `hellowork-audit-log` (`auditlog`, as in its proto package).
    AuditLog,
    /// `hellowork-witness`, the log's independent checkpoint witness.
    Witness,
    /// The office's front system (web and apps) through which job seekers
    /// use the services: it reports page and API access (Art. 7(1)) and
    /// seals device identifiers where they enter (Art. 7(2)).
    Front,
}

impl CallingService {
    /// Every calling service, in declaration order.
    pub const ALL: [CallingService; 6] = [
        CallingService::Registration,
        CallingService::Consent,
        CallingService::Scheduling,
        CallingService::AuditLog,
        CallingService::Witness,
        CallingService::Front,
    ];

    /// The name in its token subject, e.g. `auditlog` in `system:auditlog`.
    pub const fn name(self) -> &'static str {
        match self {
            CallingService::Registration => "registration",
            CallingService::Consent => "consent",
            CallingService::Scheduling => "scheduling",
            CallingService::AuditLog => "auditlog",
            CallingService::Witness => "witness",
            CallingService::Front => "front",
        }
    }

    /// The subject of its system token, e.g. `system:scheduling`.
    pub fn subject(self) -> String {
        format!("{SYSTEM_SUBJECT_PREFIX}{}", self.name())
    }

    /// The service a token subject names: exactly `system:<name>` of one
    /// of [`CallingService::ALL`], nothing else.
    pub fn from_subject(subject: &str) -> Option<Self> {
        let name = subject.strip_prefix(SYSTEM_SUBJECT_PREFIX)?;
        Self::ALL.into_iter().find(|service| service.name() == name)
    }
}

impl fmt::Display for CallingService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_each_service_and_parse_back() {
        let subjects: Vec<String> = CallingService::ALL.iter().map(|s| s.subject()).collect();
        assert_eq!(
            subjects,
            [
                "system:registration",
                "system:consent",
                "system:scheduling",
                "system:auditlog",
                "system:witness",
                "system:front"
            ]
        );
        for service in CallingService::ALL {
            assert_eq!(
                CallingService::from_subject(&service.subject()),
                Some(service)
            );
            assert_eq!(service.to_string(), service.name());
        }
    }

    #[test]
    fn other_subjects_name_no_service() {
        for subject in [
            "",
            "system:",
            "scheduling",
            "system:audit-log",
            "system:Scheduling",
            "system:scheduling ",
            " system:scheduling",
            "system:scheduling:x",
            "system:web",
            "web",
            "SYSTEM:scheduling",
        ] {
            assert_eq!(CallingService::from_subject(subject), None, "{subject:?}");
        }
    }
}
