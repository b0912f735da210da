//! The log's signing key. The audit-log reads it from its configuration
//! (never from the database) and signs each checkpoint it publishes.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey};
use signed_note::{Note, Signer};

use super::{CheckpointError, SignedCheckpoint};
use crate::note_key::{self, TYPE_ED25519};
use crate::{Hash, KeyError};

/// An Ed25519 note signing key (signature type 0x01). Debug shows its name
/// and id only.
#[derive(Clone)]
pub struct LogKey {
    name: String,
    id: u32,
    signing: SigningKey,
}

impl LogKey {
    /// Reads a signed_note private key, `PRIVATE+KEY+<name>+<id>+<base64>`
    /// (as `signed_note::generate_key` and Go's `note.GenerateKey` write
    /// it), type 0x01 only.
    pub fn from_note_key(skey: &str) -> Result<Self, KeyError> {
        let key = note_key::parse_secret(skey, &[TYPE_ED25519])?;
        Ok(Self {
            id: note_key::key_id(&key.name, TYPE_ED25519, &key.signing.verifying_key()),
            name: key.name,
            signing: key.signing,
        })
    }

    /// The key's name, which its signature lines carry.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The verifier key (`<name>+<id>+<base64>`) clients pin.
    pub fn verifier_key(&self) -> String {
        signed_note::new_ed25519_verifier_key(&self.name, &self.signing.verifying_key())
    }

    /// Signs the checkpoint of the tree of `size` leaves with root `root`.
    pub fn sign(
        &self,
        origin: &str,
        size: u64,
        root: Hash,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        // A newline would end the origin line early; signed notes refuse
        // every other control character.
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return Err(CheckpointError::InvalidOrigin);
        }
        let body = tlog_tiles::Checkpoint::new(origin, size, root, "")
            .map_err(|_| CheckpointError::InvalidOrigin)?
            .to_bytes();
        let mut note = Note::new(&body, &[])?;
        note.add_sigs(&[self])?;
        Ok(SignedCheckpoint {
            note: note.to_bytes(),
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// Plain Ed25519 over the note text, as `signed_note::StandardSigner` signs.
impl Signer for LogKey {
    fn name(&self) -> &str {
        &self.name
    }

    fn key_id(&self) -> u32 {
        self.id
    }

    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, ed25519_dalek::SignatureError> {
        Ok(self.signing.sign(msg).to_vec())
    }
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogKey")
            .field("name", &self.name)
            .field("id", &format_args!("{:08x}", self.id))
            .finish_non_exhaustive()
    }
}
