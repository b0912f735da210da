//! The transparency-log core of the access log (Art. 7(2)): what the audit-log
//! service (tree in PostgreSQL), the independent witness and the client-side
//! verifier share, so the three cannot disagree about a hash, a proof or a
//! signature.
//!
//! - [`tree`]: the RFC 9162 §2.1 Merkle tree over stored hashes, with the
//!   plans of which stored hashes each operation reads (for async storage) and
//!   an in-memory tree for those who rebuild it from leaves.
//! - [`proof`]: inclusion and consistency proof verification.
//! - [`checkpoint`]: C2SP tlog-checkpoints signed by the log as C2SP signed
//!   notes, and their verification.
//! - [`cosignature`]: C2SP tlog-cosignature v1, the witness's timestamped
//!   Ed25519 cosignature.
//! - [`keys`]: the published development keys and key generation.
//!
//! The algorithms are not ours: trees and proofs are `tlog_tiles` (a port of
//! Go's sumdb/tlog), notes are `signed_note` (a port of Go's sumdb/note); this
//! crate composes them and adds only what they lack (read plans, the
//! cosignature type, strict checkpoint verification). No key byte is ever in
//! an error or in Debug output.

pub mod checkpoint;
pub mod cosignature;
pub mod keys;
pub mod proof;
pub mod tree;

mod note_key;

pub use checkpoint::CheckpointError;
pub use note_key::KeyError;
pub use proof::ProofError;
pub use tlog_tiles::Hash;
pub use tree::TreeError;

/// The origin line (C2SP tlog-checkpoint: a schema-less URL) naming Hello
/// Work Takamatsu's access log, unless configured otherwise: the log, the
/// witness and the verifier agree on it by default.
pub const DEFAULT_ORIGIN: &str = "hellowork-takamatsu/access-log";

/// RFC 9162 §2.1.1 leaf hash: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    tlog_tiles::record_hash(data)
}

/// A hash from its 32 bytes, as they arrive in a protobuf `bytes` field.
pub fn hash_from_bytes(bytes: &[u8]) -> Result<Hash, ProofError> {
    <[u8; 32]>::try_from(bytes)
        .map(Hash)
        .map_err(|_| ProofError::HashLength(bytes.len()))
}
