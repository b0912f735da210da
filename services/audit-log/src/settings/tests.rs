//! The settings' unit tests: the development defaults, production's
//! refusal of missing, development and weak keys and secrets (never echoing
//! them), and the bounds of k, the slots and retention.

use super::*;
use crate::transparency::settings::SIGNING_KEY_VAR;
use base64::Engine;

/// A key that is not weak (32 distinct bytes).
fn b64_key(seed: u8) -> String {
    b64(std::array::from_fn::<u8, 32, _>(|i| {
        seed.wrapping_add(i as u8)
    }))
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A pseudonym secret production accepts.
const SECRET: &str = "q7Vd9pX2mL4sT8zR1cW6nB3hJ5kF0gYe";

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn development_defaults_work() {
    let settings = AuditLogSettings::from_vars(Environment::Development, vars(&[])).unwrap();
    assert_eq!(settings.k, 10);
    assert_eq!(settings.slot, chrono::Duration::hours(1));
    assert_eq!(settings.lengths.to_string(), "1h, 1d or 7d");
    assert_eq!(settings.keks().current_id(), "dev");
    assert_eq!(settings.retention, chrono::Duration::days(365));
    assert_eq!(settings.sealing.public_keys().current().key_id, "dev");
}

#[test]
fn production_refuses_a_missing_development_or_weak_sealing_key_under_any_id() {
    let aes = format!("k1={}", b64_key(7));
    let dev_seed = b64(ring::development::AUDITLOG_SEALING_SEED);
    let weak = b64([9u8, 1].repeat(16));
    let good = b64_key(0);
    for sealing in [
        None,
        Some(format!("new={good},old={dev_seed}")),
        Some(format!("s1={good},s1={good}")),
        Some(format!("new={good},old={weak}")),
    ] {
        let mut set = vec![(KEYS_VAR, aes.as_str()), (PSEUDONYM_SECRET_VAR, SECRET)];
        if let Some(sealing) = &sealing {
            set.push((SEALING_KEYS_VAR, sealing.as_str()));
        }
        let error = AuditLogSettings::from_vars(Environment::Production, vars(&set)).unwrap_err();
        assert_eq!(error.variable, SEALING_KEYS_VAR);
        let text = error.to_string();
        assert!(![&dev_seed, &good, &weak].iter().any(|k| text.contains(*k)));
    }
    let ring = format!("s2={good}");
    let (log_key, _) = hellowork_transparency::keys::generate("office-log", false);
    let settings = AuditLogSettings::from_vars(
        Environment::Production,
        vars(&[
            (KEYS_VAR, &aes),
            (PSEUDONYM_SECRET_VAR, SECRET),
            (SEALING_KEYS_VAR, &ring),
            (SIGNING_KEY_VAR, &log_key),
        ]),
    )
    .unwrap();
    assert_eq!(settings.sealing.public_keys().current().key_id, "s2");
}

#[test]
fn production_refuses_development_and_weak_secrets_without_echoing_them() {
    let key = b64_key(7);
    let good_keys = format!("k2={key},k1={key}");
    let dev_keys = format!("dev={}", b64(ring::development::AUDITLOG_KEK));
    let published = |secret: &[u8]| String::from_utf8(secret.to_vec()).unwrap();
    let own_dev = published(ring::development::AUDITLOG_PSEUDONYM_SECRET);
    let registrations = published(ring::development::REGISTRATION_ID_KEY);
    let repeated = "s".repeat(40);
    for (set, variable) in [
        (vec![(PSEUDONYM_SECRET_VAR, SECRET)], KEYS_VAR),
        (
            vec![(KEYS_VAR, &dev_keys), (PSEUDONYM_SECRET_VAR, SECRET)],
            KEYS_VAR,
        ),
        (vec![(KEYS_VAR, good_keys.as_str())], PSEUDONYM_SECRET_VAR),
        (
            vec![(KEYS_VAR, &good_keys), (PSEUDONYM_SECRET_VAR, "short")],
            PSEUDONYM_SECRET_VAR,
        ),
        (
            vec![(KEYS_VAR, &good_keys), (PSEUDONYM_SECRET_VAR, &repeated)],
            PSEUDONYM_SECRET_VAR,
        ),
        (
            vec![(KEYS_VAR, &good_keys), (PSEUDONYM_SECRET_VAR, &own_dev)],
            PSEUDONYM_SECRET_VAR,
        ),
        (
            vec![
                (KEYS_VAR, &good_keys),
                (PSEUDONYM_SECRET_VAR, &registrations),
            ],
            PSEUDONYM_SECRET_VAR,
        ),
    ] {
        let error = AuditLogSettings::from_vars(Environment::Production, vars(&set)).unwrap_err();
        assert_eq!(error.variable, variable, "{error}");
        let text = error.to_string();
        for value in [&key, &own_dev, &registrations, &repeated] {
            assert!(!text.contains(value.as_str()), "{text}");
        }
    }
    let duplicate = format!("k1={key},k1={key}");
    let settings = AuditLogSettings::from_vars(
        Environment::Production,
        vars(&[(KEYS_VAR, &duplicate), (PSEUDONYM_SECRET_VAR, SECRET)]),
    );
    assert!(settings.is_err(), "duplicate kids are refused");
    let keys = format!("k2={key},k1={}", b64_key(8));
    let sealing = format!("s1={}", b64_key(40));
    let (log_key, _) = hellowork_transparency::keys::generate("office-log", false);
    let settings = AuditLogSettings::from_vars(
        Environment::Production,
        vars(&[
            (KEYS_VAR, &keys),
            (PSEUDONYM_SECRET_VAR, SECRET),
            (SEALING_KEYS_VAR, &sealing),
            (SIGNING_KEY_VAR, &log_key),
        ]),
    )
    .unwrap();
    assert_eq!(settings.keks().current_id(), "k2");
}

#[test]
fn k_below_five_and_bad_slots_are_refused() {
    for (name, value) in [
        (K_VAR, "4"),
        (K_VAR, "ten"),
        (SLOT_VAR, "soon"),
        (SLOT_VAR, "1s"),
        (SLOT_VAR, "7min"),
        (SLOT_VAR, "2days"),
        (SLOT_VAR, "90s 500ms"),
    ] {
        let error = AuditLogSettings::from_vars(Environment::Development, vars(&[(name, value)]))
            .unwrap_err();
        assert_eq!(error.variable, name);
    }
    let settings = AuditLogSettings::from_vars(
        Environment::Development,
        vars(&[(K_VAR, "5"), (SLOT_VAR, "30min")]),
    )
    .unwrap();
    assert_eq!(settings.k, 5);
    assert_eq!(settings.slot, chrono::Duration::minutes(30));
    assert_eq!(settings.lengths.to_string(), "30min, 1h, 1d or 7d");
}

#[test]
fn production_refuses_the_development_key_by_its_bytes_under_any_id_or_position() {
    let dev = b64(ring::development::AUDITLOG_KEK);
    let others = b64(ring::development::SCHEDULING_KEK);
    for keys in [
        format!("dev={dev}"),
        format!("renamed={dev}"),
        format!("k2={},old={dev}", b64_key(3)),
        format!(" dev = {dev} "),
        format!("k2={},old={others}", b64_key(3)),
    ] {
        let error = AuditLogSettings::from_vars(
            Environment::Production,
            vars(&[(KEYS_VAR, &keys), (PSEUDONYM_SECRET_VAR, SECRET)]),
        )
        .unwrap_err();
        assert_eq!(error.variable, KEYS_VAR);
        assert!(error.problem.contains("published development"), "{error}");
        assert!(!error.to_string().contains(&dev) && !error.to_string().contains(&others));
    }
    // Outside production the development ring is what runs by default.
    let renamed = format!("renamed={dev}");
    assert!(
        AuditLogSettings::from_vars(Environment::Development, vars(&[(KEYS_VAR, &renamed)]))
            .is_ok()
    );
}

#[test]
fn art_7_2_legal_ceilings_default_sanely_and_are_bounded() {
    let settings = AuditLogSettings::from_vars(Environment::Development, vars(&[])).unwrap();
    assert_eq!(settings.legal, Ceilings::default());
    assert_eq!(settings.legal.approvals_required, 1);
    assert_eq!(settings.legal.max_validity, chrono::Duration::days(30));
    assert_eq!(settings.legal.max_scope_entries, 10);
    assert_eq!(settings.legal.max_scope_span, chrono::Duration::days(366));
    assert_eq!(settings.legal.max_disclosure_limit, 1000);
    assert_eq!(settings.legal.max_deferral, chrono::Duration::days(180));
    for (name, value) in [
        (APPROVALS_REQUIRED_VAR, "0"),
        (APPROVALS_REQUIRED_VAR, "11"),
        (APPROVALS_REQUIRED_VAR, "two"),
        (MAX_APPROVAL_VALIDITY_VAR, "59min"),
        (MAX_APPROVAL_VALIDITY_VAR, "367days"),
        (MAX_APPROVAL_VALIDITY_VAR, "30"),
        (MAX_SCOPE_ENTRIES_VAR, "0"),
        (MAX_SCOPE_ENTRIES_VAR, "1001"),
        (MAX_SCOPE_SPAN_VAR, "10min"),
        (MAX_SCOPE_SPAN_VAR, "3651days"),
        (MAX_DISCLOSURE_LIMIT_VAR, "0"),
        (MAX_DISCLOSURE_LIMIT_VAR, "-1"),
        (MAX_DISCLOSURE_LIMIT_VAR, "1000001"),
        (MAX_NOTIFICATION_DEFERRAL_VAR, "3651days"),
        (MAX_NOTIFICATION_DEFERRAL_VAR, "forever"),
    ] {
        let error = AuditLogSettings::from_vars(Environment::Development, vars(&[(name, value)]))
            .unwrap_err();
        assert_eq!(error.variable, name, "{value}");
    }
    let settings = AuditLogSettings::from_vars(
        Environment::Development,
        vars(&[
            (APPROVALS_REQUIRED_VAR, "2"),
            (MAX_APPROVAL_VALIDITY_VAR, "7days"),
            (MAX_SCOPE_ENTRIES_VAR, "3"),
            (MAX_SCOPE_SPAN_VAR, "31days"),
            (MAX_DISCLOSURE_LIMIT_VAR, "50"),
            (MAX_NOTIFICATION_DEFERRAL_VAR, "0s"),
        ]),
    )
    .unwrap();
    assert_eq!(
        settings.legal,
        Ceilings {
            approvals_required: 2,
            max_validity: chrono::Duration::days(7),
            max_scope_entries: 3,
            max_scope_span: chrono::Duration::days(31),
            max_disclosure_limit: 50,
            max_deferral: chrono::Duration::zero(),
        }
    );
}

#[test]
fn retention_is_a_duration_between_thirty_days_and_ten_years() {
    for value in ["soon", "365", "29days", "3651days", "1h"] {
        let error =
            AuditLogSettings::from_vars(Environment::Development, vars(&[(RETENTION_VAR, value)]))
                .unwrap_err();
        assert_eq!(error.variable, RETENTION_VAR, "{value}");
    }
    for (value, days) in [("30days", 30), ("2years", 730), ("3650days", 3650)] {
        let settings =
            AuditLogSettings::from_vars(Environment::Development, vars(&[(RETENTION_VAR, value)]))
                .unwrap();
        assert_eq!(settings.retention.num_days(), days, "{value}");
    }
}
