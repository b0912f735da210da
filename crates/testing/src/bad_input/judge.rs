//! What counts as an answer to bad input: every refusal carries the
//! `google.rpc` details a client acts on (see the parent module), so a
//! status without them fails the test as surely as INTERNAL does.

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// What the service answered to one case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Ok,
    /// INVALID_ARGUMENT with field violations.
    Invalid,
    /// FAILED_PRECONDITION naming an article (`ErrorInfo`, `PreconditionFailure`).
    Refused,
    /// FAILED_PRECONDITION for a state the request does not fit: no
    /// article, a `PreconditionFailure` of type `STATE`.
    State,
    NotFound,
    AlreadyExists,
    /// PERMISSION_DENIED with `ErrorInfo` (domain `hellowork`).
    PermissionDenied,
    Unauthenticated,
    /// OUT_OF_RANGE from tonic: a message over the size limit, refused
    /// before any codec or handler ran.
    TooLarge,
}

impl Outcome {
    /// Its column in a [`Report`](super::Report).
    pub(super) fn label(&self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Invalid => "invalid",
            Outcome::Refused => "article",
            Outcome::State => "state",
            Outcome::NotFound => "not_found",
            Outcome::AlreadyExists => "exists",
            Outcome::PermissionDenied => "denied",
            Outcome::Unauthenticated => "unauthn",
            Outcome::TooLarge => "too_large",
        }
    }
}

/// The platform's default limit on a request message (`HELLOWORK_MAX_MESSAGE_BYTES`).
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Judges an answer to a call whose largest message was `largest` bytes: an
/// allowed outcome, or why it is not one.
pub fn judge(result: &Result<Vec<u8>, Status>, largest: usize) -> Result<Outcome, String> {
    let status = match result {
        Ok(_) => return Ok(Outcome::Ok),
        Err(status) => status,
    };
    let details = status.get_error_details();
    let describe = || {
        format!(
            "{:?} {:?} ({} detail bytes)",
            status.code(),
            status.message(),
            status.details().len()
        )
    };
    match status.code() {
        Code::InvalidArgument => {
            let violations = details
                .bad_request()
                .map(|b| b.field_violations.as_slice())
                .unwrap_or_default();
            if violations.is_empty() {
                return Err(format!(
                    "INVALID_ARGUMENT without BadRequest field violations: {}",
                    describe()
                ));
            }
            if let Some(v) = violations
                .iter()
                .find(|v| v.field.is_empty() || v.description.is_empty())
            {
                return Err(format!(
                    "a field violation without field or description: {v:?}"
                ));
            }
            Ok(Outcome::Invalid)
        }
        Code::FailedPrecondition => match (details.error_info(), details.precondition_failure()) {
            (Some(info), failure) => {
                let article = info.metadata.get("article").map(String::as_str);
                if !info.reason.starts_with("ART_")
                    || info.domain != "hellowork"
                    || article.is_none_or(str::is_empty)
                    || failure.is_none_or(|f| f.violations.is_empty())
                {
                    return Err(format!(
                        "FAILED_PRECONDITION whose details name no article: {info:?} {failure:?}"
                    ));
                }
                Ok(Outcome::Refused)
            }
            (None, Some(failure))
                if !failure.violations.is_empty()
                    && failure
                        .violations
                        .iter()
                        .all(|v| v.r#type == "STATE" && !v.description.is_empty()) =>
            {
                Ok(Outcome::State)
            }
            _ => Err(format!(
                "FAILED_PRECONDITION with neither an article (ErrorInfo) nor a STATE PreconditionFailure: {}",
                describe()
            )),
        },
        Code::NotFound | Code::AlreadyExists => {
            if details.resource_info().is_none() {
                return Err(format!(
                    "{:?} without ResourceInfo: {}",
                    status.code(),
                    describe()
                ));
            }
            Ok(if status.code() == Code::NotFound {
                Outcome::NotFound
            } else {
                Outcome::AlreadyExists
            })
        }
        Code::PermissionDenied => match details.error_info() {
            Some(info)
                if !info.reason.is_empty()
                    && info.domain == "hellowork"
                    && !status.message().is_empty() =>
            {
                Ok(Outcome::PermissionDenied)
            }
            _ => Err(format!(
                "PERMISSION_DENIED without ErrorInfo or message: {}",
                describe()
            )),
        },
        Code::Unauthenticated => match details.error_info() {
            Some(info) if !info.reason.is_empty() && info.domain == "hellowork" => {
                Ok(Outcome::Unauthenticated)
            }
            _ => Err(format!("UNAUTHENTICATED without ErrorInfo: {}", describe())),
        },
        Code::OutOfRange
            if largest > MAX_MESSAGE_BYTES
                && status
                    .message()
                    .starts_with("Error, decoded message length too large") =>
        {
            Ok(Outcome::TooLarge)
        }
        _ => Err(format!("not an answer to bad input: {}", describe())),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tonic_types::ErrorDetails;

    use super::*;

    fn answer(code: Code, details: ErrorDetails) -> Result<Outcome, String> {
        judge(
            &Err(Status::with_error_details(code, "refused", details)),
            10,
        )
    }

    fn info(reason: &str, metadata: &[(&str, &str)]) -> ErrorDetails {
        let metadata: HashMap<String, String> = metadata
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ErrorDetails::with_error_info(reason, "hellowork", metadata)
    }

    #[test]
    fn undecodable_bytes_are_invalid_input_not_internal() {
        let codec = ErrorDetails::with_bad_request_violation(
            "request",
            "not a valid hellowork.auditlog.v1.RecordUsageRequest protobuf message: invalid tag value: 0",
        );
        assert_eq!(answer(Code::InvalidArgument, codec), Ok(Outcome::Invalid));
        let internal = Status::internal("failed to decode Protobuf message: invalid tag value: 0");
        assert!(judge(&Err(internal), 10).is_err());
        assert!(answer(Code::InvalidArgument, ErrorDetails::new()).is_err());
    }

    #[test]
    fn permission_denied_needs_error_info() {
        assert_eq!(
            answer(Code::PermissionDenied, info("CALLER_NOT_ALLOWED", &[])),
            Ok(Outcome::PermissionDenied)
        );
        let bare = Status::permission_denied("not allowed for this caller");
        assert!(judge(&Err(bare), 10).is_err());
    }

    #[test]
    fn failed_precondition_names_an_article_or_a_state() {
        let mut article = info("ART_12_4", &[("article", "12(4)")]);
        article.add_precondition_failure_violation("ART_12_4", "CHECKLIST", "not confirmed");
        assert_eq!(
            answer(Code::FailedPrecondition, article),
            Ok(Outcome::Refused)
        );
        let state = ErrorDetails::with_precondition_failure_violation(
            "STATE",
            "",
            "booking b-1 is not open",
        );
        assert_eq!(answer(Code::FailedPrecondition, state), Ok(Outcome::State));
        let untyped = ErrorDetails::with_precondition_failure_violation("", "", "not open");
        assert!(answer(Code::FailedPrecondition, untyped).is_err());
        let bare = Status::failed_precondition("booking b-1 is not open");
        assert!(judge(&Err(bare), 10).is_err());
    }

    #[test]
    fn out_of_range_only_for_a_message_over_the_limit() {
        let status = Status::out_of_range(
            "Error, decoded message length too large: found 4194305 bytes, the limit is: 4194304 bytes",
        );
        assert_eq!(
            judge(&Err(status.clone()), MAX_MESSAGE_BYTES + 1),
            Ok(Outcome::TooLarge)
        );
        assert!(judge(&Err(status), 10).is_err());
    }
}
