//! `hellowork token` from the outside, as a person runs it.

use std::process::Command;

use hellowork_auth::{DevKey, Role, TokenVerifier, VerifierConfig};

fn hellowork(key_dir: &std::path::Path, environment: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hellowork"))
        .args(args)
        .env("HELLOWORK_DEV_KEY_DIR", key_dir)
        .env("HELLOWORK_ENVIRONMENT", environment)
        .env_remove("HELLOWORK_JWT_ISSUER")
        .env_remove("HELLOWORK_JWT_AUDIENCE")
        .output()
        .expect("run hellowork")
}

fn key_dir(test: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("hellowork-cli-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_minted_token_is_accepted_by_what_the_services_trust() {
    let dir = key_dir("mint");
    let output = hellowork(
        &dir,
        "development",
        &[
            "token",
            "--subject",
            "counsellor-7",
            "--role",
            "counsellor",
            "--role",
            "supervisor",
            "--ttl",
            "10m",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    // What a development service loads: the same key, the default issuer and audience.
    let key = DevKey::load_or_generate(&dir, "development").unwrap();
    let verifier = TokenVerifier::new(VerifierConfig {
        issuer: "hellowork-dev".into(),
        audience: "hellowork".into(),
        keys: vec![(key.kid().to_owned(), key.public_key().clone())],
        leeway_seconds: 0,
        max_lifetime_seconds: hellowork_auth::DEFAULT_MAX_LIFETIME_SECONDS,
    })
    .unwrap();
    let caller = verifier.verify(&token).unwrap();
    assert_eq!(caller.subject(), "counsellor-7");
    assert!(caller.has_role(Role::Counsellor) && caller.has_role(Role::Supervisor));
    std::fs::remove_dir_all(dir).unwrap();
}

/// Art. 7(2): staff tokens name the person behind the subject; a malformed
/// personnel id mints nothing.
#[test]
fn a_personnel_id_is_minted_into_the_token() {
    let dir = key_dir("personnel");
    let output = hellowork(
        &dir,
        "development",
        &[
            "token",
            "--subject",
            "approver-1",
            "--role",
            "approver",
            "--personnel-id",
            "P-0042",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let key = DevKey::load_or_generate(&dir, "development").unwrap();
    let verifier = TokenVerifier::new(VerifierConfig {
        issuer: "hellowork-dev".into(),
        audience: "hellowork".into(),
        keys: vec![(key.kid().to_owned(), key.public_key().clone())],
        leeway_seconds: 0,
        max_lifetime_seconds: hellowork_auth::DEFAULT_MAX_LIFETIME_SECONDS,
    })
    .unwrap();
    assert_eq!(
        verifier.verify(&token).unwrap().personnel_id(),
        Some("P-0042")
    );
    let output = hellowork(
        &dir,
        "development",
        &[
            "token",
            "--subject",
            "approver-1",
            "--role",
            "approver",
            "--personnel-id",
            "P 42",
        ],
    );
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no token printed");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn production_refuses_the_development_key() {
    let dir = key_dir("production");
    let output = hellowork(
        &dir,
        "production",
        &["token", "--subject", "x", "--role", "system"],
    );
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no token printed");
    assert!(!dir.exists(), "no key generated");
}

#[test]
fn unknown_roles_are_refused_with_the_valid_ones_named() {
    let dir = key_dir("roles");
    let output = hellowork(
        &dir,
        "development",
        &["token", "--subject", "x", "--role", "admin"],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("admin"), "{stderr}");
}
