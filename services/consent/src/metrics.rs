//! The consent service's Prometheus metrics. Counters are recorded by
//! [`ConsentService`] from the events a command actually appended (a
//! repeated request appends nothing and counts nothing), so consents deemed
//! by the consumer count like those given over gRPC; the terms version in
//! force is read from the store periodically, so it is right after a
//! restart and when a revision takes effect with no command at all. Labels
//! are closed enumerations and the office's published versions, never a
//! person's id (Art. 8).

use std::{collections::HashSet, time::Duration};

use chrono::Utc;
use hellowork_eventstore::StoreError;
use hellowork_platform::ServiceError;
use hellowork_proto::consent::v1 as proto;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{commands::ConsentService, domain::Event, projections::terms_documents};

/// Art. 2(1), 4, 6: consents recorded, by `method` (`EXPLICIT`,
/// `DEEMED_BY_APPLICATION`).
pub const CONSENTS: &str = "consent_consents_recorded_total";
/// Art. 2(1): consents withdrawn.
pub const WITHDRAWALS: &str = "consent_withdrawals_total";
/// Art. 4, 13: terms versions published, by `document` (`online_services`,
/// `meeting_app`).
pub const TERMS_PUBLISHED: &str = "consent_terms_published_total";
/// Art. 13: revisions announced, by `ground` (`GENERAL_INTEREST` for
/// 13(1), `REASONABLE_CHANGE` for 13(2)).
pub const REVISIONS: &str = "consent_revisions_announced_total";
/// Art. 2(1): consent-status answers (scheduling asks one per booking), by
/// `status` (`CONSENTED`, `WITHDRAWN`, `NONE`).
pub const STATUS_ANSWERS: &str = "consent_status_answers_total";
/// Art. 4, 13: 1 for the version of each `document` and `language` in force
/// now (`version` label), 0 for a version that was in force earlier in
/// this process's life.
pub const TERMS_IN_FORCE: &str = "consent_terms_version_in_force";

/// How often the version in force is read again.
const REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// Counts what `events`, just appended, record.
pub fn record(events: &[Event]) {
    for event in events {
        match event {
            Event::ConsentRecorded(e) => {
                let method = label(e.method().as_str_name(), "CONSENT_METHOD_");
                metrics::counter!(CONSENTS, "method" => method).increment(1);
            }
            Event::ConsentWithdrawn(_) => metrics::counter!(WITHDRAWALS).increment(1),
            Event::TermsDocumentPublished(_) => {
                metrics::counter!(TERMS_PUBLISHED, "document" => "online_services").increment(1);
            }
            Event::MeetingAppTermsPublished(_) => {
                metrics::counter!(TERMS_PUBLISHED, "document" => "meeting_app").increment(1);
            }
            Event::TermsRevisionAnnounced(e) => {
                let ground = label(e.ground().as_str_name(), "REVISION_GROUND_");
                metrics::counter!(REVISIONS, "ground" => ground).increment(1);
            }
        }
    }
}

/// Counts one consent-status answer.
pub fn record_status(status: proto::ConsentStatus) {
    let status = label(status.as_str_name(), "CONSENT_STATUS_");
    metrics::counter!(STATUS_ANSWERS, "status" => status).increment(1);
}

/// Keeps [`TERMS_IN_FORCE`] current until `shutdown`: at start, then every
/// few seconds, for every series (kind and language) published so far.
pub async fn report_terms_in_force(
    service: ConsentService,
    pool: PgPool,
    shutdown: CancellationToken,
) {
    let mut reported = HashSet::new();
    let mut interval = tokio::time::interval(REFRESH_INTERVAL);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        match in_force_now(&service, &pool).await {
            Ok(current) => {
                for stale in reported.difference(&current) {
                    gauge(stale).set(0.0);
                }
                for series in &current {
                    gauge(series).set(1.0);
                }
                reported.extend(current);
            }
            Err(error) => tracing::warn!(
                error = &error as &dyn std::error::Error,
                "terms in force not reported"
            ),
        }
    }
}

/// `(document, language, version)` of every version in force now.
type InForce = (&'static str, String, String);

async fn in_force_now(
    service: &ConsentService,
    pool: &PgPool,
) -> Result<HashSet<InForce>, ServiceError> {
    let mut current = HashSet::new();
    let series = terms_documents::series(pool)
        .await
        .map_err(StoreError::Database)?;
    for (kind, language) in series {
        if let Some(in_force) = service.in_force(kind, &language, Utc::now()).await? {
            current.insert((
                kind.as_str(),
                language.as_str().to_owned(),
                in_force.document.version,
            ));
        }
    }
    Ok(current)
}

fn gauge((document, language, version): &InForce) -> metrics::Gauge {
    metrics::gauge!(
        TERMS_IN_FORCE,
        "document" => *document,
        "language" => language.clone(),
        "version" => version.clone(),
    )
}

/// A contract enum value's name without its type prefix: `EXPLICIT`.
fn label(name: &'static str, prefix: &str) -> &'static str {
    name.strip_prefix(prefix).unwrap_or(name)
}
