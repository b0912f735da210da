//! Art. 7(2) proviso: legal requests for raw device records, accountable.
//!
//! A legal officer files a request within the scope ceilings; it needs
//! `approvals_required` distinct approvers, told apart by personnel id,
//! none of them the filer under any subject (two-person rule). Every
//! approver's terms bound what they authorize: the request is authorized
//! until the earliest expiry, for at most the lowest disclosure limit, the
//! persons in scope told after the shortest deferral, each term within its
//! ceiling. An approver may deny a pending request or revoke an approved
//! one. Disclosure goes only to the named officer (subject and personnel
//! id), only while approved and unexpired, never beyond the limit in total,
//! and every attempt by a legal officer, granted or refused, becomes an
//! event; callers of other roles are turned away before (at the edge).
//!
//! Pure: every instant and ceiling is an input. [`LegalCase`] is the
//! aggregate of one request's stream; its state is a [`LegalRequest`] of
//! domain values, without the envelope facts (who decided, when), which
//! [`annotate`] adds for the views.
//!
//! Events stored before Step 9 stay readable: a filing without a personnel
//! id or a required count needed one approval and is compared by subject
//! only; an approval without a personnel id counts as one approval and
//! limits nothing beyond the configured ceiling
//! ([`Ceilings::max_disclosure_limit`]).
//!
//! - `ceilings`: how far a request and its approvals may reach.
//! - `command`: who acts and what they ask.
//! - `refusals`: why a command or a disclosure attempt is refused.
//! - `case`: the aggregate's state, and what a request says.
//! - `message`: those values to and from the contract's messages.
//! - `decide`: the rules of filing, approving and disclosing.
//! - `aggregate`: commands into events, events folded.
//! - `view`: the request as shown at an instant, with who decided when.

mod aggregate;
mod case;
mod ceilings;
mod command;
mod decide;
mod message;
mod refusals;
mod view;

pub use case::{
    Approval, Decided, DevicePseudonym, Filing, LegalBasis, LegalCase, LegalRequest, RequestState,
    Scope,
};
pub use ceilings::{
    Ceilings, DEFAULT_APPROVALS_REQUIRED, DEFAULT_MAX_DEFERRAL_DAYS, DEFAULT_MAX_DISCLOSURE_LIMIT,
    DEFAULT_MAX_SCOPE_ENTRIES, DEFAULT_MAX_SCOPE_SPAN_DAYS, DEFAULT_MAX_VALIDITY_DAYS,
    describe_span,
};
pub use command::{Action, Actor, Command, Terms};
pub use refusals::{LegalError, Refusal};
pub use view::{annotate, at, shown, state_at};

#[cfg(test)]
mod tests;
