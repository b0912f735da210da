//! Shared set-up: one issuer and audience, a verifier trusting given keys.

use std::time::Duration;

use hellowork_auth::{MintRequest, PublicKey, Role, TokenVerifier, VerifierConfig};

pub const ISSUER: &str = "hellowork-dev";
pub const AUDIENCE: &str = "hellowork";

/// The longest token lifetime [`verifier`] accepts: an hour.
pub const MAX_LIFETIME_SECONDS: u64 = 3600;

/// A verifier for [`ISSUER`] and [`AUDIENCE`] trusting `keys`, with 5 s
/// leeway and [`MAX_LIFETIME_SECONDS`].
pub fn verifier(keys: Vec<(String, PublicKey)>) -> TokenVerifier {
    TokenVerifier::new(VerifierConfig {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        keys,
        leeway_seconds: 5,
        max_lifetime_seconds: MAX_LIFETIME_SECONDS,
    })
    .unwrap()
}

/// A request for a 10-minute token for `subject` with `roles`.
pub fn mint_request(subject: &str, roles: &[Role]) -> MintRequest {
    MintRequest {
        subject: subject.to_owned(),
        roles: roles.to_vec(),
        ttl: Duration::from_secs(600),
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        not_before: None,
        personnel_id: None,
    }
}
