//! The text forms of Ed25519 keys in signed notes (c2sp.org/signed-note): the
//! private `PRIVATE+KEY+<name>+<id>+base64(type || seed)` that signed_note and
//! Go's `note` package write, and verifier keys
//! `<name>+<id>+base64(type || public key)`, the id being
//! `SHA-256(name || 0x0A || type || public key)[:4]`. One parser for the log's
//! and the witness's keys, so the two cannot disagree; errors never carry key
//! bytes.

use base64::prelude::*;
use ed25519_dalek::{SigningKey, VerifyingKey};
use zeroize::Zeroizing;

/// Signature type 0x01: Ed25519 over the note text (c2sp.org/signed-note).
pub(crate) const TYPE_ED25519: u8 = 0x01;
/// Signature type 0x04: timestamped Ed25519 cosignature
/// (c2sp.org/tlog-cosignature).
pub(crate) const TYPE_COSIGNATURE_V1: u8 = 0x04;

/// Why a key string was refused. Never carries key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not `[PRIVATE+KEY+]<name>+<8 hex digits>+<base64>` with a valid name
    /// and a 32-byte Ed25519 key.
    #[error("malformed key")]
    Malformed,
    /// A signature type this key role does not take.
    #[error("unsupported key type")]
    Type,
    /// The id does not belong to the name and key.
    #[error("key id does not match the key")]
    KeyId,
}

impl From<signed_note::VerifierError> for KeyError {
    fn from(error: signed_note::VerifierError) -> Self {
        match error {
            signed_note::VerifierError::Format => Self::Malformed,
            signed_note::VerifierError::Alg => Self::Type,
            signed_note::VerifierError::Id => Self::KeyId,
        }
    }
}

/// A parsed private key whose id has been checked against its public key.
pub(crate) struct SecretKey {
    pub(crate) name: String,
    pub(crate) signing: SigningKey,
}

/// Parses a private key of one of the signature types in `types`.
pub(crate) fn parse_secret(skey: &str, types: &[u8]) -> Result<SecretKey, KeyError> {
    let rest = skey
        .strip_prefix("PRIVATE+KEY+")
        .ok_or(KeyError::Malformed)?;
    let (name, id, key) = split(rest)?;
    let (key_type, seed) = decode(key)?;
    if !types.contains(&key_type) {
        return Err(KeyError::Type);
    }
    let signing = SigningKey::from_bytes(&seed);
    if id != key_id(name, key_type, &signing.verifying_key()) {
        return Err(KeyError::KeyId);
    }
    Ok(SecretKey {
        name: name.to_owned(),
        signing,
    })
}

/// Parses a verifier key of signature type `key_type`: (name, id, key).
pub(crate) fn parse_verifier(
    vkey: &str,
    key_type: u8,
) -> Result<(String, u32, VerifyingKey), KeyError> {
    let (name, id, key) = split(vkey)?;
    let (found, public) = decode(key)?;
    if found != key_type {
        return Err(KeyError::Type);
    }
    let public = VerifyingKey::from_bytes(&public).map_err(|_| KeyError::Malformed)?;
    if id != key_id(name, key_type, &public) {
        return Err(KeyError::KeyId);
    }
    Ok((name.to_owned(), id, public))
}

/// A verifier key's text.
pub(crate) fn verifier_text(name: &str, key_type: u8, public: &VerifyingKey) -> String {
    let encoded = BASE64_STANDARD.encode([&[key_type], public.as_bytes().as_slice()].concat());
    format!("{name}+{:08x}+{encoded}", key_id(name, key_type, public))
}

/// A private key's text.
pub(crate) fn secret_text(name: &str, key_type: u8, signing: &SigningKey) -> Zeroizing<String> {
    let key = Zeroizing::new([&[key_type], signing.as_bytes().as_slice()].concat());
    let encoded = Zeroizing::new(BASE64_STANDARD.encode(&*key));
    let id = key_id(name, key_type, &signing.verifying_key());
    Zeroizing::new(format!("PRIVATE+KEY+{name}+{id:08x}+{}", encoded.as_str()))
}

/// The key id of c2sp.org/signed-note, computed by signed_note.
pub(crate) fn key_id(name: &str, key_type: u8, public: &VerifyingKey) -> u32 {
    signed_note::key_id(name, &[&[key_type], public.as_bytes().as_slice()].concat())
}

/// `<name>+<id>+<base64>`; the base64 may itself hold `+`.
fn split(text: &str) -> Result<(&str, u32, &str), KeyError> {
    let (name, rest) = text.split_once('+').ok_or(KeyError::Malformed)?;
    let (id, key) = rest.split_once('+').ok_or(KeyError::Malformed)?;
    if !signed_note::is_key_name_valid(name)
        || id.len() != 8
        || !id.bytes().all(|byte| byte.is_ascii_hexdigit())
    {
        return Err(KeyError::Malformed);
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| KeyError::Malformed)?;
    Ok((name, id, key))
}

/// `type || 32 key bytes`, wiped from memory once copied out.
fn decode(key: &str) -> Result<(u8, Zeroizing<[u8; 32]>), KeyError> {
    let decoded = Zeroizing::new(
        BASE64_STANDARD
            .decode(key)
            .map_err(|_| KeyError::Malformed)?,
    );
    let (&key_type, bytes) = decoded.split_first().ok_or(KeyError::Malformed)?;
    let bytes: &[u8; 32] = bytes.try_into().map_err(|_| KeyError::Malformed)?;
    Ok((key_type, Zeroizing::new(*bytes)))
}
