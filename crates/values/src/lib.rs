//! The values every service shares, each with one parser: a value that
//! exists is valid ("parse, don't validate"), and the same text gets the
//! same verdict in every service.
//!
//! - [`Article`]: every clause of the terms of use, the one way a rule names
//!   what it enforces (`Art. 5(3)`, reason `ART_5_3`).
//! - [`JobSeekerId`]: the id registration assigns and every service uses;
//!   [`uuid_id!`] declares other ids the same way.
//! - [`TermsVersion`], [`Sha256Hex`], [`LanguageTag`]: what a person was
//!   shown and agreed to.
//! - [`contract_enum!`]: a domain enum with its contract twin, converted
//!   both ways.
//! - [`time`]: Asia/Tokyo dates and the protobuf timestamp conversions.
//! - [`STAND_IN_TERMS`]: the terms document the tests and the demo publish
//!   where the office's text is absent, numbered as [`Article`] cites it.
//!
//! Constructors return the description of what was expected as a `String`:
//! it becomes the `description` of a request's field violation as it is.

mod article;
mod contract;
mod id;
mod stand_in;
mod terms;
pub mod time;

pub use article::{Article, Enforcement};
pub use contract::Unspecified;
pub use id::{JobSeekerId, parse_uuid, stored_uuid};
pub use stand_in::STAND_IN_TERMS;
pub use terms::{LanguageTag, Sha256Hex, TermsVersion};
/// For [`uuid_id!`], which names it from the crates that use it.
pub use uuid;
