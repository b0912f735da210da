//! Parsing requests into domain values, collecting every field violation
//! with its path (e.g. `records[3].device.ip_address`).

use chrono::{DateTime, Utc};
use hellowork_platform::FieldViolation;
use hellowork_proto::auditlog::v1::{self as proto, AccessKind, AccessOutcome};

use crate::domain::{
    time::to_datetime,
    usage::{Device, Usage},
};

const MAX_TEXT: usize = 256;
const MAX_AGENT: usize = 1024;

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

/// Art. 7(1): one usage record, every problem reported under `prefix`.
pub fn usage(
    violations: &mut Vec<FieldViolation>,
    prefix: &str,
    record: &proto::UsageRecord,
    now: DateTime<Utc>,
) -> Option<Usage> {
    let before = violations.len();
    let at = |name: &str| format!("{prefix}.{name}");
    if uuid::Uuid::parse_str(&record.record_id).is_err() {
        violations.push(FieldViolation::new(at("record_id"), "must be a UUID"));
    }
    text(
        violations,
        at("job_seeker_id"),
        &record.job_seeker_id,
        false,
        MAX_TEXT,
    );
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
    let device = match &record.device {
        None => {
            violations.push(FieldViolation::new(at("device"), "is required"));
            None
        }
        Some(d) => {
            let dev = |name: &str| format!("{prefix}.device.{name}");
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
    };
    if violations.len() > before {
        return None;
    }
    Some(Usage {
        record_id: record.record_id.to_ascii_lowercase(),
        job_seeker_id: record.job_seeker_id.clone(),
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
