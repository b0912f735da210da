//! Whatever a client sends as its bearer token, `TokenVerifier::verify`
//! answers with an error, never a panic: the verifier trusts a key generated
//! for this run (kid `fuzz`), so no input can carry a valid signature.
#![no_main]

use std::sync::LazyLock;

use hellowork_auth::{TokenIssuer, TokenVerifier, VerifierConfig, bearer_token};
use libfuzzer_sys::fuzz_target;

static VERIFIER: LazyLock<TokenVerifier> = LazyLock::new(|| {
    let issuer = TokenIssuer::generate("fuzz").expect("generate a key");
    TokenVerifier::new(VerifierConfig {
        issuer: "hellowork-fuzz".to_owned(),
        audience: "hellowork".to_owned(),
        keys: vec![issuer.trusted_key()],
        leeway_seconds: 30,
        max_lifetime_seconds: hellowork_auth::DEFAULT_MAX_LIFETIME_SECONDS,
    })
    .expect("a valid verifier configuration")
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    assert!(VERIFIER.verify(&text).is_err());
    // The same bytes as an `authorization` header value.
    if let Ok(token) = bearer_token(&text) {
        assert!(VERIFIER.verify(token).is_err());
    }
});
