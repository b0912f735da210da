//! The RPCs of a service as its contract declares them: enumerated from the
//! descriptor set of `hellowork-proto`, each with the roles the `Roles:`
//! line of its comment allows.

use hellowork_auth::Role;

use super::dynamic;

/// One RPC of a service, as its contract declares it.
#[derive(Debug, Clone)]
pub struct Rpc {
    pub method: String,
    /// `/pkg.Service/Method`.
    pub path: String,
    /// `.pkg.Request`.
    pub input_type: String,
    pub client_streaming: bool,
    /// The roles its comment's `Roles:` line names.
    pub roles: Vec<Role>,
}

/// Every RPC of `service` (`hellowork.registration.v1.RegistrationService`),
/// with the roles its comment allows. Panics if the service is unknown or an
/// RPC documents no roles.
pub fn rpcs(service: &str) -> Vec<Rpc> {
    let files = dynamic::descriptor_set();
    for file in &files.file {
        for (si, svc) in file.service.iter().enumerate() {
            if format!("{}.{}", file.package(), svc.name()) != service {
                continue;
            }
            return svc
                .method
                .iter()
                .enumerate()
                .map(|(mi, method)| {
                    let path = [6, si as i32, 2, mi as i32];
                    let comment = file
                        .source_code_info
                        .as_ref()
                        .and_then(|info| info.location.iter().find(|l| l.path == path))
                        .map(|l| l.leading_comments().to_owned())
                        .unwrap_or_default();
                    let roles = roles_in(&comment);
                    assert!(
                        !roles.is_empty(),
                        "{service}/{} documents no `Roles:` line",
                        method.name()
                    );
                    Rpc {
                        method: method.name().to_owned(),
                        path: format!("/{service}/{}", method.name()),
                        input_type: method.input_type().to_owned(),
                        client_streaming: method.client_streaming(),
                        roles,
                    }
                })
                .collect();
        }
    }
    panic!("no service {service} in the descriptor set")
}

/// The roles named on the `Roles:` line of an RPC comment.
pub(super) fn roles_in(comment: &str) -> Vec<Role> {
    let Some(line) = comment
        .lines()
        .map(str::trim)
        .find_map(|line| line.strip_prefix("Roles:"))
    else {
        return Vec::new();
    };
    let words: Vec<&str> = line
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    Role::ALL
        .into_iter()
        .filter(|role| words.contains(&role.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_come_from_the_roles_line() {
        assert_eq!(
            roles_in(
                " Registers.\n Roles: job_seeker (channel ONLINE), counsellor, operator (channel COUNTER).\n"
            ),
            vec![Role::JobSeeker, Role::Counsellor, Role::Operator]
        );
        assert_eq!(
            roles_in(" Roles: system (front systems and services).\n"),
            vec![Role::System]
        );
        assert!(roles_in(" No roles here.\n").is_empty());
    }

    #[test]
    fn every_rpc_of_every_service_documents_its_roles() {
        for service in [
            "hellowork.registration.v1.RegistrationService",
            "hellowork.consent.v1.ConsentService",
            "hellowork.scheduling.v1.SchedulingService",
            "hellowork.auditlog.v1.AuditLogService",
        ] {
            assert!(!rpcs(service).is_empty(), "{service}");
        }
    }
}
