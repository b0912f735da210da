//! Art. 7(2): the ceilings of a legal request and its approvals (scope,
//! validity, disclosure limit, notification deferral), with their defaults
//! and how a ceiling is told in a refusal.

use chrono::Duration;

/// Default of [`Ceilings::approvals_required`].
pub const DEFAULT_APPROVALS_REQUIRED: u32 = 1;
/// Default of [`Ceilings::max_validity`], in days.
pub const DEFAULT_MAX_VALIDITY_DAYS: i64 = 30;
/// Default of [`Ceilings::max_scope_entries`].
pub const DEFAULT_MAX_SCOPE_ENTRIES: u32 = 10;
/// Default of [`Ceilings::max_scope_span`], in days: a year, leap or not.
pub const DEFAULT_MAX_SCOPE_SPAN_DAYS: i64 = 366;
/// Default of [`Ceilings::max_disclosure_limit`], in records.
pub const DEFAULT_MAX_DISCLOSURE_LIMIT: u64 = 1000;
/// Default of [`Ceilings::max_deferral`], in days.
pub const DEFAULT_MAX_DEFERRAL_DAYS: i64 = 180;

/// Art. 7(2): how far a legal request and its approvals may reach, from
/// the settings (`HELLOWORK_AUDITLOG_*`, validated at start-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceilings {
    /// Distinct approvers a request filed now needs; at least 1.
    pub approvals_required: u32,
    /// Latest expiry an approval may set, after the approval.
    pub max_validity: Duration,
    /// Most persons and device pseudonyms, together, in a scope.
    pub max_scope_entries: u32,
    /// Longest time range of a scope.
    pub max_scope_span: Duration,
    /// Highest disclosure limit an approval may set, and the limit of
    /// requests approved before limits existed.
    pub max_disclosure_limit: u64,
    /// Longest notification deferral an approval may set.
    pub max_deferral: Duration,
}

impl Default for Ceilings {
    fn default() -> Self {
        Self {
            approvals_required: DEFAULT_APPROVALS_REQUIRED,
            max_validity: Duration::days(DEFAULT_MAX_VALIDITY_DAYS),
            max_scope_entries: DEFAULT_MAX_SCOPE_ENTRIES,
            max_scope_span: Duration::days(DEFAULT_MAX_SCOPE_SPAN_DAYS),
            max_disclosure_limit: DEFAULT_MAX_DISCLOSURE_LIMIT,
            max_deferral: Duration::days(DEFAULT_MAX_DEFERRAL_DAYS),
        }
    }
}

/// A duration as a ceiling is told: whole days, hours or seconds.
pub fn describe_span(span: Duration) -> String {
    let seconds = span.num_seconds();
    if seconds % 86_400 == 0 {
        format!("{} days", seconds / 86_400)
    } else if seconds % 3_600 == 0 {
        format!("{} hours", seconds / 3_600)
    } else {
        format!("{seconds} seconds")
    }
}
