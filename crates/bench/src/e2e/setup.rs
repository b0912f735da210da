//! Before anything is measured: the office's terms are in force and every
//! simulated person has registered, attested device and environment and
//! applied (consent records the deemed consent), and is eligible to book
//! as scheduling will ask (registration and consent both agree). The
//! measured loop then starts at booking, the load the target is about.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use chrono::Utc;
use hellowork_auth::Role;
use hellowork_journey::{JourneyClient, Mint};
use hellowork_proto::{
    consent::v1 as consent,
    registration::v1::{self as registration, EligibilityReason},
    scheduling::v1 as scheduling,
};
use tokio::{sync::Semaphore, task::JoinSet};
use tonic::{
    Status,
    metadata::{Ascii, MetadataValue},
};

use super::{
    clients::{Clients, Connections, request},
    stack::Stack,
};

/// People enrolled at once: enough to be quick, few enough not to queue
/// for long inside the services.
const CONCURRENCY: usize = 32;
/// How long the services may take to agree that everyone may book
/// (consent hears the applications over JetStream).
const ELIGIBILITY_PATIENCE: Duration = Duration::from_secs(120);

/// A simulated person, ready to book.
#[derive(Debug, Clone)]
pub struct Person {
    pub index: usize,
    pub job_seeker_id: String,
    pub bearer: MetadataValue<Ascii>,
    pub device: scheduling::DeviceIdentifiers,
}

/// Publishes the terms, then enrols `count` people and waits until every
/// one is eligible.
pub async fn people(
    stack: &Stack,
    connections: &Connections,
    as_scheduling: &Connections,
    count: usize,
) -> anyhow::Result<Vec<Person>> {
    let terms = publish_terms(stack, &connections.get(0)).await?;
    let system = stack.minter.bearer("system:scheduling", Role::System)?;
    let minter = stack.minter.clone();
    let mint: Mint = Arc::new(move |subject, role| {
        minter
            .bearer(subject, role)
            .map_err(|e| Status::internal(format!("minting a token: {e:#}")))
    });
    let limit = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    for index in 0..count {
        let clients = connections.get(index);
        let scheduling = as_scheduling.get(index);
        let (terms, system) = (terms.clone(), system.clone());
        let journey = JourneyClient::new(
            clients.registration.clone(),
            clients.scheduling.clone(),
            Arc::clone(&mint),
            Arc::clone(&mint),
        );
        let limit = Arc::clone(&limit);
        let email = format!("bench-{index}@example.jp");
        let device = device(index);
        let minter = stack.minter.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await?;
            let job_seeker_id = journey
                .register(&hellowork_journey::Person::invented(&email))
                .await
                .context("registering")?;
            enrol(&journey, &job_seeker_id, &terms).await?;
            // A job seeker acts on their own id only.
            let bearer = minter.bearer(&job_seeker_id, Role::JobSeeker)?;
            eligible(&scheduling, &system, &job_seeker_id).await?;
            anyhow::Ok(Person {
                index,
                job_seeker_id,
                bearer,
                device,
            })
        });
    }
    let mut people = Vec::with_capacity(count);
    while let Some(joined) = tasks.join_next().await {
        people.push(joined??);
    }
    people.sort_by_key(|person| person.index);
    Ok(people)
}

/// What the front system reports for person `index`: a Windows PC on an
/// address from the documentation ranges (RFC 5737).
fn device(index: usize) -> scheduling::DeviceIdentifiers {
    scheduling::DeviceIdentifiers {
        device_id: format!("bench-device-{index}"),
        ip_address: format!("198.51.100.{}", index % 250 + 1),
        user_agent:
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0"
                .to_owned(),
        os_name: "Windows".to_owned(),
        os_version: "11 25H2".to_owned(),
    }
}

fn request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The terms of use and the meeting app's terms, as an operator publishes
/// them (a stand-in text: the office's own stays outside the repository),
/// once in force: `[online services, meeting app]`.
async fn publish_terms(
    stack: &Stack,
    clients: &Clients,
) -> anyhow::Result<[consent::TermsDocument; 2]> {
    let operator = stack.minter.bearer("bench-operator", Role::Operator)?;
    let effective = Some(consent::Date {
        year: 2023,
        month: 12,
        day: 18,
    });
    let mut consents = clients.consent.clone();
    consents
        .publish_terms_document(request(
            consent::PublishTermsDocumentRequest {
                request_id: request_id(),
                version: "2023-12-18".into(),
                language: "ja".into(),
                title: "オンラインを活用したサービス利用規約".into(),
                full_text: "第1条 (benchmark text standing in for the office's terms)".into(),
                sha256: String::new(),
                established_date: Some(consent::Date {
                    year: 2021,
                    month: 3,
                    day: 1,
                }),
                revised_date: effective,
                effective_date: effective,
            },
            &operator,
        ))
        .await
        .context("publishing the terms")?;
    consents
        .publish_meeting_app_terms(request(
            consent::PublishMeetingAppTermsRequest {
                request_id: request_id(),
                meeting_app_name: "Designated meeting app".into(),
                version: "2024-04-01".into(),
                language: "ja".into(),
                title: "Meeting app terms".into(),
                full_text: "The meeting app's terms.".into(),
                sha256: String::new(),
                effective_date: Some(consent::Date {
                    year: 2024,
                    month: 4,
                    day: 1,
                }),
                source_uri: String::new(),
            },
            &operator,
        ))
        .await
        .context("publishing the meeting app's terms")?;
    let mut in_force = Vec::new();
    for kind in [
        consent::TermsKind::OnlineServices,
        consent::TermsKind::MeetingApp,
    ] {
        let deadline = Instant::now() + ELIGIBILITY_PATIENCE;
        loop {
            let asked = consents
                .get_terms_in_force(request(
                    consent::GetTermsInForceRequest {
                        kind: kind.into(),
                        language: "ja".into(),
                        at: None,
                    },
                    &operator,
                ))
                .await;
            if let Some(document) = asked.ok().and_then(|r| r.into_inner().terms_document) {
                in_force.push(document);
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "no {kind:?} terms in force");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    in_force
        .try_into()
        .map_err(|_| anyhow::anyhow!("expected two terms documents"))
}

/// Attests device and environment (Art. 2(3), 5) and applies under the
/// terms in force (Art. 2(2), 6).
async fn enrol(
    journey: &JourneyClient,
    job_seeker_id: &str,
    [terms, meeting_app]: &[consent::TermsDocument; 2],
) -> anyhow::Result<()> {
    let attestation = journey
        .attest_device(job_seeker_id, registration::DeviceKind::Pc, true)
        .await
        .context("attesting the device")?;
    journey
        .attest_environment(
            job_seeker_id,
            &attestation.device_attestation_id,
            hellowork_testing::passing_environment(),
        )
        .await
        .context("attesting the environment")?;
    journey
        .apply(job_seeker_id, terms, meeting_app)
        .await
        .context("applying for online services")?;
    Ok(())
}

/// Waits until the person may book as scheduling decides it: no unmet
/// condition at registration but consent ones (the consent service is
/// the authority on consent), and consented at the consent service.
async fn eligible(
    clients: &Clients,
    system: &MetadataValue<Ascii>,
    job_seeker_id: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + ELIGIBILITY_PATIENCE;
    loop {
        let at = Some(prost_types::Timestamp {
            seconds: (Utc::now() + chrono::Duration::days(2)).timestamp(),
            nanos: 0,
        });
        let unmet = clients
            .registration
            .clone()
            .check_eligibility(request(
                registration::CheckEligibilityRequest {
                    job_seeker_id: job_seeker_id.to_owned(),
                    at,
                },
                system,
            ))
            .await
            .context("checking eligibility")?
            .into_inner()
            .unmet_conditions;
        let registered = unmet.iter().all(|condition| {
            matches!(
                condition.reason(),
                EligibilityReason::ConsentMissing | EligibilityReason::ConsentWithdrawn
            )
        });
        let status = clients
            .consent
            .clone()
            .get_consent_status(request(
                consent::GetConsentStatusRequest {
                    job_seeker_id: job_seeker_id.to_owned(),
                    at,
                },
                system,
            ))
            .await;
        let consented =
            status.is_ok_and(|r| r.into_inner().status() == consent::ConsentStatus::Consented);
        if registered && consented {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{job_seeker_id} was not eligible after {ELIGIBILITY_PATIENCE:?}: {unmet:?}, consented: {consented}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
