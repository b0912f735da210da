//! The commands on a legal request: who acts (subject and personnel id),
//! an approver's terms, and each action with every instant and ceiling it
//! depends on as an input.

use super::{Ceilings, case::Filing};
use chrono::{DateTime, Duration, Utc};

/// Who acts: the token's subject and, for staff, the personnel id of the
/// person behind it. Two subjects with one personnel id are one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub subject: String,
    pub personnel_id: Option<String>,
}

impl Actor {
    pub fn new(subject: impl Into<String>, personnel_id: Option<&str>) -> Self {
        Self {
            subject: subject.into(),
            personnel_id: personnel_id.map(str::to_owned),
        }
    }
}

/// One approver's terms, parsed at the edge.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terms {
    /// `None`: the earlier of the requested expiry and the ceiling.
    pub expires_at: Option<DateTime<Utc>>,
    /// 0: the ceiling.
    pub disclosure_limit: u64,
    /// `None` or zero: the persons in scope are not kept waiting.
    pub deferral: Option<Duration>,
    /// Why, when deferred.
    pub deferral_reason: String,
    pub note: String,
}

/// A command on the legal request `legal_request_id`.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub legal_request_id: String,
    pub action: Action,
}

/// What a command does; every instant, actor and ceiling is an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Art. 7(2): file `filing` (validated at the edge; the filer's fields
    /// and the approvals required are set here) as `filer`.
    File {
        filer: Actor,
        filing: Filing,
        ceilings: Ceilings,
    },
    /// Art. 7(2): one approval on `terms`.
    Approve {
        approver: Actor,
        now: DateTime<Utc>,
        terms: Terms,
        ceilings: Ceilings,
    },
    Deny {
        approver: Actor,
        now: DateTime<Utc>,
        reason: String,
    },
    Revoke {
        approver: Actor,
        now: DateTime<Utc>,
        reason: String,
    },
    /// Art. 7(2) proviso: an attempt by a legal officer to receive the
    /// records at `record_sequences` (in log order); records the disclosure
    /// of as many as the limit leaves if authorized, the refusal otherwise.
    Disclose {
        officer: Actor,
        now: DateTime<Utc>,
        record_sequences: Vec<u64>,
        ceilings: Ceilings,
    },
}
