//! The consent domain, pure: no I/O, time is an input of every command.
//!
//! - [`terms::TermsSeries`]: the versions of one terms text per kind and
//!   language, and the Art. 13 revisions of the terms of use (Art. 4, 13).
//! - [`consent::PersonConsents`]: one person's consent receipts, recorded
//!   explicitly (Art. 2(1)) or deemed by applying (Art. 4, 6), and withdrawn
//!   (Art. 2(1)).
//! - [`status::status_at`]: what binds a person at an instant (Art. 13).

pub mod consent;
pub mod error;
pub mod event;
pub mod status;
pub mod terms;
pub mod values;

#[cfg(test)]
mod tests;

pub use error::DomainError;
pub use event::Event;
