//! The rows of the matrix: one alteration of the baseline each, the
//! variable its refusal must name, and the values it must never show.

use std::collections::BTreeMap;

use hellowork_eventstore::{EventSigner, signing::development_seed};
use hellowork_platform::Service;
use hellowork_sealing::ring::development;
use hellowork_transparency::keys::{
    DEVELOPMENT_LOG_KEY, DEVELOPMENT_LOG_VERIFIER_KEY, DEVELOPMENT_WITNESS_KEY,
    DEVELOPMENT_WITNESS_VERIFIER_KEY,
};

use crate::{
    baseline::{Baseline, b64, random_key},
    note_keys,
};

/// One alteration: variables set (`Some`) or removed (`None`).
#[derive(Debug)]
pub struct Row {
    pub what: String,
    changes: Vec<(String, Option<String>)>,
    pub variable: String,
    /// Besides the baseline's secrets, what the error must not contain.
    pub offending: Vec<String>,
}

impl Row {
    fn unset(names: &[&str], variable: &str) -> Self {
        Self {
            what: format!("without {}", names.join(", ")),
            changes: names.iter().map(|n| (var(n), None)).collect(),
            variable: var(variable),
            offending: Vec::new(),
        }
    }

    /// `name` set to `value`, which must not be shown, nor any of its
    /// entries (`kid=secret,...`).
    fn set(what: &str, name: &str, value: String) -> Self {
        let mut offending: Vec<String> = value
            .split([',', '='])
            .filter(|part| part.len() >= 8)
            .map(str::to_owned)
            .collect();
        offending.push(value.clone());
        Self {
            what: format!("{name} {what}"),
            changes: vec![(var(name), Some(value))],
            variable: var(name),
            offending,
        }
    }

    fn and_unset(mut self, name: &str) -> Self {
        self.changes.push((var(name), None));
        self
    }

    pub fn apply(&self, baseline: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut vars = baseline.clone();
        for (name, value) in &self.changes {
            match value {
                Some(value) => vars.insert(name.clone(), value.clone()),
                None => vars.remove(name),
            };
        }
        vars
    }
}

fn var(name: &str) -> String {
    format!("HELLOWORK_{name}")
}

/// All zero, too short, and of a few byte values only.
fn weak_keys() -> [(&'static str, Vec<u8>); 3] {
    let mut few_values = [0u8; 32];
    few_values[29..].copy_from_slice(&[1, 2, 3]);
    [
        ("all zero", vec![0; 32]),
        ("16 bytes", random_key()[..16].to_vec()),
        ("of four byte values", few_values.to_vec()),
    ]
}

/// A ring of 32-byte secrets: each published development secret of that
/// size as its older key under another id, and weak keys.
fn ring_rows(name: &str) -> Vec<Row> {
    let published = [
        ("registration's KEK", development::REGISTRATION_KEK),
        ("scheduling's KEK", development::SCHEDULING_KEK),
        ("audit-log's KEK", development::AUDITLOG_KEK),
        (
            "audit-log's sealing seed",
            development::AUDITLOG_SEALING_SEED,
        ),
    ];
    let good = || b64(&random_key());
    let mut rows: Vec<Row> = published
        .iter()
        .map(|(what, key)| {
            let ring = format!("prod-2={},k2={}", good(), b64(key));
            Row::set(&format!("holding {what} as k2"), name, ring)
        })
        .collect();
    rows.extend(weak_keys().map(|(what, key)| {
        let ring = format!("prod-2={},weak={}", good(), b64(&key));
        Row::set(&format!("holding a key {what}"), name, ring)
    }));
    rows
}

/// A secret taken as text: each published development text secret, and
/// weak ones.
fn text_secret_rows(name: &str) -> Vec<Row> {
    let mut rows: Vec<Row> = development::ALL
        .iter()
        .filter_map(|secret| std::str::from_utf8(secret).ok())
        .map(|secret| Row::set("a published development secret", name, secret.to_owned()))
        .collect();
    rows.push(Row::set("all one character", name, "0".repeat(44)));
    rows.push(Row::set("too short", name, "x7Qp2vR9kL".to_owned()));
    rows
}

/// What every service requires in production.
fn platform_rows(service: Service, baseline: &Baseline) -> Vec<Row> {
    let mut rows = vec![
        Row::unset(&["ENVIRONMENT"], "ENVIRONMENT"),
        Row::set("unknown", "ENVIRONMENT", "prod-eu-7".to_owned()),
        Row::unset(
            &["TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CA_FILE"],
            "TLS_CERT_FILE",
        ),
        Row::unset(&["TLS_KEY_FILE"], "TLS_KEY_FILE"),
        Row::unset(&["NATS_NKEY_SEED_FILE"], "NATS_NKEY_SEED_FILE"),
        Row::unset(&["NATS_CA_FILE"], "NATS_CA_FILE"),
        Row::unset(&["JWT_PUBLIC_KEYS"], "JWT_PUBLIC_KEYS"),
        Row::unset(&["SYSTEM_TOKEN_FILE"], "SYSTEM_TOKEN_FILE"),
    ];
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    for mode in [
        "",
        "?sslmode=disable",
        "?sslmode=prefer",
        "?sslmode=require",
    ] {
        let url = format!("postgres://svc:{password}@db.internal:5432/hellowork{mode}");
        let what = format!("with {:?} instead of sslmode=verify-*", mode);
        let mut row = Row::set(&what, "DATABASE_URL", url);
        row.offending.push(password.clone());
        rows.push(row);
    }
    // A seed file that holds no seed: its contents are never shown.
    let not_a_seed = format!("SUnot-a-seed-{}", uuid::Uuid::new_v4().simple());
    let file = baseline.dir.path().join("not-a-seed");
    std::fs::write(&file, &not_a_seed).expect("write the file");
    let mut row = Row::set(
        "naming a file without a seed",
        "NATS_NKEY_SEED_FILE",
        file.display().to_string(),
    );
    row.offending = vec![not_a_seed];
    rows.push(row);
    rows.extend(event_key_rows(service, baseline));
    rows
}

/// The relay's signing key and the trusted producers' keys.
fn event_key_rows(service: Service, baseline: &Baseline) -> Vec<Row> {
    const KEY: &str = "EVENT_SIGNING_KEY";
    let mut rows: Vec<Row> = Service::ALL
        .iter()
        .map(|of| {
            let value = format!("prod-2={}", b64(&development_seed(of.name())));
            Row::set(&format!("{}'s development seed", of.name()), KEY, value)
        })
        .collect();
    rows.extend(weak_keys().map(|(what, key)| {
        Row::set(
            &format!("a seed {what}"),
            KEY,
            format!("prod-2={}", b64(&key)),
        )
    }));
    // The same from a file.
    let file = baseline.dir.path().join("event-signing-key");
    let dev = b64(&development_seed(service.name()));
    std::fs::write(&file, format!("prod-2={dev}")).expect("write the key file");
    let mut row = Row::set(
        "holding its development seed",
        "EVENT_SIGNING_KEY_FILE",
        file.display().to_string(),
    )
    .and_unset(KEY);
    row.offending.push(dev);
    rows.push(row);
    for producer in service.consumes() {
        let name = format!("{}_EVENT_KEYS", producer.name().to_uppercase());
        let good = EventSigner::from_seed("prod-1", &random_key()).expect("a key id");
        let dev = EventSigner::development(producer.name());
        let ring = format!(
            "prod-1={},k2={}",
            b64(&good.public_key()),
            b64(&dev.public_key())
        );
        rows.push(Row::set("holding the development key as k2", &name, ring));
    }
    rows
}

pub fn service(service: Service, baseline: &Baseline) -> Vec<Row> {
    let mut rows = platform_rows(service, baseline);
    match service {
        Service::Consent => {}
        Service::Registration => {
            rows.extend(ring_rows("REGISTRATION_KEKS"));
            rows.extend(text_secret_rows("REGISTRATION_ID_KEY"));
            rows.push(Row::unset(&["REGISTRATION_KEKS"], "REGISTRATION_KEKS"));
            rows.push(Row::unset(&["REGISTRATION_ID_KEY"], "REGISTRATION_ID_KEY"));
        }
        Service::Scheduling => {
            rows.extend(ring_rows("SCHEDULING_KEKS"));
            rows.push(Row::unset(&["SCHEDULING_KEKS"], "SCHEDULING_KEKS"));
        }
        Service::AuditLog => {
            rows.extend(ring_rows("AUDITLOG_KEYS"));
            rows.extend(ring_rows("AUDITLOG_SEALING_KEYS"));
            rows.extend(text_secret_rows("AUDITLOG_PSEUDONYM_SECRET"));
            rows.extend(note_key_rows("AUDITLOG_LOG_SIGNING_KEY", 0x01));
            for name in [
                "AUDITLOG_KEYS",
                "AUDITLOG_SEALING_KEYS",
                "AUDITLOG_PSEUDONYM_SECRET",
                "AUDITLOG_LOG_SIGNING_KEY",
            ] {
                rows.push(Row::unset(&[name], name));
            }
            rows.push(Row::set(
                "naming the development witness",
                "AUDITLOG_WITNESS_KEYS",
                note_keys::renamed_verifier(DEVELOPMENT_WITNESS_VERIFIER_KEY, "office-witness"),
            ));
        }
    }
    rows
}

/// A signed-note private key of `key_type`: each published development
/// key renamed, and a zero seed.
fn note_key_rows(name: &str, key_type: u8) -> Vec<Row> {
    vec![
        Row::set(
            "the development log key renamed",
            name,
            note_keys::renamed_private(DEVELOPMENT_LOG_KEY, "office-key"),
        ),
        Row::set(
            "the development witness key renamed",
            name,
            note_keys::renamed_private(DEVELOPMENT_WITNESS_KEY, "office-key"),
        ),
        Row::set(
            "a zero seed",
            name,
            note_keys::private("office-key", key_type, &[0; 32]),
        ),
    ]
}

pub fn witness(baseline: &Baseline) -> Vec<Row> {
    let mut rows = vec![
        Row::unset(&["ENVIRONMENT"], "ENVIRONMENT"),
        Row::unset(
            &["TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CA_FILE"],
            "TLS_CERT_FILE",
        ),
        Row::unset(&["TLS_CA_FILE"], "TLS_CA_FILE"),
        Row::set(
            "a plaintext log with TLS configured",
            "WITNESS_LOG_URL",
            "http://127.0.0.1:1".to_owned(),
        ),
        Row::unset(&["JWT_PUBLIC_KEYS"], "JWT_PUBLIC_KEYS"),
        Row::unset(&["SYSTEM_TOKEN_FILE"], "SYSTEM_TOKEN_FILE"),
        Row::unset(&["WITNESS_STATE_DIR"], "WITNESS_STATE_DIR"),
        Row::unset(&["WITNESS_LOG_KEY"], "WITNESS_LOG_KEY"),
        Row::unset(&["WITNESS_SIGNING_KEY"], "WITNESS_SIGNING_KEY"),
    ];
    rows.extend(note_key_rows("WITNESS_SIGNING_KEY", 0x04));
    for (what, vkey) in [
        (
            "the development log's key renamed",
            DEVELOPMENT_LOG_VERIFIER_KEY,
        ),
        (
            "the development witness's key renamed",
            DEVELOPMENT_WITNESS_VERIFIER_KEY,
        ),
    ] {
        let renamed = note_keys::renamed_verifier(vkey, "office-log");
        rows.push(Row::set(what, "WITNESS_LOG_KEY", renamed));
    }
    // The signing key from a file, holding the published key renamed.
    let key = note_keys::renamed_private(DEVELOPMENT_WITNESS_KEY, "office-witness");
    let file = baseline.dir.path().join("witness-signing-key");
    std::fs::write(&file, &key).expect("write the key file");
    let mut row = Row::set(
        "holding the development key renamed",
        "WITNESS_SIGNING_KEY_FILE",
        file.display().to_string(),
    )
    .and_unset("WITNESS_SIGNING_KEY");
    row.offending.push(key);
    rows.push(row);
    rows
}
