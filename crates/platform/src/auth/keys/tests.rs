//! Key rotation without a restart: a changed key file is picked up by the
//! polling, and SIGHUP makes the reload happen at once.

use std::time::{Duration, Instant};

use hellowork_auth::{MintRequest, Role, TokenIssuer};

use super::*;

fn token(issuer: &TokenIssuer) -> String {
    issuer
        .mint(&MintRequest {
            subject: "job-seeker-1".to_owned(),
            roles: vec![Role::JobSeeker],
            ttl: Duration::from_secs(600),
            issuer: "hellowork-test".to_owned(),
            audience: "hellowork".to_owned(),
            not_before: None,
            personnel_id: None,
        })
        .unwrap()
}

fn auth(file: &Path, reload: Duration) -> AuthConfig {
    AuthConfig {
        issuer: "hellowork-test".to_owned(),
        audience: "hellowork".to_owned(),
        public_keys: vec![("k1".to_owned(), file.to_path_buf())],
        dev_key_dir: file.with_file_name("dev-keys"),
        system_token_file: None,
        max_lifetime: Duration::from_secs(3600),
        keys_reload_interval: reload,
    }
}

/// Whether `token` comes to verify within 5 s, doing `nudge` meanwhile.
async fn comes_to_verify(verifier: &SharedVerifier, token: &str, nudge: impl Fn()) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if verifier.current().verify(token).is_ok() {
            return true;
        }
        nudge();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Starts the reload task for `auth`, trusting what its file holds now.
fn watched(auth: &AuthConfig) -> (SharedVerifier, CancellationToken) {
    let initial = from_files(
        Environment::Development,
        auth,
        &read_files(&auth.public_keys),
    )
    .unwrap();
    let verifier = SharedVerifier::new(initial);
    let stop = CancellationToken::new();
    tokio::spawn(reload_keys(
        verifier.clone(),
        Environment::Development,
        auth.clone(),
        stop.clone(),
    ));
    (verifier, stop)
}

#[tokio::test]
async fn a_rotated_key_file_is_trusted_and_the_old_key_withdrawn_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.pem");
    let (old, new) = (
        TokenIssuer::generate("k1").unwrap(),
        TokenIssuer::generate("k1").unwrap(),
    );
    std::fs::write(&file, old.public_key().to_pem()).unwrap();
    let (verifier, stop) = watched(&auth(&file, Duration::from_millis(100)));
    assert!(verifier.current().verify(&token(&old)).is_ok());
    assert!(verifier.current().verify(&token(&new)).is_err());

    // A file that is no key (half written) keeps the keys in use.
    std::fs::write(&file, "-----BEGIN PUBLIC KEY-----\n").unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(verifier.current().verify(&token(&old)).is_ok());

    std::fs::write(&file, new.public_key().to_pem()).unwrap();
    assert!(comes_to_verify(&verifier, &token(&new), || {}).await);
    assert!(verifier.current().verify(&token(&old)).is_err());
    stop.cancel();
}

#[tokio::test]
async fn sighup_reloads_the_keys_at_once() {
    // Installed first, so a SIGHUP never ends the test process, whatever
    // the reload task has registered yet.
    let _ours = signal(SignalKind::hangup()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("idp.pem");
    let (old, new) = (
        TokenIssuer::generate("k1").unwrap(),
        TokenIssuer::generate("k1").unwrap(),
    );
    std::fs::write(&file, old.public_key().to_pem()).unwrap();
    // Polled once an hour: only SIGHUP can bring the new key in time.
    let (verifier, stop) = watched(&auth(&file, Duration::from_secs(3600)));
    std::fs::write(&file, new.public_key().to_pem()).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        verifier.current().verify(&token(&new)).is_err(),
        "reloaded without SIGHUP"
    );
    let hangup = || {
        let _ = std::process::Command::new("kill")
            .args(["-HUP", &std::process::id().to_string()])
            .status();
    };
    assert!(comes_to_verify(&verifier, &token(&new), hangup).await);
    stop.cancel();
}
