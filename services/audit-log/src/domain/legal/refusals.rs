//! Why a legal command is refused ([`LegalError`]) and why a disclosure
//! attempt is ([`Refusal`], recorded as the contract's reason), each able
//! to say whether it is about who the caller is or about the request.

use hellowork_proto::auditlog::v1::DisclosureRefusalReason;

/// Why a command on a legal request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LegalError {
    /// Art. 7(2): the two-person rule; by subject, and by personnel id.
    #[error("Art. 7(2): the filer of a legal request can never decide it (two-person rule)")]
    OwnRequest,
    /// Art. 7(2): a person is told apart by personnel id; without one, they
    /// may neither file nor approve.
    #[error(
        "Art. 7(2): the caller's token names no personnel id, so the two-person rule \
         cannot tell them apart"
    )]
    NoPersonnelId,
    /// Art. 7(2): each approver counts once, whatever subject they use.
    #[error("Art. 7(2): this person has already approved the legal request")]
    AlreadyApproved,
    /// Art. 7(2): only a filed request can be approved or denied.
    #[error("Art. 7(2): the legal request is {0}, not awaiting a decision")]
    NotFiled(&'static str),
    /// Art. 7(2): only an approved, unexpired request can be revoked.
    #[error("Art. 7(2): the legal request is {0}, not approved")]
    NotApproved(&'static str),
    /// Art. 7(2): the authorization may not outlast the requested expiry.
    #[error("Art. 7(2): expires_at must not be after the requested expiry")]
    ExpiryTooLate,
    #[error("expires_at must be in the future")]
    ExpiryPassed,
    /// Art. 7(2): a term or the scope reaches beyond its configured ceiling.
    #[error("Art. 7(2): {field} is over its ceiling of {ceiling}")]
    OverCeiling {
        field: &'static str,
        ceiling: String,
    },
    /// Art. 7(2): an earlier approver's expiry has passed; the request can
    /// no longer be authorized and must be filed again.
    #[error("Art. 7(2): an earlier approval of the legal request has expired")]
    ApprovalLapsed,
    #[error("no such legal request")]
    Unknown,
    /// A request id is filed once; only its filer may repeat the filing.
    #[error("the legal request id is already filed by another officer")]
    FiledByAnother,
}

impl LegalError {
    /// Whether the refusal is about who the caller is (PERMISSION_DENIED)
    /// rather than what they asked (FAILED_PRECONDITION or INVALID_ARGUMENT).
    pub fn is_about_caller(&self) -> bool {
        matches!(
            self,
            Self::OwnRequest | Self::NoPersonnelId | Self::AlreadyApproved
        )
    }
}

/// Art. 7(2): why a disclosure attempt is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownRequest,
    NotNamedOfficer,
    NotApproved,
    Denied,
    Expired,
    Revoked,
    LimitReached,
}

impl Refusal {
    /// Whether the refusal is about the caller (PERMISSION_DENIED) rather
    /// than the request's state (FAILED_PRECONDITION).
    pub fn is_about_caller(self) -> bool {
        self == Self::NotNamedOfficer
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::UnknownRequest => "no such legal request",
            Self::NotNamedOfficer => {
                "only the legal officer named on the request may receive its records"
            }
            Self::NotApproved => "the legal request is not approved",
            Self::Denied => "the legal request was denied",
            Self::Expired => "the approval of the legal request has expired",
            Self::Revoked => "the approval of the legal request was revoked",
            Self::LimitReached => "the disclosure limit of the legal request is reached",
        }
    }

    /// The contract's name for it, recorded in the refusal event.
    pub fn reason(self) -> DisclosureRefusalReason {
        match self {
            Self::UnknownRequest => DisclosureRefusalReason::UnknownRequest,
            Self::NotNamedOfficer => DisclosureRefusalReason::NotNamedOfficer,
            Self::NotApproved => DisclosureRefusalReason::NotApproved,
            Self::Denied => DisclosureRefusalReason::Denied,
            Self::Expired => DisclosureRefusalReason::Expired,
            Self::Revoked => DisclosureRefusalReason::Revoked,
            Self::LimitReached => DisclosureRefusalReason::LimitReached,
        }
    }

    /// The refusal a recorded reason names; `None` for reasons this service
    /// no longer records (a wrong role is turned away before anything is
    /// written).
    pub fn of(reason: DisclosureRefusalReason) -> Option<Self> {
        use DisclosureRefusalReason as R;
        Some(match reason {
            R::UnknownRequest => Self::UnknownRequest,
            R::NotNamedOfficer => Self::NotNamedOfficer,
            R::NotApproved => Self::NotApproved,
            R::Denied => Self::Denied,
            R::Expired => Self::Expired,
            R::Revoked => Self::Revoked,
            R::LimitReached => Self::LimitReached,
            R::RoleNotAllowed | R::Unspecified => return None,
        })
    }
}
