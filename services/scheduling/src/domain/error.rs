//! Why the domain refuses a command. Each refusal a rule of the terms causes
//! cites its article, in its message and in the gRPC error it becomes.

use super::{
    contract::ChecklistItem,
    ids::{BookingId, RefusalId, SlotId},
};
use hellowork_platform::{Article, ArticleViolation, FieldViolation, ServiceError};

/// What is still missing before a person may join (Art. 12(2)-(4)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotReady {
    /// Art. 12(4).
    Checklist,
    /// Art. 12(3).
    PrivateRoom,
    /// Art. 12(2).
    NoRecording,
    /// Art. 12(1).
    Refused,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("slot {0} not found")]
    SlotNotFound(SlotId),
    #[error("booking {0} not found")]
    BookingNotFound(BookingId),
    #[error("refusal {0} not found")]
    RefusalNotFound(RefusalId),
    /// Art. 1: only seminars have more than one seat.
    #[error("Art. 1: only a seminar has more than one seat")]
    CapacityNotForOffering,
    /// Art. 1: a counsellor is never in two slots at once.
    #[error("the counsellor already has slot {0} at that time")]
    CounsellorDoubleBooked(SlotId),
    #[error("slot {0} has no seat left")]
    SlotFull(SlotId),
    #[error("the session of slot {0} has already started")]
    SessionStarted(SlotId),
    #[error("the person already holds a booking overlapping slot {0}")]
    PersonDoubleBooked(SlotId),
    #[error("booking {0} is not open (already cancelled, joined or finished)")]
    BookingNotOpen(BookingId),
    #[error("booking {0} is not in session")]
    NotInSession(BookingId),
    #[error("slot {0} is not of the booking's offering")]
    DifferentOffering(SlotId),
    /// Art. 12(3): attendants are declared before the cut-off.
    #[error("Art. 12(3): an interpreter or caregiver must be declared before the cut-off")]
    AttendantCutoffPassed,
    /// Art. 12(4): every checklist item must be confirmed.
    #[error("Art. 12(4): the pre-session checklist is incomplete")]
    ChecklistIncomplete(Vec<ChecklistItem>),
    /// Art. 12(1)-(4): what joining still needs.
    #[error("the person is not ready to join: {0:?}")]
    NotReadyToJoin(Vec<NotReady>),
    /// Art. 12(1): a refused person books nothing.
    #[error("Art. 12(1): the person's online services are refused")]
    Refused,
    #[error("refusal {0} is already lifted")]
    RefusalNotActive(RefusalId),
    /// Art. 8: a counsellor reads only the people they serve
    /// ([`require_served`](super::require_served)).
    #[error("Art. 8: a counsellor reads only the people who booked a session with them")]
    NotServed,
}

fn violation(article: Article, subject: &str, description: &str) -> ArticleViolation {
    ArticleViolation {
        article,
        subject: subject.to_owned(),
        description: description.to_owned(),
    }
}

impl From<DomainError> for ServiceError {
    fn from(error: DomainError) -> Self {
        let message = error.to_string();
        let not_found = |resource_type: &'static str, id: &dyn std::fmt::Display| Self::NotFound {
            resource_type,
            resource_name: id.to_string(),
        };
        match error {
            DomainError::SlotNotFound(id) => not_found("slot", &id),
            DomainError::BookingNotFound(id) => not_found("booking", &id),
            DomainError::RefusalNotFound(id) => not_found("refusal", &id),
            DomainError::CapacityNotForOffering => {
                Self::InvalidArgument(vec![FieldViolation::new("capacity", message)])
            }
            DomainError::AttendantCutoffPassed => {
                Self::forbidden(Article::Art12_3, "ATTENDANT_CUTOFF_PASSED", message)
            }
            DomainError::Refused => Self::forbidden(Article::Art12_1, "REFUSED", message),
            DomainError::NotServed => Self::PermissionDenied(message),
            DomainError::ChecklistIncomplete(missing) => Self::Forbidden(
                missing
                    .iter()
                    .map(|item| {
                        violation(
                            Article::Art12_4,
                            item.contract_name(),
                            "Art. 12(4): this checklist item was not confirmed",
                        )
                    })
                    .collect(),
            ),
            DomainError::NotReadyToJoin(missing) => Self::Forbidden(
                missing
                    .iter()
                    .map(|m| match m {
                        NotReady::Checklist => violation(
                            Article::Art12_4,
                            "CHECKLIST_NOT_COMPLETED",
                            "Art. 12(4): complete the pre-session checklist first",
                        ),
                        NotReady::PrivateRoom => violation(
                            Article::Art12_3,
                            "PRIVATE_ROOM_NOT_ACKNOWLEDGED",
                            "Art. 12(3): acknowledge a private room or no one nearby first",
                        ),
                        NotReady::NoRecording => violation(
                            Article::Art12_2,
                            "NO_RECORDING_NOT_ACKNOWLEDGED",
                            "Art. 12(2): acknowledge that recording is prohibited first",
                        ),
                        NotReady::Refused => violation(
                            Article::Art12_1,
                            "REFUSED",
                            "Art. 12(1): the person's online services are refused",
                        ),
                    })
                    .collect(),
            ),
            DomainError::CounsellorDoubleBooked(_)
            | DomainError::SlotFull(_)
            | DomainError::SessionStarted(_)
            | DomainError::PersonDoubleBooked(_)
            | DomainError::BookingNotOpen(_)
            | DomainError::NotInSession(_)
            | DomainError::DifferentOffering(_)
            | DomainError::RefusalNotActive(_) => Self::FailedPrecondition(message),
        }
    }
}
