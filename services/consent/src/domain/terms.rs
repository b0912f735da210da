//! The versions of one terms text in one language (a "series"), and the
//! Art. 13 revisions that bring later versions of the terms of use into
//! force (Art. 4, 13; Civil Code Art. 548-4).

use chrono::{DateTime, Duration, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_proto::consent::v1 as proto;
use hellowork_values::stored_uuid;
use uuid::Uuid;

use super::{
    error::DomainError,
    event::{Event, date_message, date_of, instant, timestamp},
    values::{CalendarDate, LanguageTag, Sha256Hex, TermsKind, TermsVersion, in_tokyo},
};

/// One published version of a terms text, as the series holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsDocument {
    pub terms_document_id: String,
    pub kind: TermsKind,
    pub version: String,
    pub language: String,
    pub title: String,
    pub full_text: String,
    pub sha256: String,
    pub established_date: Option<CalendarDate>,
    pub revised_date: Option<CalendarDate>,
    pub effective_date: CalendarDate,
    pub published_at: DateTime<Utc>,
    pub meeting_app_name: String,
    pub source_uri: String,
}

impl TermsDocument {
    pub fn reference(&self) -> TermsRef {
        TermsRef {
            terms_document_id: self.terms_document_id.clone(),
            version: self.version.clone(),
            sha256: self.sha256.clone(),
        }
    }
}

/// The exact version of a text a consent or a revision refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsRef {
    pub terms_document_id: String,
    pub version: String,
    pub sha256: String,
}

impl TermsRef {
    pub fn message(&self) -> proto::TermsReference {
        proto::TermsReference {
            terms_document_id: self.terms_document_id.clone(),
            version: self.version.clone(),
            sha256: self.sha256.clone(),
        }
    }

    pub fn from_message(message: Option<&proto::TermsReference>) -> Self {
        let message = message.cloned().unwrap_or_default();
        Self {
            terms_document_id: message.terms_document_id,
            version: message.version,
            sha256: message.sha256,
        }
    }
}

/// The legal ground of a revision made without the users' consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionGround {
    /// Art. 13(1): in the users' general interest.
    GeneralInterest,
    /// Art. 13(2): consistent with the purpose of the terms and reasonable.
    ReasonableChange,
}

impl RevisionGround {
    pub fn message(self) -> proto::RevisionGround {
        match self {
            Self::GeneralInterest => proto::RevisionGround::GeneralInterest,
            Self::ReasonableChange => proto::RevisionGround::ReasonableChange,
        }
    }
}

/// An announced Art. 13 revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub revision_id: Uuid,
    pub new_terms: TermsRef,
    pub previous_terms: TermsRef,
    pub ground: RevisionGround,
    pub reasons: String,
    pub change_summary: String,
    pub effective_date: CalendarDate,
    pub effective_at: DateTime<Utc>,
    pub announced_at: DateTime<Utc>,
}

/// A version to publish. The SHA-256 is computed here from the text, never
/// taken from the client.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub terms_document_id: Uuid,
    pub kind: TermsKind,
    pub version: TermsVersion,
    pub language: LanguageTag,
    pub title: String,
    pub full_text: String,
    /// Terms of use only.
    pub established_date: Option<CalendarDate>,
    /// Terms of use only.
    pub revised_date: Option<CalendarDate>,
    pub effective_date: CalendarDate,
    /// Meeting-app terms only.
    pub meeting_app_name: String,
    /// Meeting-app terms only.
    pub source_uri: String,
    pub published_at: DateTime<Utc>,
}

/// An Art. 13 revision to announce.
#[derive(Debug, Clone)]
pub struct AnnounceRevision {
    pub revision_id: Uuid,
    pub terms_document_id: Uuid,
    pub ground: RevisionGround,
    pub reasons: String,
    pub change_summary: String,
    pub announced_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum TermsCommand {
    Publish(NewDocument),
    AnnounceRevision(AnnounceRevision),
}

/// The version in force at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce<'a> {
    pub document: &'a TermsDocument,
    pub since: DateTime<Utc>,
    /// The Art. 13 revision that brought it into force; none for a first
    /// version or meeting-app terms.
    pub revision: Option<&'a Revision>,
}

/// Every version of one kind of terms in one language, in publication
/// order, and the revisions announced for them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TermsSeries {
    documents: Vec<TermsDocument>,
    revisions: Vec<Revision>,
}

impl TermsSeries {
    pub fn documents(&self) -> &[TermsDocument] {
        &self.documents
    }

    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    pub fn document(&self, terms_document_id: &str) -> Option<&TermsDocument> {
        self.documents
            .iter()
            .find(|d| d.terms_document_id == terms_document_id)
    }

    pub fn document_by_version(&self, version: &str) -> Option<&TermsDocument> {
        self.documents.iter().find(|d| d.version == version)
    }

    pub fn revision(&self, revision_id: Uuid) -> Option<&Revision> {
        self.revisions.iter().find(|r| r.revision_id == revision_id)
    }

    /// Art. 4, 13: the version in force at `at`.
    ///
    /// Terms of use: the first version from its effective date, then each
    /// announced revision from its effective date. Meeting-app terms: the
    /// version with the latest effective date not after `at` (the vendor's
    /// terms change on their own dates).
    pub fn in_force_at(&self, at: DateTime<Utc>) -> Option<InForce<'_>> {
        let first = self.documents.first()?;
        if first.kind == TermsKind::MeetingApp {
            return self
                .documents
                .iter()
                .filter(|d| d.effective_date.start_in_tokyo() <= at)
                .max_by_key(|d| d.effective_date)
                .map(|document| InForce {
                    document,
                    since: document.effective_date.start_in_tokyo(),
                    revision: None,
                });
        }
        let since = first.effective_date.start_in_tokyo();
        if since > at {
            return None;
        }
        let initial = InForce {
            document: first,
            since,
            revision: None,
        };
        Some(
            self.revisions
                .iter()
                .filter(|r| r.effective_at <= at)
                .filter_map(|revision| {
                    Some(InForce {
                        document: self.document(&revision.new_terms.terms_document_id)?,
                        since: revision.effective_at,
                        revision: Some(revision),
                    })
                })
                .fold(initial, |current, next| {
                    if next.since >= current.since {
                        next
                    } else {
                        current
                    }
                }),
        )
    }

    fn publish(&self, new: &NewDocument) -> Result<Vec<Event>, DomainError> {
        let id = new.terms_document_id.to_string();
        if self.document(&id).is_some() {
            // The same request again: it was published the first time.
            return Ok(Vec::new());
        }
        if self.document_by_version(new.version.as_str()).is_some() {
            return Err(DomainError::VersionExists {
                version: new.version.to_string(),
            });
        }
        let sha256 = Sha256Hex::of(&new.full_text).as_str().to_owned();
        let event = match new.kind {
            TermsKind::OnlineServices => {
                Event::TermsDocumentPublished(proto::TermsDocumentPublished {
                    terms_document_id: id,
                    version: new.version.to_string(),
                    language: new.language.to_string(),
                    title: new.title.clone(),
                    full_text: new.full_text.clone(),
                    sha256,
                    established_date: new.established_date.map(date_message),
                    revised_date: new.revised_date.map(date_message),
                    effective_date: Some(date_message(new.effective_date)),
                    published_at: Some(timestamp(new.published_at)),
                })
            }
            TermsKind::MeetingApp => {
                Event::MeetingAppTermsPublished(proto::MeetingAppTermsPublished {
                    terms_document_id: id,
                    meeting_app_name: new.meeting_app_name.clone(),
                    version: new.version.to_string(),
                    language: new.language.to_string(),
                    title: new.title.clone(),
                    full_text: new.full_text.clone(),
                    sha256,
                    effective_date: Some(date_message(new.effective_date)),
                    source_uri: new.source_uri.clone(),
                    published_at: Some(timestamp(new.published_at)),
                })
            }
        };
        Ok(vec![event])
    }

    /// Art. 13: announces a revision of the terms of use.
    fn announce(&self, command: &AnnounceRevision) -> Result<Vec<Event>, DomainError> {
        if self.revision(command.revision_id).is_some() {
            // The same request again: it was announced the first time.
            return Ok(Vec::new());
        }
        let document_id = command.terms_document_id.to_string();
        let document = self
            .document(&document_id)
            .ok_or(DomainError::UnknownDocument {
                terms_document_id: document_id.clone(),
            })?;
        // Art. 4: the vendor's terms are not the office's to revise.
        if document.kind == TermsKind::MeetingApp {
            return Err(DomainError::MeetingAppTermsNotRevisable);
        }
        // Art. 13: the first version comes into force by its own date.
        if self
            .documents
            .first()
            .is_some_and(|first| first.terms_document_id == document_id)
        {
            return Err(DomainError::FirstVersionNeedsNoRevision);
        }
        // Art. 13: one revision per new version.
        if self
            .revisions
            .iter()
            .any(|r| r.new_terms.terms_document_id == document_id)
        {
            return Err(DomainError::AlreadyRevised {
                version: document.version.clone(),
            });
        }
        // Art. 13(2): the reasons for a reasonable change are recorded.
        if command.ground == RevisionGround::ReasonableChange && command.reasons.trim().is_empty() {
            return Err(DomainError::ReasonsRequired);
        }
        // Art. 13, 13(2): announced strictly before 00:00 Asia/Tokyo of the
        // effective date; a late 13(2) revision has no effect at all.
        let effective_at = document.effective_date.start_in_tokyo();
        if command.announced_at >= effective_at {
            let (announced_at, effective_at) =
                (in_tokyo(command.announced_at), in_tokyo(effective_at));
            return Err(match command.ground {
                RevisionGround::ReasonableChange => DomainError::ReasonableChangeAnnouncedLate {
                    announced_at,
                    effective_at,
                },
                RevisionGround::GeneralInterest => DomainError::AnnouncedLate {
                    announced_at,
                    effective_at,
                },
            });
        }
        // Art. 13: revisions take effect one after another.
        if let Some(later) = self
            .revisions
            .iter()
            .find(|r| r.effective_at >= effective_at)
        {
            return Err(DomainError::RevisionOutOfOrder {
                effective_date: later.effective_date.to_string(),
            });
        }
        // Art. 13: it replaces the version in force just before it.
        let previous = self
            .in_force_at(effective_at - Duration::nanoseconds(1))
            .ok_or(DomainError::NothingToRevise {
                effective_date: document.effective_date.to_string(),
            })?;
        Ok(vec![Event::TermsRevisionAnnounced(
            proto::TermsRevisionAnnounced {
                revision_id: command.revision_id.to_string(),
                new_terms: Some(document.reference().message()),
                previous_terms: Some(previous.document.reference().message()),
                ground: command.ground.message().into(),
                reasons: command.reasons.clone(),
                change_summary: command.change_summary.clone(),
                effective_date: Some(date_message(document.effective_date)),
                effective_at: Some(timestamp(effective_at)),
                announced_at: Some(timestamp(command.announced_at)),
            },
        )])
    }
}

impl Aggregate for TermsSeries {
    type Command = TermsCommand;
    type Event = Event;
    type Error = DomainError;

    fn decide(&self, command: &TermsCommand) -> Result<Vec<Event>, DomainError> {
        match command {
            TermsCommand::Publish(new) => self.publish(new),
            TermsCommand::AnnounceRevision(announce) => self.announce(announce),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        match event {
            Event::TermsDocumentPublished(e) => self.documents.push(TermsDocument {
                terms_document_id: e.terms_document_id.clone(),
                kind: TermsKind::OnlineServices,
                version: e.version.clone(),
                language: e.language.clone(),
                title: e.title.clone(),
                full_text: e.full_text.clone(),
                sha256: e.sha256.clone(),
                established_date: date_of(e.established_date.as_ref()),
                revised_date: date_of(e.revised_date.as_ref()),
                effective_date: effective_date(e.effective_date.as_ref()),
                published_at: instant(e.published_at.as_ref()),
                meeting_app_name: String::new(),
                source_uri: String::new(),
            }),
            Event::MeetingAppTermsPublished(e) => self.documents.push(TermsDocument {
                terms_document_id: e.terms_document_id.clone(),
                kind: TermsKind::MeetingApp,
                version: e.version.clone(),
                language: e.language.clone(),
                title: e.title.clone(),
                full_text: e.full_text.clone(),
                sha256: e.sha256.clone(),
                established_date: None,
                revised_date: None,
                effective_date: effective_date(e.effective_date.as_ref()),
                published_at: instant(e.published_at.as_ref()),
                meeting_app_name: e.meeting_app_name.clone(),
                source_uri: e.source_uri.clone(),
            }),
            Event::TermsRevisionAnnounced(e) => self.revisions.push(Revision {
                revision_id: stored_uuid(&e.revision_id),
                new_terms: TermsRef::from_message(e.new_terms.as_ref()),
                previous_terms: TermsRef::from_message(e.previous_terms.as_ref()),
                ground: match e.ground() {
                    proto::RevisionGround::ReasonableChange => RevisionGround::ReasonableChange,
                    _ => RevisionGround::GeneralInterest,
                },
                reasons: e.reasons.clone(),
                change_summary: e.change_summary.clone(),
                effective_date: effective_date(e.effective_date.as_ref()),
                effective_at: instant(e.effective_at.as_ref()),
                announced_at: instant(e.announced_at.as_ref()),
            }),
            Event::ConsentRecorded(_) | Event::ConsentWithdrawn(_) => {}
        }
        self
    }
}

/// Every published version has an effective date (the decide above always
/// writes one).
fn effective_date(date: Option<&proto::Date>) -> CalendarDate {
    let parsed = date_of(date);
    debug_assert!(
        parsed.is_some(),
        "published versions carry an effective date"
    );
    parsed.unwrap_or_else(|| CalendarDate::new(1900, 1, 1).expect("a valid date"))
}
