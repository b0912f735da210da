//! The audit-log service's Prometheus metrics (Art. 7 oversight). Counters
//! are recorded from the events actually appended — by the gRPC adapter for
//! usage records, legal requests and disclosures, by the peer ingest for
//! what it hears — so a repeated request or redelivery counts nothing; the
//! legal requests by state are read from the legal-request list
//! periodically, so they are right after a restart and when an approval
//! expires with no command at all. Labels are closed enumerations of the
//! contract and service names, never an id, subject, agency, case number or
//! device identifier (Art. 7(2), 8).

use std::time::Duration;

use chrono::Utc;
use hellowork_proto::auditlog::v1::{self as proto, AccessKind};
use prost::Message;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::domain::{
    event::Event,
    legal::{self, RequestState},
};

/// Art. 7(1): usage records stored, by `source` (`api` for
/// `RecordUsage`/`RecordUsageBatch`, else the service whose event it
/// was, e.g. `scheduling`) and `kind` (`PAGE_VIEW`, `API_CALL`,
/// `SESSION_JOIN`, `SESSION_LEAVE`).
pub const USAGE_RECORDS: &str = "auditlog_usage_records_total";
/// Art. 7(1): other services' events recorded on the log, by `service`.
pub const PEER_EVENTS: &str = "auditlog_peer_events_observed_total";
/// Art. 7(2) proviso: legal requests filed, by `basis` (e.g. `COURT_WARRANT`).
pub const LEGAL_FILED: &str = "auditlog_legal_requests_filed_total";
/// Art. 7(2) proviso: decisions on legal requests by a second person, by
/// `decision` (`approved`, `denied`, `revoked`).
pub const LEGAL_DECISIONS: &str = "auditlog_legal_request_decisions_total";
/// Art. 7(2) proviso: disclosures of raw device records to a legal officer.
pub const DISCLOSURES: &str = "auditlog_disclosures_total";
/// Art. 7(2) proviso: raw device records disclosed.
pub const DISCLOSED_RECORDS: &str = "auditlog_disclosed_records_total";
/// Art. 7(2): refused disclosure attempts, by `reason` (e.g. `NOT_APPROVED`,
/// `NOT_NAMED_OFFICER`, `EXPIRED`).
pub const REFUSED_DISCLOSURES: &str = "auditlog_disclosures_refused_total";
/// Art. 7(2) proviso: legal requests by `state` (`FILED`, `APPROVED`,
/// `DENIED`, `EXPIRED`, `REVOKED`) now; every replica reports the same.
pub const LEGAL_REQUESTS: &str = "auditlog_legal_requests";
/// Art. 7(2): sealed device identifiers refused because they did not open,
/// by `source` (`api` for `RecordUsage`/`CheckSealedDevice`, else the service
/// whose event carried them). Anything but zero is forgery or a key mix-up.
pub const SEALED_REFUSED: &str = "auditlog_sealed_device_refused_total";
/// Art. 7(2), 8: data keys destroyed, by `cause` (`retention`, `erasure`):
/// the usage records whose identifying parts they sealed no longer open.
pub const KEYS_SHREDDED: &str = "auditlog_subject_keys_shredded_total";
/// Tamper evidence: verifications of the hash chain, by `intact`.
pub const VERIFICATIONS: &str = "auditlog_log_verifications_total";

/// Transparency: the tree size of the latest signed checkpoint.
pub const CHECKPOINT_SIZE: &str = "auditlog_log_checkpoint_tree_size";
/// Transparency: when the latest checkpoint was signed (Unix seconds).
pub const CHECKPOINT_SIGNED_AT: &str = "auditlog_log_checkpoint_signed_timestamp_seconds";

/// How often the legal requests by state are counted again.
const REFRESH_INTERVAL: Duration = Duration::from_secs(5);

/// The states [`LEGAL_REQUESTS`] reports, each even when no request is in it.
const STATES: [RequestState; 5] = [
    RequestState::Filed,
    RequestState::Approved,
    RequestState::Denied,
    RequestState::Expired,
    RequestState::Revoked,
];

/// Registers the verification counter at zero for both outcomes, so the
/// alert on a broken chain sees the first one.
pub fn register() {
    for intact in ["true", "false"] {
        metrics::counter!(VERIFICATIONS, "intact" => intact).increment(0);
    }
    for source in ["api", "scheduling"] {
        metrics::counter!(SEALED_REFUSED, "source" => source).increment(0);
    }
    for cause in ["retention", "erasure"] {
        metrics::counter!(KEYS_SHREDDED, "cause" => cause).increment(0);
    }
}

/// Art. 7(2), 8: counts `count` data keys just destroyed for `cause`
/// (`retention` or `erasure`).
pub fn keys_shredded(cause: &'static str, count: u64) {
    metrics::counter!(KEYS_SHREDDED, "cause" => cause).increment(count);
}

/// The latest checkpoint covers `tree_size` entries, as of now.
pub fn checkpoint_signed(tree_size: u64) {
    metrics::gauge!(CHECKPOINT_SIZE).set(tree_size as f64);
    metrics::gauge!(CHECKPOINT_SIGNED_AT).set(chrono::Utc::now().timestamp() as f64);
}

/// Counts one verification of the log (its chain and its tree).
pub fn record_verification(intact: bool) {
    let intact = if intact { "true" } else { "false" };
    metrics::counter!(VERIFICATIONS, "intact" => intact).increment(1);
}

/// Counts `count` usage records of `kind` (an `AccessKind`) from `source`,
/// just appended.
pub fn record_usage(source: &str, kind: i32, count: u64) {
    let kind = AccessKind::try_from(kind).unwrap_or_default();
    metrics::counter!(
        USAGE_RECORDS,
        "source" => source.to_owned(),
        "kind" => label(kind.as_str_name(), "ACCESS_KIND_"),
    )
    .increment(count);
}

/// Counts one of `service`'s events, just recorded on the log.
pub fn record_peer_event(service: &str) {
    metrics::counter!(PEER_EVENTS, "service" => service.to_owned()).increment(1);
}

/// Art. 7(2): counts a sealed device blob from `source` that did not open
/// (forged, altered, sealed to another key or for another context) and was
/// refused.
pub fn sealed_device_refused(source: &str) {
    metrics::counter!(SEALED_REFUSED, "source" => source.to_owned()).increment(1);
}

/// Counts the legal events among `events`, just appended.
pub fn record(events: &[Event]) {
    for event in events {
        match event {
            Event::LegalRequestFiled(e) => {
                let basis = proto::LegalBasis::try_from(e.legal_basis).unwrap_or_default();
                let basis = label(basis.as_str_name(), "LEGAL_BASIS_");
                metrics::counter!(LEGAL_FILED, "basis" => basis).increment(1);
            }
            Event::LegalRequestApproved(_) => decision("approved"),
            Event::LegalRequestDenied(_) => decision("denied"),
            Event::LegalRequestRevoked(_) => decision("revoked"),
            Event::DeviceRecordsDisclosed(e) => {
                metrics::counter!(DISCLOSURES).increment(1);
                metrics::counter!(DISCLOSED_RECORDS).increment(e.record_count);
            }
            Event::DeviceDisclosureRefused(e) => {
                let reason = label(e.reason().as_str_name(), "DISCLOSURE_REFUSAL_REASON_");
                metrics::counter!(REFUSED_DISCLOSURES, "reason" => reason).increment(1);
            }
            Event::UsageRecorded(_)
            | Event::PeerEventObserved(_)
            | Event::LogVerified(_)
            | Event::SubjectErased(_)
            | Event::RetentionShredded(_) => {}
        }
    }
}

fn decision(decision: &'static str) {
    metrics::counter!(LEGAL_DECISIONS, "decision" => decision).increment(1);
}

/// Keeps [`LEGAL_REQUESTS`] current until `shutdown`: at start, then every
/// few seconds, from the legal-request list and the clock (an approval
/// expires by time alone).
pub async fn report_legal_requests(pool: PgPool, shutdown: CancellationToken) {
    let mut interval = tokio::time::interval(REFRESH_INTERVAL);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = interval.tick() => {}
        }
        match count_by_state(&pool).await {
            Ok(counts) => {
                for (state, count) in STATES.iter().zip(counts) {
                    let state = label(state.contract_name(), "LEGAL_REQUEST_STATE_");
                    metrics::gauge!(LEGAL_REQUESTS, "state" => state).set(count as f64);
                }
            }
            Err(error) => tracing::warn!(
                error = &error as &dyn std::error::Error,
                "legal requests by state not reported"
            ),
        }
    }
}

/// How many legal requests are in each of [`STATES`] now.
async fn count_by_state(pool: &PgPool) -> Result<[u64; STATES.len()], sqlx::Error> {
    let bodies: Vec<Vec<u8>> = sqlx::query_scalar("SELECT body FROM legal_requests")
        .fetch_all(pool)
        .await?;
    let now = Utc::now();
    let mut counts = [0; STATES.len()];
    for body in bodies {
        let message = proto::LegalRequest::decode(body.as_slice())
            .map_err(|error| sqlx::Error::Decode(error.into()))?;
        let request = legal::LegalRequest::from_message(&message)
            .map_err(|error| sqlx::Error::Decode(error.into()))?;
        let state = legal::state_at(&request, now);
        if let Some(index) = STATES.iter().position(|s| *s == state) {
            counts[index] += 1;
        }
    }
    Ok(counts)
}

/// A contract enum value's name without its type prefix: `SESSION_JOIN`.
fn label(name: &'static str, prefix: &str) -> &'static str {
    name.strip_prefix(prefix).unwrap_or(name)
}
