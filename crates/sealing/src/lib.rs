//! Sealed values for Hello Work services (Art. 7(2), 8).
//!
//! - [`device`]: device identifiers sealed with HPKE (RFC 9180) to a public
//!   key of the audit-log where they enter, so every other store and stream
//!   holds a blob that only the audit-log's private keys open.
//! - [`personal`]: personal fields sealed with a data key of their person
//!   ("forgettable payloads"); the data key is wrapped by a key-encryption key
//!   of the owning service and kept in its table, so destroying it erases
//!   every copy of those fields in every store, stream and backup at once.
//! - [`ring`]: the `kid=base64,...` key rings both read from configuration.
//!
//! Every format carries a version, every ciphertext is bound to its context
//! by associated data, and no key is ever printed.

pub mod device;
pub mod personal;
pub mod ring;

mod convert;
