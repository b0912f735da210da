//! Why the consent domain refuses a command: each rule of the terms cites
//! its article in the message and, through [`ServiceError::Forbidden`], in
//! the gRPC `ErrorInfo`.

use hellowork_platform::{Article, ServiceError};

/// A refused command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Art. 13: a version label names one text per kind and language.
    #[error("version {version} is already published for this kind and language")]
    VersionExists { version: String },
    /// The revision names a document this series does not hold.
    #[error("terms document {terms_document_id} not found")]
    UnknownDocument { terms_document_id: String },
    /// Art. 4: the meeting app's terms are the vendor's; they follow their
    /// own effective dates and are not revised under Art. 13.
    #[error("Art. 4: meeting-app terms are not revised under Art. 13")]
    MeetingAppTermsNotRevisable,
    /// Art. 13: the first version of a kind and language comes into force on
    /// its effective date; only later versions are revisions.
    #[error("Art. 13: the first version comes into force on its own effective date")]
    FirstVersionNeedsNoRevision,
    /// Art. 13: one document is brought into force by one revision.
    #[error("Art. 13: version {version} is already the subject of a revision")]
    AlreadyRevised { version: String },
    /// Art. 13: revisions take effect one after the other.
    #[error("Art. 13: a revision effective on or after {effective_date} is already announced")]
    RevisionOutOfOrder { effective_date: String },
    /// Art. 13: a revision replaces the version in force; there must be one.
    #[error("Art. 13: no version is in force before {effective_date} to be revised")]
    NothingToRevise { effective_date: String },
    /// Art. 13(2): a change made because it is consistent with the purpose and
    /// reasonable must record why.
    #[error("Art. 13(2): the reasons why the change is reasonable must be recorded")]
    ReasonsRequired,
    /// Art. 13(2) (Civil Code Art. 548-4(3)): a reasonable-change revision not
    /// announced before its effective date has no effect.
    #[error(
        "Art. 13(2): announced at {announced_at}, not before its effective date {effective_at}; such a revision has no effect"
    )]
    ReasonableChangeAnnouncedLate {
        announced_at: String,
        effective_at: String,
    },
    /// Art. 13: the change, the new text and the effective date are
    /// announced before the change takes effect.
    #[error("Art. 13: announced at {announced_at}, not before its effective date {effective_at}")]
    AnnouncedLate {
        announced_at: String,
        effective_at: String,
    },
    /// Art. 2(1): consent is to the terms of use in force when it is given.
    #[error("Art. 2(1): no terms of use are in force at {at}")]
    NoTermsInForce { at: String },
    /// Art. 2(1): consent is to the version in force, exactly as published.
    #[error(
        "Art. 2(1): terms version {given} ({given_sha256}) is not the version in force, {in_force} ({in_force_sha256})"
    )]
    TermsNotInForce {
        given: String,
        given_sha256: String,
        in_force: String,
        in_force_sha256: String,
    },
    /// Art. 4: the meeting app's terms in force must be accepted too.
    #[error("Art. 4: no meeting-app terms are in force at {at}")]
    NoMeetingAppTermsInForce { at: String },
    /// Art. 4: the meeting app's terms accepted must be those in force.
    #[error(
        "Art. 4: meeting-app terms version {given} ({given_sha256}) is not the version in force, {in_force} ({in_force_sha256})"
    )]
    MeetingAppTermsNotInForce {
        given: String,
        given_sha256: String,
        in_force: String,
        in_force_sha256: String,
    },
    /// The receipt to withdraw does not exist for this person.
    #[error("consent receipt {receipt_id} not found")]
    UnknownReceipt { receipt_id: String },
    /// Art. 2(1): only the person's current consent can be withdrawn; an
    /// older receipt was superseded by a later consent.
    #[error("Art. 2(1): receipt {receipt_id} was superseded by a later consent")]
    ReceiptSuperseded { receipt_id: String },
}

impl DomainError {
    /// The article a refusal cites, if it is a rule of the terms.
    pub fn article(&self) -> Option<Article> {
        match self {
            Self::MeetingAppTermsNotRevisable
            | Self::NoMeetingAppTermsInForce { .. }
            | Self::MeetingAppTermsNotInForce { .. } => Some(Article::Art4),
            Self::FirstVersionNeedsNoRevision
            | Self::AlreadyRevised { .. }
            | Self::RevisionOutOfOrder { .. }
            | Self::NothingToRevise { .. }
            | Self::AnnouncedLate { .. } => Some(Article::Art13),
            Self::ReasonsRequired | Self::ReasonableChangeAnnouncedLate { .. } => {
                Some(Article::Art13_2)
            }
            Self::NoTermsInForce { .. }
            | Self::TermsNotInForce { .. }
            | Self::ReceiptSuperseded { .. } => Some(Article::Art2_1),
            Self::VersionExists { .. }
            | Self::UnknownDocument { .. }
            | Self::UnknownReceipt { .. } => None,
        }
    }

    /// The request field or resource the refusal is about.
    fn subject(&self) -> &'static str {
        match self {
            Self::ReasonsRequired => "reasons",
            Self::ReasonableChangeAnnouncedLate { .. } | Self::AnnouncedLate { .. } => {
                "effective_date"
            }
            Self::NoTermsInForce { .. } | Self::TermsNotInForce { .. } => "terms",
            Self::NoMeetingAppTermsInForce { .. } | Self::MeetingAppTermsNotInForce { .. } => {
                "meeting_app_terms"
            }
            Self::ReceiptSuperseded { .. } => "receipt_id",
            _ => "terms_document_id",
        }
    }
}

impl From<DomainError> for ServiceError {
    fn from(error: DomainError) -> Self {
        if let Some(article) = error.article() {
            return ServiceError::forbidden(article, error.subject(), error.to_string());
        }
        match error {
            DomainError::VersionExists { version } => ServiceError::AlreadyExists {
                resource_type: "terms version",
                resource_name: version,
            },
            DomainError::UnknownDocument { terms_document_id } => ServiceError::NotFound {
                resource_type: "terms document",
                resource_name: terms_document_id,
            },
            DomainError::UnknownReceipt { receipt_id } => ServiceError::NotFound {
                resource_type: "consent receipt",
                resource_name: receipt_id,
            },
            other => ServiceError::FailedPrecondition(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_cite_their_article_in_the_status() {
        let status = ServiceError::from(DomainError::ReasonsRequired).into_status();
        assert_eq!(status.code(), tonic::Code::FailedPrecondition);
        assert!(status.message().contains("Art. 13(2)"));
        let status = ServiceError::from(DomainError::UnknownReceipt {
            receipt_id: "r".into(),
        })
        .into_status();
        assert_eq!(status.code(), tonic::Code::NotFound);
    }
}
