//! Art. 7(2), 8: what scheduling seals and how it forgets.
//!
//! - [`keys`]: the people's data keys, wrapped by scheduling's KEK, in its
//!   own table; destroyed (a tombstone left) when a person is erased.
//! - [`codec`]: officers' notes about a person sealed with that key before
//!   an event is stored, opened (or shown erased) when a view shows them.
//! - [`erasure`]: registration's `JobSeekerErased` consumed, the person's
//!   key destroyed.
//! - [`upgrade`]: the start-up reseal of what was stored and published in
//!   clear before Step 8 (device identifiers, notes).

pub mod codec;
pub mod erasure;
pub mod keys;
pub mod upgrade;

pub use keys::{KeyError, PersonKey, PersonalKeys};
