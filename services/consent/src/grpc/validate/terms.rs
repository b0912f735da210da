//! The terms documents' requests (Art. 4, 13): publishing the online
//! services' terms and a meeting app's, reading a document and the version
//! in force, and announcing a revision on its ground.

use chrono::{DateTime, Utc};
use hellowork_platform::ServiceError;
use hellowork_proto::consent::v1 as proto;
use uuid::Uuid;

use super::fields::{
    Violations, date, full_text, instant_or_now, language, language_or_japanese, matching_sha256,
    optional_date, optional_text, present, source_uri, text, uuid,
};
use crate::domain::{
    terms::{AnnounceRevision, NewDocument, RevisionGround},
    values::{LanguageTag, TermsKind, TermsVersion, derived_id},
};

/// Longest title accepted, in characters.
const MAX_TITLE_CHARS: usize = 200;
/// Longest meeting-app name, in characters.
const MAX_APP_NAME_CHARS: usize = 100;
/// Longest reasons or change summary, in characters.
const MAX_NOTE_CHARS: usize = 4000;

/// `PublishTermsDocument`.
pub fn publish_terms(
    request: &proto::PublishTermsDocumentRequest,
    now: DateTime<Utc>,
) -> Result<NewDocument, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let version = v.check("version", TermsVersion::new(&request.version));
    let language = v.check("language", language(&request.language));
    let title = v.check("title", text(&request.title, MAX_TITLE_CHARS));
    let full = v.check("full_text", full_text(&request.full_text));
    v.check(
        "sha256",
        matching_sha256(&request.sha256, &request.full_text),
    );
    let established = v.check("established_date", date(request.established_date.as_ref()));
    let revised = v.check("revised_date", optional_date(request.revised_date.as_ref()));
    let effective = v.check("effective_date", date(request.effective_date.as_ref()));
    if let (Some(established), Some(Some(revised))) = (established, revised)
        && revised < established
    {
        v.check::<()>(
            "revised_date",
            Err("must not be before established_date".into()),
        );
    }
    if let (Some(established), Some(effective)) = (established, effective)
        && effective < established
    {
        v.check::<()>(
            "effective_date",
            Err("must not be before established_date".into()),
        );
    }
    v.finish()?;
    Ok(NewDocument {
        terms_document_id: derived_id("terms-document", &present(request_id)?.to_string()),
        kind: TermsKind::OnlineServices,
        version: present(version)?,
        language: present(language)?,
        title: present(title)?,
        full_text: present(full)?,
        established_date: established,
        revised_date: present(revised)?,
        effective_date: present(effective)?,
        meeting_app_name: String::new(),
        source_uri: String::new(),
        published_at: now,
    })
}

/// `PublishMeetingAppTerms`.
pub fn publish_meeting_app_terms(
    request: &proto::PublishMeetingAppTermsRequest,
    now: DateTime<Utc>,
) -> Result<NewDocument, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let app_name = v.check(
        "meeting_app_name",
        text(&request.meeting_app_name, MAX_APP_NAME_CHARS),
    );
    let version = v.check("version", TermsVersion::new(&request.version));
    let language = v.check("language", language(&request.language));
    let title = v.check("title", text(&request.title, MAX_TITLE_CHARS));
    let full = v.check("full_text", full_text(&request.full_text));
    v.check(
        "sha256",
        matching_sha256(&request.sha256, &request.full_text),
    );
    let effective = v.check("effective_date", date(request.effective_date.as_ref()));
    let uri = v.check("source_uri", source_uri(&request.source_uri));
    v.finish()?;
    Ok(NewDocument {
        terms_document_id: derived_id("terms-document", &present(request_id)?.to_string()),
        kind: TermsKind::MeetingApp,
        version: present(version)?,
        language: present(language)?,
        title: present(title)?,
        full_text: present(full)?,
        established_date: None,
        revised_date: None,
        effective_date: present(effective)?,
        meeting_app_name: present(app_name)?,
        source_uri: present(uri)?,
        published_at: now,
    })
}

/// `GetTermsDocument`.
pub fn terms_document_id(request: &proto::GetTermsDocumentRequest) -> Result<Uuid, ServiceError> {
    let mut v = Violations::default();
    let id = v.check("terms_document_id", uuid(&request.terms_document_id));
    v.finish()?;
    present(id)
}

/// `GetTermsInForce`.
pub fn terms_in_force(
    request: &proto::GetTermsInForceRequest,
    now: DateTime<Utc>,
) -> Result<(TermsKind, LanguageTag, DateTime<Utc>), ServiceError> {
    let mut v = Violations::default();
    let kind = v.check(
        "kind",
        match request.kind() {
            proto::TermsKind::OnlineServices => Ok(TermsKind::OnlineServices),
            proto::TermsKind::MeetingApp => Ok(TermsKind::MeetingApp),
            proto::TermsKind::Unspecified => Err("must be ONLINE_SERVICES or MEETING_APP".into()),
        },
    );
    let language = v.check("language", language_or_japanese(&request.language));
    let at = v.check("at", instant_or_now(request.at.as_ref(), now));
    v.finish()?;
    Ok((present(kind)?, present(language)?, present(at)?))
}

/// `AnnounceRevision`.
pub fn announce_revision(
    request: &proto::AnnounceRevisionRequest,
    now: DateTime<Utc>,
) -> Result<AnnounceRevision, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let document = v.check("terms_document_id", uuid(&request.terms_document_id));
    let ground = v.check(
        "ground",
        match request.ground() {
            proto::RevisionGround::GeneralInterest => Ok(RevisionGround::GeneralInterest),
            proto::RevisionGround::ReasonableChange => Ok(RevisionGround::ReasonableChange),
            proto::RevisionGround::Unspecified => Err(
                "must be GENERAL_INTEREST (Art. 13(1)) or REASONABLE_CHANGE (Art. 13(2))".into(),
            ),
        },
    );
    let reasons = v.check("reasons", optional_text(&request.reasons, MAX_NOTE_CHARS));
    let summary = v.check(
        "change_summary",
        text(&request.change_summary, MAX_NOTE_CHARS),
    );
    v.finish()?;
    Ok(AnnounceRevision {
        revision_id: derived_id("revision", &present(request_id)?.to_string()),
        terms_document_id: present(document)?,
        ground: present(ground)?,
        reasons: present(reasons)?,
        change_summary: present(summary)?,
        announced_at: now,
    })
}
