//! Why a request was not allowed: the caller could not be identified
//! (UNAUTHENTICATED) or holds no role that may do what it asked
//! (PERMISSION_DENIED). Messages are fixed text, safe to return to clients:
//! they never echo the token or any personal data (Art. 8).

use crate::role::Role;
use crate::service::CallingService;

/// A request whose caller could not be identified or may not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No bearer token was presented.
    #[error("missing bearer token")]
    Missing,
    /// The credential is not a well-formed bearer token of the accepted kind.
    #[error("malformed bearer token")]
    Malformed,
    /// The token names no key, or a key this service does not trust.
    #[error("token signed by an unknown key")]
    UnknownKey,
    /// The signature does not verify against the key the token names.
    #[error("invalid token signature")]
    BadSignature,
    /// The token's `exp` has passed.
    #[error("token has expired")]
    Expired,
    /// The token's `nbf` (or `iat`) is still in the future.
    #[error("token is not yet valid")]
    NotYetValid,
    /// The token says nothing of when it was issued (`iat`).
    #[error("token has no issue time")]
    NoIssuedAt,
    /// The token lives longer than this service accepts (`exp - iat`, or
    /// `exp` from now, beyond the maximum lifetime).
    #[error("token lifetime exceeds the maximum accepted")]
    LifetimeTooLong,
    /// The token was issued by an issuer this service does not trust.
    #[error("token issuer is not trusted")]
    WrongIssuer,
    /// The token was issued for another audience.
    #[error("token is not intended for this service")]
    WrongAudience,
    /// The token names no subject.
    #[error("token has no subject")]
    NoSubject,
    /// The token grants no role.
    #[error("token carries no roles")]
    NoRoles,
    /// A `system` token that names no known service as `system:<service>`
    /// or holds another role too, or a `system:` subject without the role.
    #[error("token does not name a known calling service")]
    UnknownService,
    /// A service's token over a connection whose client certificate does
    /// not name that service (or that presented none) where gRPC runs
    /// mutual TLS: a stolen token alone does not make its holder the service.
    #[error("system token not presented with its service's client certificate")]
    CertificateMismatch,
    /// The caller holds none of the roles the action requires.
    #[error("permission denied: requires one of the roles {}", role_list(.allowed))]
    PermissionDenied {
        /// The roles that may perform the action.
        allowed: Vec<Role>,
    },
    /// The caller may act only on their own records and the record is someone else's.
    #[error("permission denied: may act only on own records")]
    NotOwner,
    /// The caller is not one of the services the action accepts.
    #[error("permission denied: {}", service_refusal(.allowed))]
    ServiceNotAllowed {
        /// The services that may perform the action.
        allowed: Vec<CallingService>,
    },
}

impl AuthError {
    /// A stable, machine-readable name of the failure, e.g. `TOKEN_EXPIRED`,
    /// for `google.rpc.ErrorInfo.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "TOKEN_MISSING",
            AuthError::Malformed => "TOKEN_MALFORMED",
            AuthError::UnknownKey => "TOKEN_UNKNOWN_KEY",
            AuthError::BadSignature => "TOKEN_BAD_SIGNATURE",
            AuthError::Expired => "TOKEN_EXPIRED",
            AuthError::NotYetValid => "TOKEN_NOT_YET_VALID",
            AuthError::NoIssuedAt => "TOKEN_NO_ISSUED_AT",
            AuthError::LifetimeTooLong => "TOKEN_LIFETIME_TOO_LONG",
            AuthError::WrongIssuer => "TOKEN_WRONG_ISSUER",
            AuthError::WrongAudience => "TOKEN_WRONG_AUDIENCE",
            AuthError::NoSubject => "TOKEN_NO_SUBJECT",
            AuthError::NoRoles => "TOKEN_NO_ROLES",
            AuthError::UnknownService => "TOKEN_UNKNOWN_SERVICE",
            AuthError::CertificateMismatch => "CERTIFICATE_MISMATCH",
            AuthError::PermissionDenied { .. } => "ROLE_NOT_ALLOWED",
            AuthError::NotOwner => "NOT_OWNER",
            AuthError::ServiceNotAllowed { .. } => "SERVICE_NOT_ALLOWED",
        }
    }

    /// Whether this is a failure to identify the caller (UNAUTHENTICATED), as
    /// opposed to an identified caller lacking permission (PERMISSION_DENIED).
    pub fn is_unauthenticated(&self) -> bool {
        !matches!(
            self,
            AuthError::PermissionDenied { .. }
                | AuthError::NotOwner
                | AuthError::ServiceNotAllowed { .. }
        )
    }
}

fn service_refusal(services: &[CallingService]) -> String {
    if services.is_empty() {
        return "accepts no system calls".to_owned();
    }
    let names: Vec<&str> = services.iter().map(|service| service.name()).collect();
    format!("accepts system calls only from {}", names.join(", "))
}

fn role_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_denied_names_the_allowed_roles() {
        let error = AuthError::PermissionDenied {
            allowed: vec![Role::Counsellor, Role::Supervisor],
        };
        assert_eq!(
            error.to_string(),
            "permission denied: requires one of the roles counsellor, supervisor"
        );
        assert!(!error.is_unauthenticated());
        assert!(!AuthError::NotOwner.is_unauthenticated());
        assert!(AuthError::Expired.is_unauthenticated());
    }

    #[test]
    fn service_not_allowed_names_the_allowed_services() {
        let error = AuthError::ServiceNotAllowed {
            allowed: vec![CallingService::Scheduling, CallingService::Witness],
        };
        assert_eq!(
            error.to_string(),
            "permission denied: accepts system calls only from scheduling, witness"
        );
        assert!(!error.is_unauthenticated());
        assert!(AuthError::UnknownService.is_unauthenticated());
        let none = AuthError::ServiceNotAllowed { allowed: vec![] };
        assert_eq!(
            none.to_string(),
            "permission denied: accepts no system calls"
        );
    }

    #[test]
    fn reasons_are_distinct_upper_snake_case() {
        let all = [
            AuthError::Missing,
            AuthError::Malformed,
            AuthError::UnknownKey,
            AuthError::BadSignature,
            AuthError::Expired,
            AuthError::NotYetValid,
            AuthError::NoIssuedAt,
            AuthError::LifetimeTooLong,
            AuthError::WrongIssuer,
            AuthError::WrongAudience,
            AuthError::NoSubject,
            AuthError::NoRoles,
            AuthError::UnknownService,
            AuthError::CertificateMismatch,
            AuthError::PermissionDenied { allowed: vec![] },
            AuthError::NotOwner,
            AuthError::ServiceNotAllowed { allowed: vec![] },
        ];
        let reasons: std::collections::HashSet<_> = all.iter().map(AuthError::reason).collect();
        assert_eq!(reasons.len(), all.len());
        assert!(
            reasons
                .iter()
                .all(|r| r.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        );
    }
}
