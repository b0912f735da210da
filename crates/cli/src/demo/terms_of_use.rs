//! The terms of use as the office handles them in the demo: published from
//! the office's text when none are in force (Art. 4, 6; the text is read at
//! run time, never part of this repository), and revised without consent
//! under Art. 13(2): announced before its effective date, with a notice to
//! every registered user.

use std::{path::Path, time::Duration};

use chrono::{DateTime, Days, NaiveDate, Utc};
use hellowork_auth::Role;
use hellowork_proto::consent::v1 as consent;
use sha2::{Digest, Sha256};
use tonic::Code;

use super::{
    OPERATOR, Pending, TOKYO, clients::Clients, eventually, explain, progress, report, time,
    timestamp,
};
use crate::terms::{Kind, date, publication_id};

/// The version the office's text is published as (as in the README's
/// `terms publish` command): established 2021-03-01, revised and effective
/// 2023-12-18.
const TERMS_VERSION: &str = "2023-12-18";
const FIRST_EFFECTIVE: NaiveDate = day(2023, 12, 18);
const ESTABLISHED: NaiveDate = day(2021, 3, 1);

/// How long the consent service's read models may take to catch up.
const PATIENCE: Duration = Duration::from_secs(30);

/// A date known to be valid, at compile time.
const fn day(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("not a date"),
    }
}

/// A stable UUID for a request the demo may repeat (a rerun after a failed
/// run), so the service returns the first result instead of acting twice.
fn derived_id(parts: &[&str]) -> String {
    let digest = Sha256::digest(parts.join("\0").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// The terms a person is shown when applying (Art. 4, 6).
#[derive(Debug, Clone)]
pub struct TermsInForce {
    pub terms: consent::TermsDocument,
    pub meeting_app: consent::TermsDocument,
    pub report: report::Terms,
}

async fn in_force(
    clients: &Clients,
    kind: consent::TermsKind,
    at: Option<DateTime<Utc>>,
) -> Result<Option<consent::TermsDocument>, String> {
    let request = clients.request(
        consent::GetTermsInForceRequest {
            kind: kind.into(),
            language: "ja".into(),
            at: at.map(timestamp),
        },
        OPERATOR,
        Role::Operator,
    )?;
    match clients.consent.clone().get_terms_in_force(request).await {
        Ok(response) => Ok(response.into_inner().terms_document),
        Err(status) if status.code() == Code::NotFound => Ok(None),
        Err(status) => Err(format!(
            "asking for the terms in force: {}",
            explain(status)
        )),
    }
}

/// The terms in force, publishing the text of `path` (by default the
/// office's, else the stand-in: [`terms_text`]) and a stand-in for the
/// meeting app's terms first if none are.
pub async fn ensure_terms(clients: &Clients, path: Option<&Path>) -> Result<TermsInForce, String> {
    let mut published_terms = false;
    if in_force(clients, consent::TermsKind::OnlineServices, None)
        .await?
        .is_none()
    {
        let text = terms_text(path, Path::new(OFFICE_TERMS))?;
        publish_terms(clients, &text, TERMS_VERSION, FIRST_EFFECTIVE).await?;
        published_terms = true;
    }
    let mut published_app = false;
    if in_force(clients, consent::TermsKind::MeetingApp, None)
        .await?
        .is_none()
    {
        publish_meeting_app_terms(clients).await?;
        published_app = true;
    }
    let terms = wait_in_force(clients, consent::TermsKind::OnlineServices).await?;
    let meeting_app = wait_in_force(clients, consent::TermsKind::MeetingApp).await?;
    Ok(TermsInForce {
        report: report::Terms {
            version: terms.version.clone(),
            sha256: terms.sha256.clone(),
            published_now: published_terms,
            meeting_app_version: meeting_app.version.clone(),
            meeting_app_published_now: published_app,
        },
        terms,
        meeting_app,
    })
}

/// Where the office's text lies beside a checkout, as `hellowork up` and
/// the demo are run from its root.
const OFFICE_TERMS: &str = "../shared/seed/terms-of-use-hellowork-takamatsu.ja.txt";

/// The text to publish: `chosen`'s, else the office's at `office`, else the
/// stand-in written for this project (so the demo runs on a machine without
/// the office's text); says on stderr which.
fn terms_text(chosen: Option<&Path>, office: &Path) -> Result<String, String> {
    if let Some(path) = chosen {
        return std::fs::read_to_string(path).map_err(|e| {
            format!(
                "no terms of use are published yet and {} cannot be read ({e})",
                path.display()
            )
        });
    }
    match std::fs::read_to_string(office) {
        Ok(text) => {
            progress(&format!(
                "publishing the office's terms from {}",
                office.display()
            ));
            Ok(text)
        }
        Err(_) => {
            progress(&format!(
                "publishing the stand-in terms written for this project: the office's text is not at {}",
                office.display()
            ));
            Ok(hellowork_values::STAND_IN_TERMS.to_owned())
        }
    }
}

async fn wait_in_force(
    clients: &Clients,
    kind: consent::TermsKind,
) -> Result<consent::TermsDocument, String> {
    eventually("the terms in force", PATIENCE, || async {
        match in_force(clients, kind, None).await {
            Ok(Some(document)) => Ok(document),
            Ok(None) => Err(Pending::Retry("none in force yet".into())),
            Err(error) => Err(Pending::Fail(error)),
        }
    })
    .await
}

/// Publishes a version of the terms of use; the first version is in force
/// from `effective`, later ones only once announced (Art. 13).
async fn publish_terms(
    clients: &Clients,
    text: &str,
    version: &str,
    effective: NaiveDate,
) -> Result<consent::TermsDocument, String> {
    let sha256 = format!("{:x}", Sha256::digest(text.as_bytes()));
    let title = text
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .unwrap_or("利用規約")
        .to_owned();
    let request = clients.request(
        consent::PublishTermsDocumentRequest {
            request_id: publication_id(Kind::Terms, "ja", version, &sha256),
            version: version.to_owned(),
            language: "ja".into(),
            title,
            full_text: text.to_owned(),
            sha256,
            established_date: Some(date(ESTABLISHED)),
            revised_date: Some(date(effective)),
            effective_date: Some(date(effective)),
        },
        OPERATOR,
        Role::Operator,
    )?;
    clients
        .consent
        .clone()
        .publish_terms_document(request)
        .await
        .map_err(|s| format!("publishing terms version {version}: {}", explain(s)))?
        .into_inner()
        .terms_document
        .ok_or_else(|| "the consent service returned no document".to_owned())
}

/// The designated meeting app's terms are its vendor's (Art. 4); the demo
/// publishes a stand-in so that applying is possible on a fresh stack.
async fn publish_meeting_app_terms(clients: &Clients) -> Result<(), String> {
    const VERSION: &str = "2024-04-01";
    const EFFECTIVE: NaiveDate = day(2024, 4, 1);
    let text = "指定ミーティングアプリの利用規約（開発用の代替テキスト。実際の規約は提供事業者が公開するもの）";
    let sha256 = format!("{:x}", Sha256::digest(text.as_bytes()));
    let request = clients.request(
        consent::PublishMeetingAppTermsRequest {
            request_id: publication_id(Kind::MeetingApp, "ja", VERSION, &sha256),
            meeting_app_name: "Designated meeting app".into(),
            version: VERSION.into(),
            language: "ja".into(),
            title: "指定ミーティングアプリ利用規約".into(),
            full_text: text.into(),
            sha256,
            effective_date: Some(date(EFFECTIVE)),
            source_uri: String::new(),
        },
        OPERATOR,
        Role::Operator,
    )?;
    clients
        .consent
        .clone()
        .publish_meeting_app_terms(request)
        .await
        .map_err(|s| format!("publishing the meeting app's terms: {}", explain(s)))?;
    Ok(())
}

/// An Art. 13(2) revision: the text in force with one clarification,
/// effective 30 days on (after any revision already announced), announced
/// now; then waits until every one of `people` has been notified.
pub async fn revise_terms(
    clients: &Clients,
    people: &[String],
) -> Result<report::Revision, String> {
    let far_future = Utc::now() + chrono::Duration::days(3650);
    let latest = in_force(
        clients,
        consent::TermsKind::OnlineServices,
        Some(far_future),
    )
    .await?
    .ok_or("no terms of use are in force to revise")?;
    let latest_effective = latest
        .effective_date
        .and_then(|d| {
            NaiveDate::from_ymd_opt(
                d.year,
                u32::try_from(d.month).ok()?,
                u32::try_from(d.day).ok()?,
            )
        })
        .unwrap_or_default();
    let in_thirty_days = Utc::now()
        .with_timezone(&TOKYO)
        .date_naive()
        .checked_add_days(Days::new(30))
        .ok_or("date out of range")?;
    let effective = in_thirty_days.max(latest_effective.succ_opt().unwrap_or(in_thirty_days));
    let version = effective.to_string();
    let text = format!(
        "{}\n（{version} 改定）本規約の表現の一部を明確化しました。（hellowork demo による改定の例）\n",
        latest.full_text.trim_end()
    );
    let document = publish_terms(clients, &text, &version, effective).await?;
    let announce = consent::AnnounceRevisionRequest {
        request_id: derived_id(&["announce", &document.terms_document_id]),
        terms_document_id: document.terms_document_id.clone(),
        ground: consent::RevisionGround::ReasonableChange.into(),
        reasons: "表現の明確化であり、本規約の目的に反せず、変更の必要性と内容に照らして合理的であるため（第13条第2号）".into(),
        change_summary: "本規約の表現の一部を明確化しました。".into(),
    };
    let revision = eventually("announcing the revision", PATIENCE, || async {
        let request = clients
            .request(announce.clone(), OPERATOR, Role::Operator)
            .map_err(Pending::Fail)?;
        match clients.consent.clone().announce_revision(request).await {
            Ok(response) => response
                .into_inner()
                .revision
                .ok_or_else(|| Pending::Fail("no revision returned".into())),
            // The new document may not be readable yet.
            Err(status) if status.code() == Code::NotFound => Err(Pending::Retry(explain(status))),
            Err(status) => Err(Pending::Fail(explain(status))),
        }
    })
    .await?;
    let notified = notified(clients, people, &revision.revision_id).await?;
    Ok(report::Revision {
        version,
        effective_date: effective,
        announced_at: time(revision.announced_at.as_ref()),
        notified,
        people: people.len(),
    })
}

/// How many of `people` got a notice of `revision_id` (waiting a while for
/// the notices, which follow the announcement as events).
async fn notified(
    clients: &Clients,
    people: &[String],
    revision_id: &str,
) -> Result<usize, String> {
    let count = || async {
        let mut count = 0;
        for person in people {
            let request = clients.request(
                consent::ListNoticesRequest {
                    job_seeker_id: person.clone(),
                    page_size: 50,
                    page_token: String::new(),
                },
                OPERATOR,
                Role::Operator,
            )?;
            let notices = clients
                .consent
                .clone()
                .list_notices(request)
                .await
                .map_err(|s| format!("listing notices: {}", explain(s)))?
                .into_inner()
                .notices;
            count += usize::from(notices.iter().any(|n| n.revision_id == revision_id));
        }
        Ok::<_, String>(count)
    };
    let all = eventually("notices to every job seeker", PATIENCE, || async {
        match count().await {
            Ok(n) if n == people.len() => Ok(n),
            Ok(n) => Err(Pending::Retry(format!("{n} of {} notified", people.len()))),
            Err(error) => Err(Pending::Fail(error)),
        }
    })
    .await;
    match all {
        Ok(n) => Ok(n),
        // Report how far it got rather than fail the whole demo.
        Err(_) => count().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_offices_text_the_stand_in_is_published() {
        let dir = tempfile::tempdir().unwrap();
        let text = terms_text(None, &dir.path().join("absent.txt")).unwrap();
        assert_eq!(text, hellowork_values::STAND_IN_TERMS);
    }

    #[test]
    fn the_offices_text_is_preferred_and_a_chosen_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let office = dir.path().join("office.txt");
        std::fs::write(&office, "利用規約").unwrap();
        assert_eq!(terms_text(None, &office).unwrap(), "利用規約");
        let chosen = dir.path().join("chosen.txt");
        let error = terms_text(Some(&chosen), &office).unwrap_err();
        assert!(error.contains("chosen.txt cannot be read"), "{error}");
        std::fs::write(&chosen, "other").unwrap();
        assert_eq!(terms_text(Some(&chosen), &office).unwrap(), "other");
    }
}
