//! Signing bearer tokens with an Ed25519 private key: the development key's
//! minting and tests that need tokens of any shape, including ones signed by
//! a key no service trusts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::claims::Claims;
use crate::keys::{self, KeyError, PublicKey};
use crate::role::Role;

/// What to put in a minted token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRequest {
    /// The caller's pseudonymous subject id (`sub`).
    pub subject: String,
    /// The roles granted (`roles`); at least one.
    pub roles: Vec<Role>,
    /// How long from now the token stays valid (`exp` = now + ttl, whole seconds).
    pub ttl: Duration,
    /// The issuer the verifying services trust (`iss`).
    pub issuer: String,
    /// The audience the verifying services expect (`aud`).
    pub audience: String,
    /// When the token starts being valid (`nbf`); now when `None`.
    pub not_before: Option<SystemTime>,
    /// The personnel id of the person behind the subject (`personnel_id`),
    /// for staff; `None` for services and job seekers.
    pub personnel_id: Option<String>,
}

/// A token that could not be minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// The request names no subject.
    #[error("token subject is empty")]
    EmptySubject,
    /// The request grants no role.
    #[error("token grants no roles")]
    NoRoles,
    /// The personnel id is not 1 to 64 printable ASCII characters.
    #[error("token personnel id is malformed")]
    MalformedPersonnelId,
    /// A time is before the Unix epoch or past the range of `exp`.
    #[error("token time out of range")]
    TimeOutOfRange,
    /// The signature could not be made.
    #[error("cannot sign token")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// Signs EdDSA bearer tokens with one private key, naming it by `kid`.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    kid: String,
    encoding_key: EncodingKey,
    public_key: PublicKey,
}

impl TokenIssuer {
    /// An issuer with a new random key, for tests.
    pub fn generate(kid: impl Into<String>) -> Result<Self, KeyError> {
        Self::from_signing_key(kid.into(), &keys::generate_signing_key()?)
    }

    /// An issuer with a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(kid: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        Self::from_signing_key(kid.into(), &keys::signing_key_from_pem(pem)?)
    }

    pub(crate) fn from_signing_key(kid: String, key: &SigningKey) -> Result<Self, KeyError> {
        let der = key.to_pkcs8_der().map_err(|_| KeyError::Encoding)?;
        Ok(Self {
            kid,
            encoding_key: EncodingKey::from_ed_der(der.as_bytes()),
            public_key: PublicKey::from_verifying_key(key.verifying_key())?,
        })
    }

    /// The key id put in the `kid` header of every token.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half of the signing key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The `(kid, public key)` entry that makes a verifier trust this issuer.
    pub fn trusted_key(&self) -> (String, PublicKey) {
        (self.kid.clone(), self.public_key.clone())
    }

    /// Mints a compact JWT: `iat` now, `nbf` as requested, `exp` after `ttl`,
    /// a random `jti`.
    pub fn mint(&self, request: &MintRequest) -> Result<String, MintError> {
        if request.subject.trim().is_empty() {
            return Err(MintError::EmptySubject);
        }
        if request.roles.is_empty() {
            return Err(MintError::NoRoles);
        }
        if let Some(id) = &request.personnel_id
            && !crate::caller::is_personnel_id(id)
        {
            return Err(MintError::MalformedPersonnelId);
        }
        let now = unix_seconds(SystemTime::now())?;
        let not_before = match request.not_before {
            Some(instant) => unix_seconds(instant)?,
            None => now,
        };
        let expires = now
            .checked_add(request.ttl.as_secs())
            .ok_or(MintError::TimeOutOfRange)?;
        self.sign(&Claims {
            iss: request.issuer.clone(),
            aud: request.audience.clone(),
            sub: request.subject.clone(),
            roles: request.roles.clone(),
            exp: expires,
            nbf: not_before,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            personnel_id: request.personnel_id.clone(),
        })
    }

    /// Signs exactly the given claims, unchecked: tests use it for tokens
    /// that must be rejected (expired, without roles, …).
    pub fn sign(&self, claims: &Claims) -> Result<String, MintError> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding_key).map_err(MintError::Signing)
    }
}

fn unix_seconds(instant: SystemTime) -> Result<u64, MintError> {
    instant
        .duration_since(UNIX_EPOCH)
        .map(|since_epoch| since_epoch.as_secs())
        .map_err(|_| MintError::TimeOutOfRange)
}
