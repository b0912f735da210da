//! The small, closed error vocabulary of every service, mapped once to a gRPC
//! status with `google.rpc` rich details. Handlers return [`ServiceError`];
//! nothing below the gRPC edge builds a `tonic::Status`.

use std::collections::HashMap;

use hellowork_eventstore::{AppendError, ExecuteError, StoreError};
pub use hellowork_values::Article;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every error this backend raises.
pub const ERROR_DOMAIN: &str = "hellowork";

/// `ErrorInfo.reason` of PERMISSION_DENIED: the caller is identified but may
/// not do this (its roles, or whose resource it is). No metadata: the
/// message says which roles may, and naming the caller or the resource's
/// owner would put personal data in the trailers (Art. 8).
const CALLER_NOT_ALLOWED: &str = "CALLER_NOT_ALLOWED";

/// `ErrorInfo.reason` of UNAUTHENTICATED raised by a handler: the request
/// reached it without the caller the auth layer verifies.
const CALLER_NOT_VERIFIED: &str = "CALLER_NOT_VERIFIED";

/// `PreconditionFailure` violation type of a state the request does not
/// fit, beside the `ART_…` types of article refusals: a client tells the two
/// apart by type even without `ErrorInfo`.
const STATE: &str = "STATE";

/// At most this many violations are returned (in `BadRequest` or
/// `PreconditionFailure`, and in the message); the rest are counted in the
/// message. A status travels in HTTP/2 trailers, whose size clients cap
/// (16 KiB in hyper and grpc-go, 8 KiB soft in gRPC core): one violation
/// per element of a long repeated field would otherwise reach the client
/// as a protocol error (INTERNAL) instead of INVALID_ARGUMENT.
pub const MAX_REPORTED_VIOLATIONS: usize = 20;

/// Longest field path, subject, description or resource name returned, in
/// characters; longer ones are cut (they may carry the caller's input).
const MAX_DETAIL_CHARS: usize = 160;

/// Longest status message, in characters.
const MAX_MESSAGE_CHARS: usize = 4096;

/// One invalid request field (`BadRequest.field_violations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    /// Path of the field, e.g. `records[3].device.ip_address`.
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

/// One unmet condition that an article imposes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleViolation {
    pub article: Article,
    /// What it concerns, e.g. `environment.os` or a booking id.
    pub subject: String,
    pub description: String,
}

/// Why a request failed. Each variant maps to exactly one gRPC code; each has
/// a fixed answer to "retry?" and "log?".
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// INVALID_ARGUMENT with `BadRequest`; not retryable, not logged.
    #[error("invalid request: {}", summarize(.0))]
    InvalidArgument(Vec<FieldViolation>),
    /// FAILED_PRECONDITION: the terms forbid it. `ErrorInfo` names the first
    /// article (reason `ART_5_3`, metadata `article`), `PreconditionFailure`
    /// lists every unmet condition. Not retryable until the condition changes.
    #[error("{}", describe(.0))]
    Forbidden(Vec<ArticleViolation>),
    /// FAILED_PRECONDITION for a state the request does not fit (not an
    /// article), e.g. cancelling a booking that has already taken place.
    /// `PreconditionFailure` holds one violation of type `STATE` whose
    /// description is the message; its subject is empty, as the message is
    /// all the variant knows.
    #[error("{0}")]
    FailedPrecondition(String),
    /// NOT_FOUND with `ResourceInfo`.
    #[error("{resource_type} {resource_name} not found")]
    NotFound {
        resource_type: &'static str,
        resource_name: String,
    },
    /// ALREADY_EXISTS with `ResourceInfo`.
    #[error("{resource_type} {resource_name} already exists")]
    AlreadyExists {
        resource_type: &'static str,
        resource_name: String,
    },
    /// ABORTED: a concurrent change won; retry the whole request.
    #[error("concurrent modification; retry")]
    Conflict,
    /// UNAUTHENTICATED with `ErrorInfo` (reason `CALLER_NOT_VERIFIED`).
    #[error("{0}")]
    Unauthenticated(String),
    /// PERMISSION_DENIED with `ErrorInfo` (reason `CALLER_NOT_ALLOWED`).
    #[error("{0}")]
    PermissionDenied(String),
    /// UNAVAILABLE: a dependency (database, broker, another service) cannot
    /// be reached; retry with backoff. Logged as a warning.
    #[error("{0} is unavailable")]
    Unavailable(&'static str),
    /// DEADLINE_EXCEEDED: a dependency (another service) did not answer
    /// within what was left of the request's deadline; it may still be
    /// working, so this is no outage. Logged as a warning.
    #[error("{0} did not answer within the request's deadline")]
    DeadlineExceeded(&'static str),
    /// INTERNAL: a bug or corrupt data. Logged with its cause chain; the
    /// client sees an opaque message, never SQL or internals.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A peer's answer that its caller cannot act on (see
/// [`ServiceError::from_peer`]).
#[derive(Debug, thiserror::Error)]
#[error("{peer} answered {code:?}: {message}")]
struct PeerFault {
    peer: &'static str,
    code: Code,
    message: String,
}

fn summarize(violations: &[FieldViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.field, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

fn describe(violations: &[ArticleViolation]) -> String {
    violations
        .iter()
        .map(|v| format!("{}: {}", v.article, v.description))
        .collect::<Vec<_>>()
        .join("; ")
}

impl ServiceError {
    /// What a failed call to the service `peer` means for the request that
    /// made it. UNAVAILABLE only when the peer really is: it cannot be
    /// reached, its connection broke (CANCELLED or UNKNOWN from the
    /// transport before the deadline), or it says so itself (its own
    /// dependency is down, or it sheds load). A peer that is merely slow runs
    /// out the request's deadline: DEADLINE_EXCEEDED (tonic's client reports
    /// its own expired timeout as CANCELLED, told apart by the deadline
    /// having passed). Any other answer is a fault between the two services:
    /// INTERNAL, with the peer's status logged.
    pub fn from_peer(peer: &'static str, status: &Status) -> Self {
        let out_of_time = crate::deadline::remaining().is_some_and(|left| left.is_zero());
        match status.code() {
            Code::DeadlineExceeded => Self::DeadlineExceeded(peer),
            Code::Cancelled if out_of_time => Self::DeadlineExceeded(peer),
            Code::Unavailable | Code::ResourceExhausted | Code::Cancelled | Code::Unknown => {
                Self::Unavailable(peer)
            }
            code => Self::internal(PeerFault {
                peer,
                code,
                message: status.message().to_owned(),
            }),
        }
    }

    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }

    /// A single article violation.
    pub fn forbidden(
        article: Article,
        subject: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self::Forbidden(vec![ArticleViolation {
            article,
            subject: subject.into(),
            description: description.into(),
        }])
    }

    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, description)])
    }

    pub fn code(&self) -> Code {
        match self {
            Self::InvalidArgument(_) => Code::InvalidArgument,
            Self::Forbidden(_) | Self::FailedPrecondition(_) => Code::FailedPrecondition,
            Self::NotFound { .. } => Code::NotFound,
            Self::AlreadyExists { .. } => Code::AlreadyExists,
            Self::Conflict => Code::Aborted,
            Self::Unauthenticated(_) => Code::Unauthenticated,
            Self::PermissionDenied(_) => Code::PermissionDenied,
            Self::Unavailable(_) => Code::Unavailable,
            Self::DeadlineExceeded(_) => Code::DeadlineExceeded,
            Self::Internal(_) => Code::Internal,
        }
    }

    /// Whether the same request may succeed if simply sent again later.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Conflict | Self::Unavailable(_))
    }

    /// The status sent to the client, with rich details, bounded in size
    /// (see [`MAX_REPORTED_VIOLATIONS`]).
    pub fn into_status(self) -> Status {
        let code = self.code();
        let message = clip(&self.to_string(), MAX_MESSAGE_CHARS);
        match self {
            Self::InvalidArgument(violations) => {
                let total = violations.len();
                let shown: Vec<FieldViolation> = violations
                    .into_iter()
                    .take(MAX_REPORTED_VIOLATIONS)
                    .map(|v| FieldViolation {
                        field: clip(&v.field, MAX_DETAIL_CHARS),
                        description: clip(&v.description, MAX_DETAIL_CHARS),
                    })
                    .collect();
                let message = format!(
                    "invalid request: {}{}",
                    summarize(&shown),
                    more(total, shown.len())
                );
                let mut details = ErrorDetails::new();
                for v in shown {
                    details.add_bad_request_violation(v.field, v.description);
                }
                Status::with_error_details(code, message, details)
            }
            Self::Forbidden(violations) => {
                let total = violations.len();
                let violations: Vec<ArticleViolation> = violations
                    .into_iter()
                    .take(MAX_REPORTED_VIOLATIONS)
                    .map(|v| ArticleViolation {
                        subject: clip(&v.subject, MAX_DETAIL_CHARS),
                        description: clip(&v.description, MAX_DETAIL_CHARS),
                        ..v
                    })
                    .collect();
                let message = format!("{}{}", describe(&violations), more(total, violations.len()));
                let mut details = ErrorDetails::new();
                if let Some(first) = violations.first() {
                    let articles: Vec<String> =
                        violations.iter().map(|v| v.article.label()).collect();
                    let metadata = HashMap::from([
                        ("article".to_owned(), first.article.label()),
                        ("articles".to_owned(), articles.join(",")),
                    ]);
                    details.set_error_info(first.article.reason(), ERROR_DOMAIN, metadata);
                }
                for v in violations {
                    details.add_precondition_failure_violation(
                        v.article.reason(),
                        v.subject,
                        v.description,
                    );
                }
                Status::with_error_details(code, message, details)
            }
            Self::NotFound {
                resource_type,
                resource_name,
            }
            | Self::AlreadyExists {
                resource_type,
                resource_name,
            } => Status::with_error_details(
                code,
                message,
                ErrorDetails::with_resource_info(
                    resource_type,
                    clip(&resource_name, MAX_DETAIL_CHARS),
                    "",
                    "",
                ),
            ),
            Self::FailedPrecondition(_) => Status::with_error_details(
                code,
                message.clone(),
                ErrorDetails::with_precondition_failure_violation(
                    STATE,
                    "",
                    clip(&message, MAX_DETAIL_CHARS),
                ),
            ),
            Self::Unauthenticated(_) => Status::with_error_details(
                code,
                message,
                ErrorDetails::with_error_info(CALLER_NOT_VERIFIED, ERROR_DOMAIN, HashMap::new()),
            ),
            Self::PermissionDenied(_) => Status::with_error_details(
                code,
                message,
                ErrorDetails::with_error_info(CALLER_NOT_ALLOWED, ERROR_DOMAIN, HashMap::new()),
            ),
            Self::Unavailable(_) => {
                tracing::warn!(error = %message, "dependency unavailable");
                Status::new(code, message)
            }
            Self::DeadlineExceeded(_) => {
                tracing::warn!(error = %message, "dependency too slow for the deadline");
                Status::new(code, message)
            }
            Self::Internal(source) => {
                tracing::error!(error = %cause_chain(source.as_ref()), "internal error");
                Status::new(code, message)
            }
            Self::Conflict => Status::new(code, message),
        }
    }
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        error.into_status()
    }
}

/// `text` cut to at most `max` characters, marked with `…` when cut.
fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((end, _)) if text.chars().count() > max => format!("{}…", &text[..end]),
        _ => text.to_owned(),
    }
}

/// `; and N more` when `shown` of `total` violations are returned.
fn more(total: usize, shown: usize) -> String {
    if total > shown {
        format!("; and {} more", total - shown)
    } else {
        String::new()
    }
}

/// `outer: inner: innermost`, for logs.
pub(crate) fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        if error.is_transient() {
            Self::Unavailable("the database")
        } else {
            Self::internal(error)
        }
    }
}

impl From<AppendError> for ServiceError {
    fn from(error: AppendError) -> Self {
        match error {
            AppendError::WrongExpectedVersion { .. } => Self::Conflict,
            AppendError::Store(store) => store.into(),
            other => Self::internal(other),
        }
    }
}

/// A domain error converts to a [`ServiceError`] by its own rules.
impl<E> From<ExecuteError<E>> for ServiceError
where
    E: std::error::Error + Into<ServiceError> + 'static,
{
    fn from(error: ExecuteError<E>) -> Self {
        match error {
            ExecuteError::Domain(domain) => domain.into(),
            ExecuteError::Contention { .. } => Self::Conflict,
            ExecuteError::Append(append) => append.into(),
            ExecuteError::Store(store) => store.into(),
            ExecuteError::Decode { event_id, reason } => Self::Internal(
                format!("stored event {event_id} cannot be decoded: {reason}").into(),
            ),
        }
    }
}

#[cfg(test)]
mod tests;
