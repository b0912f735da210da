//! Whatever arrives as a token, verification answers with an error, never a panic.

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hellowork_auth::{Role, TokenIssuer, bearer_token};
use proptest::prelude::*;
use support::{mint_request, verifier};

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9_-]{0,64}",
        any::<Vec<u8>>().prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes)),
        "\\PC{0,32}".prop_map(|json| URL_SAFE_NO_PAD.encode(json)),
    ]
}

fn token_like() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        proptest::collection::vec(segment(), 0..5).prop_map(|parts| parts.join(".")),
    ]
}

proptest! {
    #[test]
    fn arbitrary_tokens_are_errors(token in token_like()) {
        let issuer = TokenIssuer::generate("key-1").unwrap();
        let verifier = verifier(vec![issuer.trusted_key()]);
        prop_assert!(verifier.verify(&token).is_err());
        if let Ok(inner) = bearer_token(&token) {
            prop_assert!(verifier.verify(inner).is_err());
        }
    }

    #[test]
    fn altered_valid_tokens_are_errors(position in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let issuer = TokenIssuer::generate("key-1").unwrap();
        let verifier = verifier(vec![issuer.trusted_key()]);
        let token = issuer.mint(&mint_request("seeker-1", &[Role::JobSeeker])).unwrap();
        let mut bytes = token.clone().into_bytes();
        let index = position.index(bytes.len());
        prop_assume!(bytes[index] != byte);
        bytes[index] = byte;
        let altered = String::from_utf8_lossy(&bytes).into_owned();
        prop_assume!(altered != token);
        prop_assert!(verifier.verify(&altered).is_err(), "{altered}");
    }
}
