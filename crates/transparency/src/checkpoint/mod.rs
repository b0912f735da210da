//! Signed checkpoints of the access log (Art. 7(2)): a C2SP tlog-checkpoint
//! body (origin line, decimal tree size, base64 root hash, no extension
//! lines) in a C2SP signed note signed by the log's Ed25519 key, then
//! possibly witnesses' cosignature lines. The log signs ([`LogKey`]); clients
//! and the witness [`verify`]. Bodies are read and written by
//! `tlog_tiles::Checkpoint`, notes by `signed_note::Note`.

mod log_key;
mod verify;

use signed_note::{NoteError, VerificationError};

use crate::{Hash, KeyError};

pub use log_key::LogKey;
pub use verify::verify;

/// Whether `vkey` is a log verifier key (C2SP signed-note `name+id+base64`,
/// Ed25519) that [`verify`] takes, for checking configuration at start.
pub fn verify_key(vkey: &str) -> Result<(), KeyError> {
    signed_note::StandardVerifier::new(vkey)
        .map(drop)
        .map_err(KeyError::from)
}

/// A checkpoint the log signed, with what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedCheckpoint {
    /// The signed note, as served.
    pub note: Vec<u8>,
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// What a verified checkpoint says, and who cosigned it.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The witnesses among those given whose cosignature verified: key name
    /// and cosignature time (unix seconds), in the note's order.
    pub cosigned_by: Vec<(String, u64)>,
}

/// Why a checkpoint could not be signed, cosigned or verified. Names keys by
/// name and id only.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not a signed note holding a C2SP checkpoint.
    #[error("malformed checkpoint note")]
    Malformed,
    /// A verifier key given to check it by is not valid.
    #[error("invalid verifier key")]
    Key(#[from] KeyError),
    /// An origin that is not one non-empty line of printable text.
    #[error("origin must be one non-empty line without control characters")]
    InvalidOrigin,
    /// A checkpoint of another log.
    #[error("checkpoint is for origin {found:?}, expected {expected:?}")]
    WrongOrigin { expected: String, found: String },
    /// Extension lines after the root hash: our log writes none, so they
    /// are not ours.
    #[error("checkpoint has extension lines")]
    UnexpectedExtension,
    /// No valid signature by the log's key.
    #[error("checkpoint is not signed by the log key")]
    NotSignedByLog,
    /// A signature by a known key that does not verify.
    #[error("invalid signature by key {name}+{id:08x}")]
    InvalidSignature { name: String, id: u32 },
    /// Two signature lines by one key.
    #[error("more than one signature by key {name}+{id:08x}")]
    DuplicateSignature { name: String, id: u32 },
    /// Two of the keys given to verify with are one key.
    #[error("key {name}+{id:08x} is given more than once")]
    AmbiguousKey { name: String, id: u32 },
    /// A cosignature time beyond 2^63 - 1, which tlog-cosignature forbids.
    #[error("cosignature time {0} is out of range")]
    TimeOutOfRange(u64),
    /// Anything else signed_note reports (an invalid signer name, a failed
    /// signature), which the keys of this crate do not produce.
    #[error("signed note")]
    Note(#[source] NoteError),
}

impl From<NoteError> for CheckpointError {
    fn from(error: NoteError) -> Self {
        match error {
            NoteError::MalformedNote => Self::Malformed,
            NoteError::UnverifiedNote => Self::NotSignedByLog,
            NoteError::InvalidSignature { name, id } => Self::InvalidSignature { name, id },
            NoteError::VerificationError(VerificationError::AmbiguousKey { name, id }) => {
                Self::AmbiguousKey { name, id }
            }
            other => Self::Note(other),
        }
    }
}

/// The checkpoint body a note's text holds, by `tlog_tiles`' strict parser
/// (canonical decimal size, 32-byte base64 root, newline-terminated lines).
pub(crate) fn body(text: &[u8]) -> Result<tlog_tiles::Checkpoint, CheckpointError> {
    tlog_tiles::Checkpoint::from_bytes(text).map_err(|_| CheckpointError::Malformed)
}
