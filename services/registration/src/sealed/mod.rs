//! Art. 8: registration's personal data sealed per person ("forgettable
//! payloads") and erased by destroying the person's key (crypto-shredding).
//!
//! - [`keys`]: the people's data keys, wrapped by the KEK, in registration's
//!   own table; only registration unwraps them.
//! - [`codec`]: events to and from their stored and published payloads,
//!   personal fields sealed.
//! - [`repository`]: loading and saving a job seeker through the codec.
//! - [`facts`]: a person's record with their personal data left sealed, kept
//!   in memory for eligibility.
//! - [`upgrade`]: the start-up reseal of registrations stored in clear
//!   before Step 8, in the store and on the stream.

pub mod codec;
pub mod facts;
pub mod keys;
pub mod repository;
pub mod upgrade;

pub use keys::{KeyError, PersonalKeys};
pub use repository::{Opened, SealedRepository};
