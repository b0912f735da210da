//! What the witness reports to Prometheus: how far it has witnessed the
//! log, how fresh its cosignature is, and every inconsistency it found.

use hellowork_proto::witness::v1::Inconsistency;

/// Entries in the latest checkpoint the witness accepted and cosigned.
pub const WITNESSED_SIZE: &str = "witness_tree_size";
/// When the witness last cosigned a checkpoint (Unix seconds); its age is
/// what the staleness alert watches.
pub const COSIGNED_AT: &str = "witness_cosigned_timestamp_seconds";
/// 1 while the witness refuses to cosign for the log, else 0.
pub const REFUSING: &str = "witness_refusing";
/// Inconsistencies found, by `kind` (`bad_signature`, `rollback`, `fork`,
/// `leaf_changed`). Anything but zero is an alert.
pub const INCONSISTENCIES: &str = "witness_inconsistencies_total";
/// Checks of the log's latest checkpoint, by `outcome` (`cosigned`,
/// `unchanged`, `refused`, `unreachable`).
pub const CHECKS: &str = "witness_checks_total";

const KINDS: [Inconsistency; 4] = [
    Inconsistency::BadSignature,
    Inconsistency::Rollback,
    Inconsistency::Fork,
    Inconsistency::LeafChanged,
];

/// The label of `kind`: its proto name without the prefix, lower case.
pub fn kind_label(kind: Inconsistency) -> String {
    kind.as_str_name()
        .trim_start_matches("INCONSISTENCY_")
        .to_ascii_lowercase()
}

/// Registers every series at its starting value, so alerts see the first
/// change.
pub fn register(size: u64, cosigned_at: i64, refusing: bool) {
    for kind in KINDS {
        metrics::counter!(INCONSISTENCIES, "kind" => kind_label(kind)).increment(0);
    }
    for outcome in ["cosigned", "unchanged", "refused", "unreachable"] {
        metrics::counter!(CHECKS, "outcome" => outcome).increment(0);
    }
    accepted(size, cosigned_at);
    metrics::gauge!(REFUSING).set(if refusing { 1.0 } else { 0.0 });
}

pub fn accepted(size: u64, cosigned_at: i64) {
    metrics::gauge!(WITNESSED_SIZE).set(size as f64);
    metrics::gauge!(COSIGNED_AT).set(cosigned_at as f64);
}

pub fn check(outcome: &'static str) {
    metrics::counter!(CHECKS, "outcome" => outcome).increment(1);
}

pub fn inconsistency(kind: Inconsistency, refusing: bool) {
    metrics::counter!(INCONSISTENCIES, "kind" => kind_label(kind)).increment(1);
    if refusing {
        metrics::gauge!(REFUSING).set(1.0);
    }
}
