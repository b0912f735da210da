//! Verifying bearer tokens: an EdDSA signature by a trusted key chosen by
//! `kid`, the expected issuer and audience, `exp` and `nbf` within the
//! configured leeway, an `iat`, a lifetime no longer than the configured
//! maximum (a stolen token is worth an hour, not a year), a subject with at
//! least one role, and a well-formed personnel id if the token names one.

use std::collections::HashMap;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::caller::Caller;
use crate::claims::Claims;
use crate::error::AuthError;
use crate::keys::PublicKey;

/// The largest clock-skew allowance [`TokenVerifier::new`] accepts, in seconds.
pub const MAX_LEEWAY_SECONDS: u64 = 300;

/// The default longest lifetime of an accepted token (`exp - iat`, and
/// `exp` from now), in seconds: an hour.
pub const DEFAULT_MAX_LIFETIME_SECONDS: u64 = 3600;

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
    /// The longest lifetime accepted: `exp - iat`, and `exp` from now (less
    /// the leeway); at least one second.
    pub max_lifetime_seconds: u64,
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
    /// A maximum lifetime of zero would refuse every token.
    #[error("token maximum lifetime is zero")]
    NoLifetime,
}

/// Turns a bearer token into a [`Caller`], or says why it cannot.
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: HashMap<String, DecodingKey>,
    validation: Validation,
    leeway_seconds: u64,
    max_lifetime_seconds: u64,
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
        if config.max_lifetime_seconds == 0 {
            return Err(VerifierConfigError::NoLifetime);
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
        Ok(Self {
            keys,
            validation,
            leeway_seconds: config.leeway_seconds,
            max_lifetime_seconds: config.max_lifetime_seconds,
        })
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
        self.check_lifetime(&claims)?;
        let caller = Caller::new(claims.sub, claims.roles)?;
        match claims.personnel_id {
            None => Ok(caller),
            Some(personnel_id) => caller.with_personnel_id(personnel_id),
        }
    }
}

impl TokenVerifier {
    /// `iat` present (absent reads as 0) and not in the future, and neither
    /// `exp - iat` nor `exp - now` longer than the maximum: a token minted
    /// for a year is refused even while fresh, and so is one whose `iat`
    /// claims it was issued just now when its `exp` is far away.
    fn check_lifetime(&self, claims: &Claims) -> Result<(), AuthError> {
        if claims.iat == 0 {
            return Err(AuthError::NoIssuedAt);
        }
        let now = jsonwebtoken::get_current_timestamp();
        if claims.iat > now + self.leeway_seconds {
            return Err(AuthError::NotYetValid);
        }
        let lifetime = claims.exp.saturating_sub(claims.iat);
        let remaining = claims.exp.saturating_sub(now + self.leeway_seconds);
        if lifetime > self.max_lifetime_seconds || remaining > self.max_lifetime_seconds {
            return Err(AuthError::LifetimeTooLong);
        }
        Ok(())
    }
}

/// The `kid` a token's header names, read without verifying anything: for
/// a process's start-up look at a token it only forwards (its `system`
/// token in production). `None` for anything that is no such token.
pub fn unverified_key_id(token: &str) -> Option<String> {
    if token.len() > MAX_TOKEN_BYTES {
        return None;
    }
    jsonwebtoken::decode_header(token).ok()?.kid
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
