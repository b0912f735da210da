//! C2SP tlog-cosignature v1 (Ed25519, signature type 0x04): the independent
//! witness's statement that, at a given time, this checkpoint is the largest
//! consistent one it has seen of the log. signed_note knows only type 0x01,
//! so this module gives it a [`Signer`] ([`Cosigner`]) and a [`Verifier`]
//! ([`CosignatureVerifier`]) of the type:
//!
//! - signed message: `"cosignature/v1\ntime <seconds>\n"` then the note text;
//! - signature bytes: 8-byte big-endian time, then the 64-byte signature;
//! - key id: `SHA-256(name || 0x0A || 0x04 || public key)[:4]`.
//!
//! The message does not commit to the witness's name, so one key must never
//! serve two witnesses.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use signed_note::{Note, Signer, Verifier};

use crate::KeyError;
use crate::checkpoint::{self, CheckpointError};
use crate::note_key::{self, TYPE_COSIGNATURE_V1, TYPE_ED25519};

/// The latest cosignature time tlog-cosignature allows: 2^63 - 1 seconds.
pub const MAX_TIME: u64 = i64::MAX as u64;

const TIME_LEN: usize = 8;
const SIGNATURE_LEN: usize = TIME_LEN + ed25519_dalek::SIGNATURE_LENGTH;

/// A witness's cosigning key. Debug shows its name and id only.
#[derive(Clone)]
pub struct WitnessKey {
    name: String,
    id: u32,
    signing: SigningKey,
}

impl WitnessKey {
    /// Reads a private key `PRIVATE+KEY+<name>+<id>+base64(type || seed)` of
    /// type 0x04 (what [`crate::keys::generate`] writes for a witness) or
    /// 0x01 (a plain Ed25519 note key, as Go's `note.GenerateKey` writes;
    /// transparency-dev/formats' `NewSignerForCosignatureV1` reads both). The
    /// id must be the one of the key's own type; its cosignatures always
    /// carry the 0x04 id.
    pub fn from_note_key(skey: &str) -> Result<Self, KeyError> {
        let key = note_key::parse_secret(skey, &[TYPE_COSIGNATURE_V1, TYPE_ED25519])?;
        Ok(Self {
            id: note_key::key_id(&key.name, TYPE_COSIGNATURE_V1, &key.signing.verifying_key()),
            name: key.name,
            signing: key.signing,
        })
    }

    /// The witness's key name, which its cosignature lines carry.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key `<name>+<id>+base64(0x04 || public key)` the log and
    /// clients configure.
    pub fn verifier_key(&self) -> String {
        note_key::verifier_text(
            &self.name,
            TYPE_COSIGNATURE_V1,
            &self.signing.verifying_key(),
        )
    }

    /// This key as a signed_note [`Signer`] whose signatures carry `time`.
    pub fn at(&self, time: u64) -> Result<Cosigner<'_>, CheckpointError> {
        if time > MAX_TIME {
            return Err(CheckpointError::TimeOutOfRange(time));
        }
        Ok(Cosigner { key: self, time })
    }

    /// Adds this witness's cosignature at `now` (unix seconds) to a signed
    /// checkpoint note, keeping its other signatures (a previous cosignature
    /// by this key is replaced). It checks the note holds a checkpoint, not
    /// who signed it: the witness verifies the log's signature and the
    /// consistency with what it saw before it calls this.
    pub fn cosign(&self, note: &[u8], now: u64) -> Result<Vec<u8>, CheckpointError> {
        let cosigner = self.at(now)?;
        let mut parsed = Note::from_bytes(note)?;
        checkpoint::body(parsed.text())?;
        parsed.add_sigs(&[&cosigner])?;
        Ok(parsed.to_bytes())
    }
}

impl fmt::Debug for WitnessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WitnessKey")
            .field("name", &self.name)
            .field("id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}

/// A [`WitnessKey`] signing at one time, from [`WitnessKey::at`].
#[derive(Debug)]
pub struct Cosigner<'a> {
    key: &'a WitnessKey,
    time: u64,
}

impl Signer for Cosigner<'_> {
    fn name(&self) -> &str {
        &self.key.name
    }

    fn key_id(&self) -> u32 {
        self.key.id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        let signature = self.key.signing.sign(&message(self.time, msg));
        Ok([self.time.to_be_bytes().as_slice(), &signature.to_bytes()].concat())
    }
}

/// Verifies cosignatures by one witness key.
#[derive(Clone)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Reads a verifier key `<name>+<id>+base64(0x04 || public key)`.
    pub fn new(vkey: &str) -> Result<Self, KeyError> {
        let (name, id, key) = note_key::parse_verifier(vkey, TYPE_COSIGNATURE_V1)?;
        Ok(Self { name, id, key })
    }
}

impl Verifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    /// `sig` is the signature after the key id: time, then Ed25519.
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Some(time) = timestamp(sig).filter(|&time| time <= MAX_TIME) else {
            return false;
        };
        let Ok(signature) = ed25519_dalek::Signature::from_slice(&sig[TIME_LEN..]) else {
            return false;
        };
        self.key.verify(&message(time, msg), &signature).is_ok()
    }
}

impl fmt::Debug for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosignatureVerifier")
            .field("name", &self.name)
            .field("id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}

/// The time a cosignature's bytes (after the key id) carry, if they have a
/// cosignature's length. Whether it verifies is another matter.
pub fn timestamp(signature: &[u8]) -> Option<u64> {
    if signature.len() != SIGNATURE_LEN {
        return None;
    }
    let (time, _) = signature.split_first_chunk::<TIME_LEN>()?;
    Some(u64::from_be_bytes(*time))
}

/// The message a cosignature signs: the header and time lines, then the
/// note text (the checkpoint, with its final newline).
fn message(time: u64, text: &[u8]) -> Vec<u8> {
    [format!("cosignature/v1\ntime {time}\n").as_bytes(), text].concat()
}
