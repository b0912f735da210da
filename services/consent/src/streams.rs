//! Stream ids of the consent service's aggregates.

use hellowork_eventstore::StreamId;

use crate::domain::values::{JobSeekerId, LanguageTag, TermsKind};

/// `terms-<kind>-<language>`: one series per kind and language (e.g.
/// `terms-online_services-ja`), so versions and revisions of one text are
/// decided against each other under optimistic concurrency.
pub fn terms_series(kind: TermsKind, language: &LanguageTag) -> StreamId {
    StreamId::new(format!("terms-{}-{}", kind.as_str(), language.as_str()))
        .expect("kinds and language tags are printable ASCII")
}

/// `consent-<job seeker id>`: one person's receipts.
pub fn person_consents(job_seeker_id: JobSeekerId) -> StreamId {
    StreamId::new(format!("consent-{job_seeker_id}")).expect("a UUID is printable ASCII")
}
