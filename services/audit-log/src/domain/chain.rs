//! Tamper evidence: every access-log entry stores
//! `hash = SHA-256(previous hash || canonical bytes of the entry)`, the
//! canonical bytes including the entry's position, so an edited, deleted or
//! reordered row breaks the chain at its position; a separately stored head
//! (last position and hash) makes a truncated tail visible too.

use hellowork_proto::auditlog::v1 as proto;
use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

/// Builds the canonical bytes of an entry: each field tagged and
/// length-prefixed, so no two different entries encode alike.
#[derive(Debug, Default)]
pub struct Canonical(Vec<u8>);

impl Canonical {
    pub fn new() -> Self {
        Self(b"hellowork.auditlog.v1.entry".to_vec())
    }

    pub fn field(mut self, value: &[u8]) -> Self {
        self.0
            .extend_from_slice(&(value.len() as u64).to_be_bytes());
        self.0.extend_from_slice(value);
        self
    }

    pub fn text(self, value: &str) -> Self {
        self.field(value.as_bytes())
    }

    pub fn opt_text(self, value: Option<&str>) -> Self {
        match value {
            None => self.field(b"\x00null"),
            Some(v) => self.field(b"\x01").text(v),
        }
    }

    pub fn int(self, value: i64) -> Self {
        self.field(&value.to_be_bytes())
    }

    pub fn opt_int(self, value: Option<i64>) -> Self {
        match value {
            None => self.field(b"\x00null"),
            Some(v) => self.field(b"\x01").int(v),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The chain hash of an entry after `previous`.
pub fn link(previous: &[u8], canonical: &Canonical) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(canonical.bytes());
    hasher.finalize().into()
}

/// How a chain fails verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainFailure {
    /// A row's content no longer matches its hash.
    HashMismatch,
    /// A position is missing.
    MissingEntry,
    /// A row's link does not name its predecessor's hash.
    BrokenLink,
    /// The chain ends before the recorded head.
    Truncated,
}

/// Where and how a chain failed as the contract names it, in `VerifyLog`'s
/// answer and in the `LogVerified` event alike: position 0 and no failure
/// when it is intact.
pub fn reported(failure: Option<(u64, ChainFailure)>) -> (u64, proto::ChainFailure) {
    match failure {
        None => (0, proto::ChainFailure::Unspecified),
        Some((position, failure)) => (
            position,
            match failure {
                ChainFailure::HashMismatch => proto::ChainFailure::HashMismatch,
                ChainFailure::MissingEntry => proto::ChainFailure::MissingEntry,
                ChainFailure::BrokenLink => proto::ChainFailure::BrokenLink,
                ChainFailure::Truncated => proto::ChainFailure::Truncated,
            },
        ),
    }
}

/// A stored entry as verification sees it.
#[derive(Debug, Clone)]
pub struct StoredLink {
    pub sequence: u64,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    /// The hash recomputed from the row's content and `prev_hash`.
    pub recomputed: [u8; 32],
}

/// Incremental verification over entries in position order.
#[derive(Debug)]
pub struct Verifier {
    pub expected_sequence: u64,
    pub expected_prev: Vec<u8>,
    pub checked: u64,
}

impl Verifier {
    pub fn new(from: u64, prev: Vec<u8>) -> Self {
        Self {
            expected_sequence: from,
            expected_prev: prev,
            checked: 0,
        }
    }

    /// Checks the next stored entry; `Err((position, failure))` on the first bad one.
    pub fn check(&mut self, link: &StoredLink) -> Result<(), (u64, ChainFailure)> {
        if link.sequence != self.expected_sequence {
            return Err((self.expected_sequence, ChainFailure::MissingEntry));
        }
        if link.prev_hash != self.expected_prev {
            return Err((link.sequence, ChainFailure::BrokenLink));
        }
        if link.hash != link.recomputed {
            return Err((link.sequence, ChainFailure::HashMismatch));
        }
        self.expected_prev = link.hash.clone();
        self.expected_sequence += 1;
        self.checked += 1;
        Ok(())
    }

    /// After the last stored entry up to `to`: the head says the chain
    /// reaches `head_sequence` with `head_hash`.
    pub fn finish(
        &self,
        to: u64,
        head_sequence: u64,
        head_hash: &[u8],
    ) -> Result<(), (u64, ChainFailure)> {
        let last = self.expected_sequence - 1;
        if last < to {
            let failure = if to <= head_sequence && last < head_sequence {
                ChainFailure::Truncated
            } else {
                ChainFailure::MissingEntry
            };
            return Err((self.expected_sequence, failure));
        }
        if last == head_sequence && self.expected_prev != head_hash {
            return Err((last, ChainFailure::HashMismatch));
        }
        Ok(())
    }
}
