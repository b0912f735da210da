//! One person's consent receipts (after the Kantara consent receipt and
//! ISO/IEC TS 27560): recording consent, explicit (Art. 2(1)) or deemed by
//! applying (Art. 4, 6), and withdrawing it (Art. 2(1)).

use chrono::{DateTime, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_proto::consent::v1 as proto;
use hellowork_values::stored_uuid;
use uuid::Uuid;

use super::{
    error::DomainError,
    event::{Event, instant, timestamp},
    terms::TermsRef,
    values::{JobSeekerId, LanguageTag, TIME_ZONE, in_tokyo},
};

/// ISO 3166-1 code of the jurisdiction of every consent (Art. 14).
pub const JURISDICTION: &str = "JP";

/// The controller that receives the consent.
pub const CONTROLLER: &str = "Hello Work Takamatsu";

/// How consent was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentMethod {
    /// Art. 2(1): the person agreed explicitly.
    Explicit,
    /// Art. 4, 6: applying for online services counts as agreeing.
    DeemedByApplication { application_id: Uuid },
}

impl ConsentMethod {
    /// The method and application id a consent event carries.
    pub fn message(&self) -> (proto::ConsentMethod, String) {
        match self {
            Self::Explicit => (proto::ConsentMethod::Explicit, String::new()),
            Self::DeemedByApplication { application_id } => (
                proto::ConsentMethod::DeemedByApplication,
                application_id.to_string(),
            ),
        }
    }

    /// How `recorded` says consent was given; only the two methods are
    /// ever recorded.
    fn recorded(recorded: &proto::ConsentRecorded) -> Self {
        match recorded.method() {
            proto::ConsentMethod::DeemedByApplication => Self::DeemedByApplication {
                application_id: stored_uuid(&recorded.application_id),
            },
            proto::ConsentMethod::Explicit | proto::ConsentMethod::Unspecified => Self::Explicit,
        }
    }
}

/// The version a person says they agreed to: the exact document (explicit
/// consent) or a version label and hash (an application names only those).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreedTerms {
    pub terms_document_id: Option<Uuid>,
    pub version: String,
    pub sha256: String,
}

impl AgreedTerms {
    /// Whether this names exactly the document in force.
    fn matches(&self, in_force: &TermsRef) -> bool {
        self.version == in_force.version
            && self.sha256 == in_force.sha256
            && self
                .terms_document_id
                .is_none_or(|id| id.to_string() == in_force.terms_document_id)
    }
}

/// Records a consent. `terms_in_force` and `meeting_app_terms_in_force` are
/// the versions in force at `consented_at`, read from the terms series by
/// the caller (the domain stays free of I/O).
#[derive(Debug, Clone)]
pub struct RecordConsent {
    pub receipt_id: Uuid,
    pub job_seeker_id: JobSeekerId,
    pub terms: AgreedTerms,
    pub meeting_app_terms: AgreedTerms,
    pub method: ConsentMethod,
    pub consented_at: DateTime<Utc>,
    pub language: LanguageTag,
    pub terms_in_force: Option<TermsRef>,
    pub meeting_app_terms_in_force: Option<TermsRef>,
}

/// Withdraws the person's current consent.
#[derive(Debug, Clone)]
pub struct WithdrawConsent {
    pub job_seeker_id: JobSeekerId,
    pub receipt_id: Uuid,
    pub withdrawn_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum ConsentCommand {
    /// Boxed: a consent carries four terms references, a withdrawal two ids.
    Record(Box<RecordConsent>),
    Withdraw(WithdrawConsent),
}

/// One consent receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub receipt_id: Uuid,
    pub job_seeker_id: JobSeekerId,
    pub terms: TermsRef,
    pub meeting_app_terms: TermsRef,
    pub method: ConsentMethod,
    pub consented_at: DateTime<Utc>,
    pub time_zone: String,
    pub jurisdiction: String,
    pub language: String,
    pub controller: String,
    pub withdrawn_at: Option<DateTime<Utc>>,
}

impl Receipt {
    /// Whether it was withdrawn at or before `at`.
    pub fn withdrawn_by(&self, at: DateTime<Utc>) -> bool {
        self.withdrawn_at.is_some_and(|w| w <= at)
    }
}

/// A person's receipts in the order they were recorded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PersonConsents {
    receipts: Vec<Receipt>,
}

impl PersonConsents {
    pub fn receipts(&self) -> &[Receipt] {
        &self.receipts
    }

    pub fn receipt(&self, receipt_id: Uuid) -> Option<&Receipt> {
        self.receipts.iter().find(|r| r.receipt_id == receipt_id)
    }

    /// The receipt that governs the person at `at`: the latest consent given
    /// at or before it.
    pub fn current_at(&self, at: DateTime<Utc>) -> Option<&Receipt> {
        self.receipts
            .iter()
            .filter(|r| r.consented_at <= at)
            .max_by_key(|r| r.consented_at)
    }

    /// Art. 2(1), 4, 6: records consent to the versions in force.
    fn record(&self, command: &RecordConsent) -> Result<Vec<Event>, DomainError> {
        if self.receipt(command.receipt_id).is_some() {
            // Redelivered application or repeated request: recorded once.
            return Ok(Vec::new());
        }
        let at = in_tokyo(command.consented_at);
        // Art. 2(1): consent is to the terms of use in force, as published.
        let terms = command
            .terms_in_force
            .clone()
            .ok_or_else(|| DomainError::NoTermsInForce { at: at.clone() })?;
        if !command.terms.matches(&terms) {
            return Err(DomainError::TermsNotInForce {
                given: command.terms.version.clone(),
                given_sha256: command.terms.sha256.clone(),
                in_force: terms.version,
                in_force_sha256: terms.sha256,
            });
        }
        // Art. 4: and to the meeting app's terms in force.
        let meeting_app_terms = command
            .meeting_app_terms_in_force
            .clone()
            .ok_or(DomainError::NoMeetingAppTermsInForce { at })?;
        if !command.meeting_app_terms.matches(&meeting_app_terms) {
            return Err(DomainError::MeetingAppTermsNotInForce {
                given: command.meeting_app_terms.version.clone(),
                given_sha256: command.meeting_app_terms.sha256.clone(),
                in_force: meeting_app_terms.version,
                in_force_sha256: meeting_app_terms.sha256,
            });
        }
        let (method, application_id) = command.method.message();
        Ok(vec![Event::ConsentRecorded(proto::ConsentRecorded {
            receipt_id: command.receipt_id.to_string(),
            job_seeker_id: command.job_seeker_id.to_string(),
            terms: Some(terms.message()),
            meeting_app_terms: Some(meeting_app_terms.message()),
            method: method.into(),
            application_id,
            consented_at: Some(timestamp(command.consented_at)),
            time_zone: TIME_ZONE.to_owned(),
            jurisdiction: JURISDICTION.to_owned(),
            language: command.language.to_string(),
            controller: CONTROLLER.to_owned(),
        })])
    }

    /// Art. 2(1): withdrawing the current consent ends eligibility.
    fn withdraw(&self, command: &WithdrawConsent) -> Result<Vec<Event>, DomainError> {
        let receipt_id = command.receipt_id;
        let receipt = self
            .receipt(receipt_id)
            .ok_or_else(|| DomainError::UnknownReceipt {
                receipt_id: receipt_id.to_string(),
            })?;
        if receipt.withdrawn_at.is_some() {
            // Already withdrawn: the repeated request changes nothing.
            return Ok(Vec::new());
        }
        if self
            .receipts
            .last()
            .is_some_and(|latest| latest.receipt_id != receipt_id)
        {
            return Err(DomainError::ReceiptSuperseded {
                receipt_id: receipt_id.to_string(),
            });
        }
        Ok(vec![Event::ConsentWithdrawn(proto::ConsentWithdrawn {
            receipt_id: receipt_id.to_string(),
            job_seeker_id: command.job_seeker_id.to_string(),
            withdrawn_at: Some(timestamp(command.withdrawn_at)),
        })])
    }
}

impl Aggregate for PersonConsents {
    type Command = ConsentCommand;
    type Event = Event;
    type Error = DomainError;

    fn decide(&self, command: &ConsentCommand) -> Result<Vec<Event>, DomainError> {
        match command {
            ConsentCommand::Record(record) => self.record(record),
            ConsentCommand::Withdraw(withdraw) => self.withdraw(withdraw),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::ConsentRecorded(e) => self.receipts.push(Receipt {
                receipt_id: stored_uuid(&e.receipt_id),
                job_seeker_id: JobSeekerId::stored(&e.job_seeker_id),
                terms: TermsRef::from_message(e.terms.as_ref()),
                meeting_app_terms: TermsRef::from_message(e.meeting_app_terms.as_ref()),
                method: ConsentMethod::recorded(e),
                consented_at: instant(e.consented_at.as_ref()),
                time_zone: e.time_zone.clone(),
                jurisdiction: e.jurisdiction.clone(),
                language: e.language.clone(),
                controller: e.controller.clone(),
                withdrawn_at: None,
            }),
            Event::ConsentWithdrawn(e) => {
                if let Some(receipt) = self
                    .receipts
                    .iter_mut()
                    .find(|r| r.receipt_id == stored_uuid(&e.receipt_id))
                {
                    receipt.withdrawn_at = Some(instant(e.withdrawn_at.as_ref()));
                }
            }
            Event::TermsDocumentPublished(_)
            | Event::MeetingAppTermsPublished(_)
            | Event::TermsRevisionAnnounced(_) => {}
        }
        self
    }
}
