//! Refused legal commands and disclosures as statuses (Art. 7(2)), mapped
//! in one place: who the caller is is PERMISSION_DENIED, what the request
//! is FAILED_PRECONDITION, both naming Art. 7(2) in `ErrorInfo`.

use std::collections::HashMap;

use hellowork_platform::{Article, ERROR_DOMAIN, ServiceError};
use tonic::Status;
use tonic_types::{ErrorDetails, StatusExt};

use crate::{
    domain::legal::{LegalError, Refusal},
    service::{self, Error},
};

/// Art. 7(2): the article every refusal of raw data names.
const ART_7_2: Article = Error::ARTICLE;

/// PERMISSION_DENIED naming Art. 7(2) in `ErrorInfo`.
fn denied_7_2(message: &str) -> Status {
    let metadata = HashMap::from([
        ("article".to_owned(), ART_7_2.label()),
        ("articles".to_owned(), ART_7_2.label()),
    ]);
    Status::with_error_details(
        tonic::Code::PermissionDenied,
        message,
        ErrorDetails::with_error_info(ART_7_2.reason(), ERROR_DOMAIN, metadata),
    )
}

pub(super) fn not_found(id: &str) -> Status {
    service::not_found(id).into()
}

/// A refused legal command: who the caller is (the two-person rule, a
/// missing personnel id) is PERMISSION_DENIED, what the request or its
/// terms are (its state, a ceiling) FAILED_PRECONDITION, both naming Art.
/// 7(2) in `ErrorInfo`; a malformed expiry INVALID_ARGUMENT on its field.
/// Nothing is written for any of them.
fn legal_error(error: LegalError, id: &str) -> Status {
    match error {
        LegalError::OwnRequest | LegalError::NoPersonnelId | LegalError::AlreadyApproved => {
            denied_7_2(&error.to_string())
        }
        LegalError::ExpiryTooLate | LegalError::ExpiryPassed => {
            ServiceError::invalid("expires_at", error.to_string()).into()
        }
        LegalError::NotFiled(_)
        | LegalError::NotApproved(_)
        | LegalError::OverCeiling { .. }
        | LegalError::ApprovalLapsed => {
            ServiceError::forbidden(ART_7_2, id, error.to_string()).into()
        }
        LegalError::Unknown => not_found(id),
        LegalError::FiledByAnother => ServiceError::AlreadyExists {
            resource_type: "legal request",
            resource_name: id.to_owned(),
        }
        .into(),
    }
}

/// The status a failure of the service answers with: a refusal of the
/// legal rules as [`legal_error`] says, anything else as `ServiceError`.
pub(super) fn status(error: Error) -> Status {
    match error {
        Error::Legal { error, id } => legal_error(error, &id),
        Error::Refused { refusal, id } => refused(refusal, &id),
        Error::Service(error) => error.into(),
    }
}

/// The status a refused disclosure answers with (Art. 7(2)).
pub(super) fn refused(refusal: Refusal, id: &str) -> Status {
    if refusal.is_about_caller() {
        denied_7_2(refusal.describe())
    } else if refusal == Refusal::UnknownRequest {
        not_found(id)
    } else {
        ServiceError::forbidden(ART_7_2, id, refusal.describe()).into()
    }
}
