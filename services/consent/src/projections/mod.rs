//! Read models in the service's schema (tables from `migrations/`), each
//! fed by a durable JetStream consumer and rebuildable from the events.
//!
//! - [`terms_documents`]: every published version with its full text.
//! - [`notices`]: Art. 13 notices, one per registered user and revision,
//!   from this service's announcements and registration's
//!   `JobSeekerRegistered`.

pub mod notices;
pub mod terms_documents;

use chrono::NaiveDate;
use hellowork_eventstore::{ProjectionError, RecordedEvent};

use crate::domain::values::CalendarDate;

/// A payload this service's projections cannot read can never be applied.
pub(crate) fn rejected(event: &RecordedEvent, reason: impl ToString) -> ProjectionError {
    ProjectionError::Rejected {
        event_id: event.event_id,
        event_type: event.event_type.clone(),
        reason: reason.to_string(),
    }
}

/// A calendar date as stored in a `date` column.
pub(crate) fn naive(date: Option<CalendarDate>) -> Option<NaiveDate> {
    date.map(CalendarDate::naive)
}
