//! The platform configuration's unit tests: the required environment, the
//! development defaults, other services' endpoints and streams, variables
//! named in every refusal (never a secret), and what production requires.

use std::{path::PathBuf, time::Duration};

use super::*;

/// `pairs` on a development machine: `HELLOWORK_ENVIRONMENT=development`
/// unless `pairs` names another environment (a later pair wins).
fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    [("HELLOWORK_ENVIRONMENT", "development")]
        .iter()
        .chain(pairs)
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn no_environment_is_no_default_but_a_refusal_naming_the_variable() {
    let error = PlatformConfig::from_vars(Service::Consent, std::iter::empty()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "HELLOWORK_ENVIRONMENT: required (development or production)"
    );
    let error = AuthConfig::from_vars(std::iter::empty()).unwrap_err();
    assert_eq!(error.variable, "HELLOWORK_ENVIRONMENT");
    for value in ["", "staging"] {
        let set = vars(&[("HELLOWORK_ENVIRONMENT", value)]);
        let error = PlatformConfig::from_vars(Service::Consent, set).unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_ENVIRONMENT");
    }
}

#[test]
fn defaults_work_on_the_development_machine() {
    let config = PlatformConfig::from_vars(Service::AuditLog, vars(&[])).unwrap();
    assert_eq!(config.environment, Environment::Development);
    assert_eq!(config.grpc_addr, "127.0.0.1:50054".parse().unwrap());
    assert_eq!(config.database.schema.as_str(), "auditlog");
    assert_eq!(config.stream.stream_name, "HELLOWORK_AUDITLOG");
    assert_eq!(config.stream.subject_prefix, "hellowork.auditlog.v1");
    assert_eq!(config.nats_url.expose(), "nats://127.0.0.1:4222");
    assert_eq!(
        config.stream_of(Service::Registration).stream_name,
        "HELLOWORK_REGISTRATION"
    );
    assert_eq!(
        config.stream_of(Service::AuditLog).subject_prefix,
        "hellowork.auditlog.v1"
    );
}

#[test]
fn other_services_endpoints_are_configurable() {
    let config = PlatformConfig::from_vars(
        Service::Scheduling,
        vars(&[("HELLOWORK_REGISTRATION_URL", "http://10.0.0.5:7000")]),
    )
    .unwrap();
    assert_eq!(
        config.endpoint_of(Service::Registration),
        "http://10.0.0.5:7000"
    );
    assert_eq!(
        config.endpoint_of(Service::Consent),
        "http://127.0.0.1:50052"
    );
    assert_eq!(config.peer_timeout, Duration::from_secs(2));
}

#[test]
fn other_services_streams_are_configurable() {
    let config = PlatformConfig::from_vars(
        Service::Registration,
        vars(&[
            ("HELLOWORK_NATS_STREAM", "OWN"),
            ("HELLOWORK_CONSENT_NATS_STREAM", "TEST_CONSENT_1"),
            ("HELLOWORK_CONSENT_NATS_SUBJECT_PREFIX", "test_1.consent.v1"),
        ]),
    )
    .unwrap();
    assert_eq!(config.stream.stream_name, "OWN");
    assert_eq!(config.stream_of(Service::Registration).stream_name, "OWN");
    assert_eq!(
        config.stream_of(Service::Consent).stream_name,
        "TEST_CONSENT_1"
    );
    assert_eq!(
        config.stream_of(Service::Consent).subject_prefix,
        "test_1.consent.v1"
    );
}

#[test]
fn an_invalid_value_names_its_variable() {
    let error = PlatformConfig::from_vars(
        Service::Consent,
        vars(&[("HELLOWORK_GRPC_ADDR", "localhost")]),
    )
    .unwrap_err();
    assert_eq!(error.variable, "HELLOWORK_GRPC_ADDR");
    let error = PlatformConfig::from_vars(
        Service::Consent,
        vars(&[("HELLOWORK_REQUEST_TIMEOUT", "soon")]),
    )
    .unwrap_err();
    assert_eq!(error.variable, "HELLOWORK_REQUEST_TIMEOUT");
    let error = PlatformConfig::from_vars(
        Service::Consent,
        vars(&[("HELLOWORK_DATABASE_SCHEMA", "Bad-Name")]),
    )
    .unwrap_err();
    assert_eq!(error.variable, "HELLOWORK_DATABASE_SCHEMA");
}

#[test]
fn a_bad_database_url_is_reported_without_its_secret() {
    let url = "mysql://admin:hunter2@db/x";
    let error =
        PlatformConfig::from_vars(Service::Consent, vars(&[("HELLOWORK_DATABASE_URL", url)]))
            .unwrap_err();
    assert_eq!(error.variable, "HELLOWORK_DATABASE_URL");
    assert!(!error.to_string().contains("hunter2"));
    let config = PlatformConfig::from_vars(
        Service::Consent,
        vars(&[("HELLOWORK_DATABASE_URL", "postgres://admin:hunter2@db/x")]),
    )
    .unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
}

#[test]
fn production_requires_configured_signing_keys() {
    let error = PlatformConfig::from_vars(
        Service::Scheduling,
        vars(&[("HELLOWORK_ENVIRONMENT", "production")]),
    )
    .unwrap_err();
    assert_eq!(error.variable, "HELLOWORK_JWT_PUBLIC_KEYS");
    let config = PlatformConfig::from_vars(
        Service::Scheduling,
        vars(&[
            ("HELLOWORK_ENVIRONMENT", "Production"),
            ("HELLOWORK_JWT_PUBLIC_KEYS", "k1=/etc/keys/k1.pem"),
            ("HELLOWORK_SYSTEM_TOKEN_FILE", "/run/secrets/system.token"),
        ])
        .into_iter()
        .chain(production_vars(Service::Scheduling)),
    )
    .unwrap();
    assert_eq!(
        config.auth.public_keys,
        vec![("k1".to_owned(), PathBuf::from("/etc/keys/k1.pem"))]
    );
}

#[test]
fn production_without_a_system_token_file_is_refused_by_the_configuration() {
    let production = |token: &str| {
        let set = vars(&[
            ("HELLOWORK_ENVIRONMENT", "production"),
            ("HELLOWORK_JWT_PUBLIC_KEYS", "k1=/etc/keys/k1.pem"),
            ("HELLOWORK_SYSTEM_TOKEN_FILE", token),
        ]);
        PlatformConfig::from_vars(
            Service::Consent,
            set.into_iter().chain(production_vars(Service::Consent)),
        )
    };
    for empty in ["", "  "] {
        let error = production(empty).unwrap_err();
        assert_eq!(error.variable, "HELLOWORK_SYSTEM_TOKEN_FILE", "{error}");
        assert!(
            error.problem.starts_with("required in production"),
            "{error}"
        );
    }
    assert!(production("/run/secrets/system.token").is_ok());
    // Development mints its own.
    assert!(PlatformConfig::from_vars(Service::Consent, vars(&[])).is_ok());
}

#[test]
fn token_lifetime_and_key_reloads_default_and_are_bounded() {
    let config = PlatformConfig::from_vars(Service::Consent, vars(&[])).unwrap();
    assert_eq!(config.auth.max_lifetime, Duration::from_secs(3600));
    assert_eq!(config.auth.keys_reload_interval, Duration::from_secs(10));
    let set = vars(&[
        ("HELLOWORK_JWT_MAX_LIFETIME", "15min"),
        ("HELLOWORK_JWT_KEYS_RELOAD_INTERVAL", "500ms"),
    ]);
    let config = PlatformConfig::from_vars(Service::Consent, set).unwrap();
    assert_eq!(config.auth.max_lifetime, Duration::from_secs(900));
    assert_eq!(config.auth.keys_reload_interval, Duration::from_millis(500));
    for (name, value) in [
        ("HELLOWORK_JWT_MAX_LIFETIME", "30days"),
        ("HELLOWORK_JWT_MAX_LIFETIME", "1s"),
        ("HELLOWORK_JWT_MAX_LIFETIME", "soon"),
        ("HELLOWORK_JWT_KEYS_RELOAD_INTERVAL", "1ms"),
    ] {
        let error =
            PlatformConfig::from_vars(Service::Consent, vars(&[(name, value)])).unwrap_err();
        assert_eq!(error.variable, name, "{value}");
    }
}
