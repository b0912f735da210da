//! Requests into domain values: every field is checked and every violation
//! reported at once (INVALID_ARGUMENT with `BadRequest`), before anything is
//! read or written.
//!
//! - `fields`: the checks of single fields, and the collector of their
//!   violations.
//! - `terms`: the terms documents' RPCs (Art. 4, 13).
//! - `consents`: recording, withdrawing and reading consent (Art. 6).
//! - `pages`: a person and a page of a list.

mod consents;
mod fields;
mod pages;
mod terms;

pub use consents::{consent_status, record_consent, withdraw_consent};
pub use fields::{MAX_FULL_TEXT_BYTES, Violations, instant_or_now};
pub use pages::{Page, person_page};
pub use terms::{
    announce_revision, publish_meeting_app_terms, publish_terms, terms_document_id, terms_in_force,
};

#[cfg(test)]
mod tests;
