//! Ed25519 key material: public keys services trust, and the parsing and
//! generation of private keys for the issuers that sign tokens.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{PUBLIC_KEY_LENGTH, SECRET_KEY_LENGTH, SigningKey, VerifyingKey};
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};

/// Key material that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not an Ed25519 public key in SPKI PEM (`PUBLIC KEY`) or raw 32-byte form,
    /// or a weak (small-order) key.
    #[error("invalid ed25519 public key")]
    InvalidPublicKey,
    /// Not an Ed25519 private key in PKCS#8 PEM (`PRIVATE KEY`) form.
    #[error("invalid ed25519 private key")]
    InvalidPrivateKey,
    /// The key could not be encoded as DER or PEM.
    #[error("cannot encode ed25519 key")]
    Encoding,
    /// The operating system's random number generator failed.
    #[error("cannot read random bytes for a new key")]
    Entropy(#[source] rand::rand_core::OsError),
}

/// A trusted Ed25519 public key, valid by construction.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    pem: String,
}

impl PublicKey {
    /// Parses an SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_public_key_pem(pem.trim())
            .map_err(|_| KeyError::InvalidPublicKey)?;
        Self::from_verifying_key(key)
    }

    /// Takes a raw 32-byte Ed25519 public key (RFC 8032).
    pub fn from_raw(bytes: &[u8]) -> Result<Self, KeyError> {
        let bytes: &[u8; PUBLIC_KEY_LENGTH] =
            bytes.try_into().map_err(|_| KeyError::InvalidPublicKey)?;
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidPublicKey)?;
        Self::from_verifying_key(key)
    }

    pub(crate) fn from_verifying_key(key: VerifyingKey) -> Result<Self, KeyError> {
        if key.is_weak() {
            return Err(KeyError::InvalidPublicKey);
        }
        let pem = key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| KeyError::Encoding)?;
        Ok(Self { key, pem })
    }

    /// The raw 32-byte key.
    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LENGTH] {
        self.key.as_bytes()
    }

    /// The key as SPKI PEM, the form services are configured with.
    pub fn to_pem(&self) -> &str {
        &self.pem
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url): a stable id for the key.
    pub fn thumbprint(&self) -> String {
        let x = URL_SAFE_NO_PAD.encode(self.as_bytes());
        let canonical_jwk = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical_jwk.as_bytes()))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PublicKey")
            .field(&self.thumbprint())
            .finish()
    }
}

/// A new Ed25519 private key from the operating system's random number generator.
pub(crate) fn generate_signing_key() -> Result<SigningKey, KeyError> {
    let mut secret = zeroize::Zeroizing::new([0u8; SECRET_KEY_LENGTH]);
    OsRng
        .try_fill_bytes(secret.as_mut())
        .map_err(KeyError::Entropy)?;
    Ok(SigningKey::from_bytes(&secret))
}

/// Parses a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`).
pub(crate) fn signing_key_from_pem(pem: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem.trim()).map_err(|_| KeyError::InvalidPrivateKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_and_raw_forms_give_the_same_key() {
        let signing = generate_signing_key().unwrap();
        let raw = PublicKey::from_raw(signing.verifying_key().as_bytes()).unwrap();
        let pem = PublicKey::from_pem(raw.to_pem()).unwrap();
        assert_eq!(raw, pem);
        assert!(raw.to_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(raw.thumbprint(), pem.thumbprint());
        assert_eq!(raw.thumbprint().len(), 43);
    }

    #[test]
    fn thumbprint_matches_rfc_8037_example() {
        // RFC 8037, appendix A.3.
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .unwrap();
        let key = PublicKey::from_raw(&x).unwrap();
        assert_eq!(
            key.thumbprint(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn rejects_bad_public_keys() {
        assert!(PublicKey::from_raw(&[7u8; 31]).is_err());
        assert!(PublicKey::from_raw(&[0u8; 33]).is_err());
        // The identity point has small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(PublicKey::from_raw(&identity).is_err());
        assert!(PublicKey::from_pem("not a key").is_err());
        assert!(
            signing_key_from_pem("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----").is_err()
        );
    }
}
