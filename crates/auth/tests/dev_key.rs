//! The development key: refused in production, private on disk, reused.

mod support;

use std::os::unix::fs::PermissionsExt as _;

use hellowork_auth::{DEV_KEY_FILE, DevKey, DevKeyError, PublicKey, Role};
use support::{mint_request, verifier};

#[test]
fn refused_in_production_whatever_the_case() {
    let dir = tempfile::tempdir().unwrap();
    for environment in ["production", "Production", "PRODUCTION", " production "] {
        assert!(matches!(
            DevKey::load_or_generate(dir.path(), environment),
            Err(DevKeyError::RefusedInProduction)
        ));
    }
    assert!(!dir.path().join(DEV_KEY_FILE).exists());
}

#[test]
fn generated_once_with_owner_only_permissions_then_reused() {
    let dir = tempfile::tempdir().unwrap();
    let keys_dir = dir.path().join(".data/dev-keys");
    let first = DevKey::load_or_generate(&keys_dir, "development").unwrap();
    assert_eq!(first.path(), keys_dir.join(DEV_KEY_FILE));
    let mode = std::fs::metadata(first.path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let dir_mode = std::fs::metadata(&keys_dir).unwrap().permissions().mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    assert!(first.kid().starts_with("dev-"));
    assert!(hellowork_auth::is_development_kid(first.kid()));
    let token = first
        .mint(&mint_request("system:consent", &[Role::System]))
        .unwrap();
    assert_eq!(
        hellowork_auth::unverified_key_id(&token).as_deref(),
        Some(first.kid())
    );
    assert_eq!(hellowork_auth::unverified_key_id("issued.by.idp"), None);
    assert_eq!(
        first.kid(),
        format!("dev-{}", first.public_key().thumbprint())
    );

    let second = DevKey::load_or_generate(&keys_dir, "test").unwrap();
    assert_eq!(second.kid(), first.kid());
    assert_eq!(second.public_key(), first.public_key());
    assert_eq!(std::fs::read_dir(&keys_dir).unwrap().count(), 1);
}

#[test]
fn the_existing_keys_public_half_is_read_without_generating_one() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(DevKey::existing_public_key(dir.path()).unwrap(), None);
    assert!(!dir.path().join(DEV_KEY_FILE).exists());
    let key = DevKey::load_or_generate(dir.path(), "development").unwrap();
    assert_eq!(
        DevKey::existing_public_key(dir.path()).unwrap().as_ref(),
        Some(key.public_key())
    );
}

#[test]
fn concurrent_generation_keeps_one_key() {
    let dir = tempfile::tempdir().unwrap();
    let kids: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| DevKey::load_or_generate(dir.path(), "dev").unwrap()))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap().kid().to_owned())
            .collect()
    });
    assert!(kids.iter().all(|kid| kid == &kids[0]), "{kids:?}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn minted_tokens_verify_against_the_published_public_key() {
    let dir = tempfile::tempdir().unwrap();
    let dev_key = DevKey::load_or_generate(dir.path(), "development").unwrap();
    let trusted = PublicKey::from_pem(dev_key.public_key().to_pem()).unwrap();
    let verifier = verifier(vec![(dev_key.kid().to_owned(), trusted)]);
    let token = dev_key
        .mint(&mint_request("counsellor-7", &[Role::Counsellor]))
        .unwrap();
    let caller = verifier.verify(&token).unwrap();
    assert_eq!(caller.subject(), "counsellor-7");
    assert!(caller.has_role(Role::Counsellor));
    assert_eq!(dev_key.issuer().kid(), dev_key.kid());
}

#[test]
fn unusable_key_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DEV_KEY_FILE), "not a key").unwrap();
    assert!(matches!(
        DevKey::load_or_generate(dir.path(), "development"),
        Err(DevKeyError::Key { .. })
    ));
}
