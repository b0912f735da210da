//! Verifying bearer tokens: an EdDSA signature by a trusted key chosen by
//! `kid`, the expected issuer and audience, `exp` and `nbf` within the
//! configured leeway, a subject with at least one role, and a well-formed
//! personnel id if the token names one.

use std::collections::HashMap;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::caller::Caller;
use crate::claims::Claims;
use crate::error::AuthError;
use crate::keys::PublicKey;

/// The largest clock-skew allowance [`TokenVerifier::new`] accepts, in seconds.
pub const MAX_LEEWAY_SECONDS: u64 = 300;

/// Tokens longer than this many bytes are rejected unread as malformed.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// What a service trusts.
#[derive(Debug, Clone)]
pub struct VerifierConfig {
    /// The only accepted `iss`.
    pub issuer: String,
    /// The only accepted `aud`.
    pub audience: String,
    /// Trusted public keys by key id (`kid` header); at least one.
    pub keys: Vec<(String, PublicKey)>,
    /// Clock-skew allowance for `exp` and `nbf`, at most [`MAX_LEEWAY_SECONDS`].
    pub leeway_seconds: u64,
}

/// A [`VerifierConfig`] that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifierConfigError {
    /// The issuer is empty.
    #[error("token issuer is empty")]
    EmptyIssuer,
    /// The audience is empty.
    #[error("token audience is empty")]
    EmptyAudience,
    /// No key is trusted, so no token could ever be accepted.
    #[error("no trusted token keys")]
    NoKeys,
    /// A key has an empty key id.
    #[error("trusted token key with an empty kid")]
    EmptyKid,
    /// Two keys share a key id.
    #[error("duplicate trusted token kid `{0}`")]
    DuplicateKid(String),
    /// The leeway exceeds [`MAX_LEEWAY_SECONDS`].
    #[error("token leeway of {0} seconds exceeds {MAX_LEEWAY_SECONDS}")]
    LeewayTooLarge(u64),
}

/// Turns a bearer token into a [`Caller`], or says why it cannot.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
}

impl TokenVerifier {
    /// A verifier trusting exactly the configured issuer, audience and keys.
    pub fn new(config: VerifierConfig) -> Result<Self, VerifierConfigError> {
        if config.issuer.is_empty() {
            return Err(VerifierConfigError::EmptyIssuer);
        }
        if config.audience.is_empty() {
            return Err(VerifierConfigError::EmptyAudience);
        }
        if config.keys.is_empty() {
            return Err(VerifierConfigError::NoKeys);
        }
        if config.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(VerifierConfigError::LeewayTooLarge(config.leeway_seconds));
        }
        let mut keys = HashMap::with_capacity(config.keys.len());
        for (kid, public_key) in config.keys {
            if kid.is_empty() {
                return Err(VerifierConfigError::EmptyKid);
            }
            if keys.contains_key(&kid) {
                return Err(VerifierConfigError::DuplicateKid(kid));
            }
            keys.insert(kid, DecodingKey::from_ed_der(public_key.as_bytes()));
        }

        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = config.leeway_seconds;
        validation.set_issuer(&[config.issuer]);
        validation.set_audience(&[config.audience]);
        Ok(Self { keys, validation })
    }

    /// Verifies a compact JWT (without the `Bearer ` prefix; see
    /// [`bearer_token`](crate::bearer_token)) and returns its caller.
    pub fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if header.alg != Algorithm::EdDSA || header.crit.is_some() {
            return Err(AuthError::Malformed);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(AuthError::UnknownKey)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|error| rejection(error.kind()))?
            .claims;
        let caller = Caller::new(claims.sub, claims.roles)?;
        match claims.personnel_id {
            None => Ok(caller),
            Some(personnel_id) => caller.with_personnel_id(personnel_id),
        }
    }
}

fn rejection(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        _ => AuthError::Malformed,
    }
}
