//! Parsing requests into domain values, collecting every field violation
//! with its path (e.g. `records[3].device.ip_address`).

use chrono::{DateTime, Utc};
use hellowork_platform::FieldViolation;
use hellowork_proto::auditlog::v1::{self as proto, AccessKind, AccessOutcome};
use hellowork_values::JobSeekerId;

use crate::{
    domain::{
        legal::{Filing, LegalBasis, Scope, Terms},
        time::to_datetime,
        usage::{Device, Usage},
    },
    ingest::Ingestor,
};

const MAX_TEXT: usize = 256;
const MAX_AGENT: usize = 1024;
/// The longest free text of a legal request or decision.
const MAX_LEGAL_TEXT: usize = 2000;

fn text(
    violations: &mut Vec<FieldViolation>,
    field: String,
    value: &str,
    required: bool,
    max: usize,
) {
    if required && value.trim().is_empty() {
        violations.push(FieldViolation::new(field, "must not be empty"));
    } else if value.len() > max {
        violations.push(FieldViolation::new(
            field,
            format!("must be at most {max} bytes"),
        ));
    } else if value.chars().any(char::is_control) {
        violations.push(FieldViolation::new(
            field,
            "must not contain control characters",
        ));
    }
}

/// A time range, both ends required, start before end.
pub fn range(
    violations: &mut Vec<FieldViolation>,
    field: &str,
    range: Option<&proto::TimeRange>,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let Some(range) = range else {
        violations.push(FieldViolation::new(field, "is required"));
        return None;
    };
    let start = to_datetime(range.start_time.as_ref());
    let end = to_datetime(range.end_time.as_ref());
    match (start, end) {
        (Some(start), Some(end)) if start < end => Some((start, end)),
        (Some(_), Some(_)) => {
            violations.push(FieldViolation::new(
                format!("{field}.end_time"),
                "must be after start_time",
            ));
            None
        }
        _ => {
            violations.push(FieldViolation::new(
                field,
                "start_time and end_time are required",
            ));
            None
        }
    }
}

/// Art. 7(1): one usage record, every problem reported under `prefix`;
/// identifiers sealed by the front system are opened with `opener`'s keys
/// (Art. 7(2)), with the record id as associated data.
pub fn usage(
    violations: &mut Vec<FieldViolation>,
    prefix: &str,
    record: &proto::UsageRecord,
    now: DateTime<Utc>,
    opener: &Ingestor,
) -> Option<Usage> {
    let before = violations.len();
    let at = |name: &str| format!("{prefix}.{name}");
    if uuid::Uuid::parse_str(&record.record_id).is_err() {
        violations.push(FieldViolation::new(at("record_id"), "must be a UUID"));
    }
    // Art. 8: the person's id in the one form every service accepts, so a
    // record joins the person's others under one key.
    let job_seeker_id = if record.job_seeker_id.is_empty() {
        Some(String::new())
    } else {
        match JobSeekerId::new(&record.job_seeker_id) {
            Ok(id) => Some(id.to_string()),
            Err(problem) => {
                violations.push(FieldViolation::new(at("job_seeker_id"), problem));
                None
            }
        }
    };
    let occurred_at = to_datetime(record.occurred_at.as_ref());
    match occurred_at {
        None => violations.push(FieldViolation::new(at("occurred_at"), "is required")),
        Some(t) if t > now + chrono::Duration::minutes(5) => {
            violations.push(FieldViolation::new(
                at("occurred_at"),
                "must not be in the future",
            ));
        }
        Some(_) => {}
    }
    let window = match &record.usage_window {
        None => None,
        Some(w) => range(violations, &at("usage_window"), Some(w)),
    };
    if matches!(
        AccessKind::try_from(record.access_kind),
        Err(_) | Ok(AccessKind::Unspecified)
    ) {
        violations.push(FieldViolation::new(
            at("access_kind"),
            "must be a known access kind",
        ));
    }
    text(violations, at("action"), &record.action, true, MAX_TEXT);
    if record.action.contains('?') {
        violations.push(FieldViolation::new(
            at("action"),
            "must be a route template without query values",
        ));
    }
    text(violations, at("method"), &record.method, true, 16);
    if matches!(
        AccessOutcome::try_from(record.outcome),
        Err(_) | Ok(AccessOutcome::Unspecified)
    ) {
        violations.push(FieldViolation::new(
            at("outcome"),
            "must be a known outcome",
        ));
    }
    if hellowork_proto::scheduling::v1::Offering::try_from(record.offering).is_err() {
        violations.push(FieldViolation::new(
            at("offering"),
            "must be a known offering",
        ));
    }
    text(
        violations,
        at("booking_id"),
        &record.booking_id,
        false,
        MAX_TEXT,
    );
    text(violations, at("source"), &record.source, true, 64);
    let device = match (&record.device, &record.sealed_device) {
        (None, None) => {
            violations.push(FieldViolation::new(
                at("device"),
                "is required, in clear or as sealed_device",
            ));
            None
        }
        (Some(_), Some(_)) => {
            violations.push(FieldViolation::new(
                at("sealed_device"),
                "must not be set together with device",
            ));
            None
        }
        (Some(d), None) => identifiers(violations, &at("device"), d),
        (None, Some(sealed)) => sealed_identifiers(
            violations,
            &at("sealed_device"),
            opener,
            sealed,
            &record.record_id,
        ),
    };
    if violations.len() > before {
        return None;
    }
    Some(Usage {
        record_id: record.record_id.to_ascii_lowercase(),
        job_seeker_id: job_seeker_id?,
        occurred_at: occurred_at?,
        usage_window: window,
        access_kind: record.access_kind,
        action: record.action.clone(),
        method: record.method.clone(),
        outcome: record.outcome,
        offering: record.offering,
        booking_id: record.booking_id.clone(),
        source: record.source.clone(),
        device,
    })
}

/// Art. 7(2): identifiers sealed to this service for `context`, opened and
/// checked like clear ones; every problem is reported against `path`, the
/// sealed field (its part at fault when it does not open), never with any
/// of its content.
pub fn sealed_identifiers(
    violations: &mut Vec<FieldViolation>,
    path: &str,
    opener: &Ingestor,
    sealed: &hellowork_proto::sealing::v1::HpkeSealed,
    context: &str,
) -> Option<Device> {
    match opener.open_device(sealed, context) {
        Ok(opened) => {
            let mut inner = Vec::new();
            let device = identifiers(&mut inner, "", &clear(opened));
            violations.extend(inner.into_iter().map(|v| {
                FieldViolation::new(
                    path,
                    format!(
                        "opens to identifiers whose {} {}",
                        v.field.trim_start_matches('.'),
                        v.description
                    ),
                )
            }));
            device
        }
        Err(error) => {
            crate::metrics::sealed_device_refused("api");
            violations.push(FieldViolation::new(
                format!("{path}.{}", error.field()),
                error.to_string(),
            ));
            None
        }
    }
}

/// Device identifiers, every problem reported under `path`.
fn identifiers(
    violations: &mut Vec<FieldViolation>,
    path: &str,
    d: &proto::DeviceIdentifiers,
) -> Option<Device> {
    let dev = |name: &str| format!("{path}.{name}");
    text(violations, dev("device_id"), &d.device_id, true, MAX_TEXT);
    let ip = d.ip_address.parse::<std::net::IpAddr>().ok();
    if ip.is_none() {
        violations.push(FieldViolation::new(
            dev("ip_address"),
            "must be an IPv4 or IPv6 address",
        ));
    }
    text(
        violations,
        dev("user_agent"),
        &d.user_agent,
        true,
        MAX_AGENT,
    );
    text(violations, dev("os_name"), &d.os_name, false, 64);
    text(violations, dev("os_version"), &d.os_version, false, 64);
    ip.map(|ip_address| Device {
        device_id: d.device_id.clone(),
        ip_address,
        user_agent: d.user_agent.clone(),
        os_name: d.os_name.clone(),
        os_version: d.os_version.clone(),
    })
}

/// The opened identifiers in the shape of the clear ones (same fields).
fn clear(opened: hellowork_proto::sealing::v1::DeviceIdentifiers) -> proto::DeviceIdentifiers {
    proto::DeviceIdentifiers {
        device_id: opened.device_id,
        ip_address: opened.ip_address,
        user_agent: opened.user_agent,
        os_name: opened.os_name,
        os_version: opened.os_version,
    }
}

/// A page size: 0 means `default`, at most `max`.
pub fn page_size(violations: &mut Vec<FieldViolation>, size: i32, default: i64, max: i64) -> i64 {
    match i64::from(size) {
        0 => default,
        n if n < 0 || n > max => {
            violations.push(FieldViolation::new(
                "page_size",
                format!("must be between 0 and {max}"),
            ));
            default
        }
        n => n,
    }
}

/// A page token: the last position returned, as decimal.
pub fn page_token(violations: &mut Vec<FieldViolation>, token: &str) -> i64 {
    if token.is_empty() {
        return 0;
    }
    token.parse::<i64>().unwrap_or_else(|_| {
        violations.push(FieldViolation::new(
            "page_token",
            "is not a token this service issued",
        ));
        0
    })
}

/// Art. 7(2) proviso: a filing as the domain takes it (the filer's fields
/// unset), every malformed field reported; whether its scope is within the
/// ceilings is the domain's rule, not a shape.
pub fn filing(
    violations: &mut Vec<FieldViolation>,
    message: proto::FileLegalRequestRequest,
    now: DateTime<Utc>,
) -> Option<Filing> {
    let before = violations.len();
    let id = uuid::Uuid::parse_str(&message.request_id).map(|u| u.to_string());
    if id.is_err() {
        violations.push(FieldViolation::new("request_id", "must be a UUID"));
    }
    for (field, value) in [
        ("agency", &message.agency),
        ("case_number", &message.case_number),
        ("justification", &message.justification),
    ] {
        if value.trim().is_empty() {
            violations.push(FieldViolation::new(field, "must not be empty"));
        } else if value.len() > MAX_LEGAL_TEXT {
            violations.push(FieldViolation::new(
                field,
                format!("must be at most {MAX_LEGAL_TEXT} bytes"),
            ));
        }
    }
    let basis = LegalBasis::try_from(message.legal_basis).ok();
    if basis.is_none() {
        violations.push(FieldViolation::new(
            "legal_basis",
            "must be a known legal basis",
        ));
    }
    if basis == Some(LegalBasis::OtherStatute) && message.legal_basis_citation.trim().is_empty() {
        violations.push(FieldViolation::new(
            "legal_basis_citation",
            "must name the statute",
        ));
    }
    match &message.scope {
        None => violations.push(FieldViolation::new("scope", "is required")),
        Some(scope) => {
            range(violations, "scope.time_range", scope.time_range.as_ref());
            if scope.job_seeker_ids.is_empty() && scope.device_pseudonyms.is_empty() {
                violations.push(FieldViolation::new(
                    "scope",
                    "must name at least one person or device pseudonym",
                ));
            }
            for (i, p) in scope.job_seeker_ids.iter().enumerate() {
                if let Err(problem) = JobSeekerId::new(p) {
                    violations.push(FieldViolation::new(
                        format!("scope.job_seeker_ids[{i}]"),
                        problem,
                    ));
                }
            }
            for (i, p) in scope.device_pseudonyms.iter().enumerate() {
                if p.device_pseudonym.len() != 32 || p.pseudonym_period.len() != 7 {
                    violations.push(FieldViolation::new(
                        format!("scope.device_pseudonyms[{i}]"),
                        "must be a pseudonym with its period",
                    ));
                }
            }
        }
    }
    match to_datetime(message.requested_expires_at.as_ref()) {
        Some(at) if at > now => {}
        _ => violations.push(FieldViolation::new(
            "requested_expires_at",
            "must be in the future",
        )),
    }
    if violations.len() > before {
        return None;
    }
    // Art. 7(2): persons are found by the lookup tag of their id's one
    // canonical form, so the scope keeps that form, whatever case it came in.
    let mut scope = Scope::of(message.scope.as_ref());
    for id in &mut scope.job_seeker_ids {
        if let Ok(parsed) = JobSeekerId::new(id) {
            *id = parsed.to_string();
        }
    }
    Some(Filing {
        legal_request_id: id.ok()?,
        agency: message.agency,
        legal_basis: basis,
        legal_basis_citation: message.legal_basis_citation,
        case_number: message.case_number,
        scope,
        justification: message.justification,
        requested_expires_at: to_datetime(message.requested_expires_at.as_ref()),
    })
}

/// Art. 7(2) proviso: one approver's terms, every malformed field
/// reported; whether they are within the ceilings is the domain's rule.
pub fn terms(
    violations: &mut Vec<FieldViolation>,
    message: proto::ApproveLegalRequestRequest,
) -> Terms {
    let expires_at = to_datetime(message.expires_at.as_ref());
    if message.expires_at.is_some() && expires_at.is_none() {
        violations.push(FieldViolation::new("expires_at", "is not a valid time"));
    }
    let deferral = match &message.notification_deferral {
        None => None,
        // `try_seconds`: a generated request may carry any i64 of seconds,
        // beyond what a duration holds; that is bad input, not a panic.
        Some(d) if d.seconds >= 0 && (0..1_000_000_000).contains(&d.nanos) => {
            match chrono::Duration::try_seconds(d.seconds) {
                Some(seconds) => Some(seconds + chrono::Duration::nanoseconds(d.nanos.into())),
                None => {
                    violations.push(FieldViolation::new(
                        "notification_deferral",
                        "is longer than any duration this service holds",
                    ));
                    None
                }
            }
        }
        Some(_) => {
            violations.push(FieldViolation::new(
                "notification_deferral",
                "must be a duration of zero or more",
            ));
            None
        }
    };
    let deferred = deferral.is_some_and(|d| d > chrono::Duration::zero());
    if deferred && message.deferral_reason.trim().is_empty() {
        violations.push(FieldViolation::new(
            "deferral_reason",
            "is required when notification_deferral is set",
        ));
    } else if !deferred && !message.deferral_reason.is_empty() {
        violations.push(FieldViolation::new(
            "deferral_reason",
            "must be empty unless notification_deferral is set",
        ));
    } else {
        text(
            violations,
            "deferral_reason".to_owned(),
            &message.deferral_reason,
            false,
            MAX_LEGAL_TEXT,
        );
    }
    if message.note.len() > MAX_LEGAL_TEXT {
        violations.push(FieldViolation::new(
            "note",
            format!("must be at most {MAX_LEGAL_TEXT} bytes"),
        ));
    }
    Terms {
        expires_at,
        disclosure_limit: message.disclosure_limit,
        deferral,
        deferral_reason: message.deferral_reason,
        note: message.note,
    }
}

#[cfg(test)]
mod filing_tests;
