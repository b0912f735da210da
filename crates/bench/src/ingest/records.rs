//! The usage records both contenders ingest: realistic and varied (many job
//! seekers with one to three devices each, IPv4 and IPv6, the browsers and
//! systems the office's users have, several routes and outcomes), and
//! derived from their index alone, so that the raw baseline writes exactly
//! the records the service took without keeping them in memory.

use chrono::{DateTime, Utc};
use hellowork_proto::auditlog::v1::{AccessKind, AccessOutcome, DeviceIdentifiers, UsageRecord};
use uuid::Uuid;

/// Distinct job seekers the records spread over.
const PERSONS: u64 = 5_000;
/// How far back the records' times reach: the last day, never the future.
const SPREAD_SECONDS: u64 = 86_400;

/// `(user agent, os name, os version)` as front systems report them.
const AGENTS: [(&str, &str, &str); 7] = [
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36",
        "Windows",
        "10.0.19045",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36 Edg/121.0.2277.83",
        "Windows",
        "11.0.22631",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
        "iOS",
        "17.2.1",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; SO-51D) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
        "Android",
        "14",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_7_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
        "iPadOS",
        "16.7.5",
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
        "macOS",
        "14.2.1",
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
        "Linux",
        "Ubuntu 22.04",
    ),
];

/// `(route template, method, kind)` of the front systems' pages and APIs.
const ROUTES: [(&str, &str, AccessKind); 6] = [
    ("/mypage", "GET", AccessKind::PageView),
    ("/offerings/{offering}/slots", "GET", AccessKind::PageView),
    ("/bookings/{booking_id}", "GET", AccessKind::PageView),
    ("/api/v1/bookings", "POST", AccessKind::ApiCall),
    (
        "/api/v1/bookings/{booking_id}",
        "DELETE",
        AccessKind::ApiCall,
    ),
    ("/api/v1/attestations", "POST", AccessKind::ApiCall),
];

/// The records of one run: record `i` is the same every time it is asked for.
#[derive(Debug, Clone)]
pub struct Records {
    seed: u64,
    /// The newest time a record may carry: the run's start, so that none is
    /// in the future when the service checks it.
    epoch: DateTime<Utc>,
    batch_size: usize,
}

impl Records {
    pub fn new(batch_size: usize) -> Self {
        Self {
            seed: Uuid::new_v4().as_u64_pair().0,
            epoch: Utc::now(),
            batch_size,
        }
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Batch `index`: records `index * batch_size ..` of the run.
    pub fn batch(&self, index: u64) -> Vec<UsageRecord> {
        let size = self.batch_size as u64;
        (index * size..(index + 1) * size)
            .map(|i| self.record(i))
            .collect()
    }

    pub fn record(&self, index: u64) -> UsageRecord {
        let draw = mix(self.seed ^ index);
        let person = draw % PERSONS;
        // Each person's devices: one to three, always the same ones.
        let device = person * 3 + mix(draw) % (1 + person % 3);
        let (user_agent, os_name, os_version) =
            AGENTS[(mix(device) % AGENTS.len() as u64) as usize];
        let (action, method, kind) = ROUTES[(draw >> 20) as usize % ROUTES.len()];
        let outcome = match (draw >> 32) % 100 {
            0..=91 => AccessOutcome::Success,
            92..=95 => AccessOutcome::ClientError,
            96..=98 => AccessOutcome::Denied,
            _ => AccessOutcome::ServerError,
        };
        let booking_id = if action.contains("{booking_id}") {
            self.id(0xB00C, draw % 40_000).to_string()
        } else {
            String::new()
        };
        let back = (draw >> 40) % SPREAD_SECONDS;
        let occurred_at = self.epoch - chrono::Duration::seconds(back as i64);
        UsageRecord {
            record_id: self.id(0x7EC0, index).to_string(),
            job_seeker_id: self.id(0x9E50, person).to_string(),
            occurred_at: Some(prost_types::Timestamp {
                seconds: occurred_at.timestamp(),
                nanos: i32::try_from(occurred_at.timestamp_subsec_nanos()).unwrap_or(0),
            }),
            usage_window: None,
            access_kind: kind as i32,
            action: action.to_owned(),
            method: method.to_owned(),
            outcome: outcome as i32,
            offering: 1 + ((draw >> 8) % 5) as i32,
            booking_id,
            device: Some(DeviceIdentifiers {
                device_id: self.id(0xDE71, device).to_string(),
                // Two networks per device, as at home and at the office.
                ip_address: ip_address(mix(device ^ (draw >> 63))),
                user_agent: user_agent.to_owned(),
                os_name: os_name.to_owned(),
                os_version: os_version.to_owned(),
            }),
            source: if device.is_multiple_of(4) {
                "app"
            } else {
                "web"
            }
            .to_owned(),
            sealed_device: None,
        }
    }

    /// A v4-shaped UUID unique to this run, `kind` and `n`.
    fn id(&self, kind: u64, n: u64) -> Uuid {
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&mix(self.seed ^ kind).to_be_bytes());
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// Addresses from the documentation ranges (RFC 5737, RFC 3849), a third
/// of them IPv6, so that no real network appears in the bench's data.
fn ip_address(draw: u64) -> String {
    let host = draw >> 8 & 0xff;
    match draw % 6 {
        0 => format!("192.0.2.{host}"),
        1 | 2 => format!("198.51.100.{host}"),
        3 => format!("203.0.113.{host}"),
        _ => format!(
            "2001:db8:{:x}:{:x}::{:x}",
            draw >> 16 & 0xffff,
            draw >> 32 & 0xffff,
            draw >> 48
        ),
    }
}

/// SplitMix64's finalizer: cheap, well mixed, deterministic.
fn mix(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn distinct(records: &[UsageRecord], field: impl Fn(&UsageRecord) -> String) -> usize {
        records.iter().map(field).collect::<HashSet<_>>().len()
    }

    fn device(record: &UsageRecord) -> DeviceIdentifiers {
        record.device.clone().unwrap_or_default()
    }

    #[test]
    fn records_are_reproducible_unique_and_varied() {
        let records = Records::new(500);
        assert_eq!(records.batch(3), records.batch(3));
        let all: Vec<_> = (0..4).flat_map(|b| records.batch(b)).collect();
        assert_eq!(all.len(), 2_000);
        assert_eq!(distinct(&all, |r| r.record_id.clone()), all.len());
        assert!(distinct(&all, |r| r.job_seeker_id.clone()) > 1_000);
        assert!(distinct(&all, |r| device(r).device_id) > 1_000);
        assert_eq!(distinct(&all, |r| device(r).user_agent), AGENTS.len());
        assert_eq!(distinct(&all, |r| r.action.clone()), ROUTES.len());
        assert!(all.iter().any(|r| device(r).ip_address.contains(':')));
        assert!(all.iter().any(|r| device(r).ip_address.contains('.')));
        for record in &all {
            Uuid::parse_str(&record.record_id).unwrap();
            device(record)
                .ip_address
                .parse::<std::net::IpAddr>()
                .unwrap();
            let seconds = record.occurred_at.unwrap_or_default().seconds;
            assert!(seconds <= records.epoch.timestamp());
            assert!((1..=5).contains(&record.offering));
        }
    }
}
