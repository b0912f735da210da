//! Caller identity for the Hello Work services.
//!
//! Every RPC carries a bearer token: a JWT signed with Ed25519 (EdDSA) that
//! names a pseudonymous subject and its [`Role`]s and, for staff, the
//! personnel id of the person behind the subject. A [`TokenVerifier`] checks
//! it against the configured public keys, issuer, audience, expiry and
//! not-before; the [`AuthInterceptor`] does so for every request and hands
//! handlers a [`Caller`], on which they check the roles the RPC allows
//! ([`Caller::require_any`]) and that a job seeker acts only on their own
//! records ([`Caller::require_self_or`]). This is the least privilege per
//! role of Art. 8, and what keeps raw device identifiers behind legal
//! officers and approvers (Art. 7(2)).
//!
//! For development and tests, [`DevKey`] keeps a local signing key (never
//! in production) and [`TokenIssuer`] mints tokens with any key.

mod bearer;
mod caller;
mod claims;
mod dev_key;
mod error;
mod interceptor;
mod issuer;
mod keys;
mod role;
mod service;
mod verifier;

pub use bearer::bearer_token;
pub use caller::{Caller, MAX_PERSONNEL_ID_BYTES, is_personnel_id};
pub use claims::Claims;
pub use dev_key::{
    DEV_KEY_FILE, DEV_KID_PREFIX, DevKey, DevKeyError, PRODUCTION, is_development_kid,
};
pub use error::AuthError;
pub use interceptor::{AUTHORIZATION, AuthInterceptor, caller};
pub use issuer::{MintError, MintRequest, TokenIssuer};
pub use keys::{KeyError, PublicKey};
pub use role::{Role, RoleError};
pub use service::{CallingService, SYSTEM_SUBJECT_PREFIX};
pub use verifier::{
    DEFAULT_MAX_LIFETIME_SECONDS, MAX_LEEWAY_SECONDS, MAX_TOKEN_BYTES, TokenVerifier,
    VerifierConfig, VerifierConfigError, unverified_key_id,
};
