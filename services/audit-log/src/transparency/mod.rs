//! Art. 7(2): the access log as a transparency log. Every entry is a leaf of
//! a Merkle tree (RFC 9162 §2.1) stored beside the rows and extended in the
//! same transaction; the tree's head is signed as a C2SP tlog-checkpoint by
//! a key the database never holds; proofs of inclusion and consistency let
//! anyone holding an earlier checkpoint check that history was only ever
//! appended to; witnesses' cosignatures are kept with the checkpoints they
//! cosigned.
//!
//! - [`tree_store`]: the tree's hashes in Postgres.
//! - [`log`]: checkpoints, proofs, leaves and cosignatures.
//! - [`verify`]: the signing and self-verification schedule.
//! - [`settings`]: the key, origin, witnesses and intervals.

pub mod log;
pub mod settings;
pub mod tree_store;
pub mod verify;

pub use log::{Inclusion, LogError, StoredCheckpoint, TransparencyLog};
pub use settings::TransparencySettings;
pub use verify::{Transparency, TreeFailure, verify_tree};
