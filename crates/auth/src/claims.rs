//! The claims a Hello Work bearer token carries (RFC 7519 names, plus `roles`).

use serde::{Deserialize, Serialize};

use crate::role::Role;

/// The payload of a bearer token. Times are seconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Who issued the token.
    pub iss: String,
    /// The service(s) the token is meant for.
    pub aud: String,
    /// The caller's pseudonymous subject id; never a name.
    pub sub: String,
    /// The roles granted; a token without roles is rejected.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Expiry: the token is not accepted after this instant.
    pub exp: u64,
    /// Not before: the token is not accepted before this instant.
    pub nbf: u64,
    /// When the token was issued; required. Absent reads as 0, which the
    /// verifier refuses with its own reason (`TOKEN_NO_ISSUED_AT`) rather
    /// than as a malformed token.
    #[serde(default)]
    pub iat: u64,
    /// Unique token id.
    pub jti: String,
    /// The person behind the subject, as the office's personnel register
    /// numbers them: what tells two people apart whatever subjects their
    /// tokens name (the two-person rule of Art. 7(2)). Optional; absent from
    /// tokens of services and job seekers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personnel_id: Option<String>,
}
