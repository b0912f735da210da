//! Signing and verifying bearer tokens: every way a token can be rejected,
//! each with its own error.

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::EncodePrivateKey as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use hellowork_auth::{
    AuthError, Claims, MintError, Role, TokenIssuer, TokenVerifier, VerifierConfig,
    VerifierConfigError,
};
use support::{AUDIENCE, ISSUER, MAX_LIFETIME_SECONDS, mint_request, verifier};

/// Seconds since the Unix epoch.
fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(subject: &str, roles: Vec<Role>) -> Claims {
    let now = now();
    Claims {
        iss: ISSUER.to_owned(),
        aud: AUDIENCE.to_owned(),
        sub: subject.to_owned(),
        roles,
        exp: now + 600,
        nbf: now,
        iat: now,
        jti: "jti-1".to_owned(),
        personnel_id: None,
    }
}

fn issuer_and_verifier() -> (TokenIssuer, TokenVerifier) {
    let issuer = TokenIssuer::generate("key-1").unwrap();
    let verifier = verifier(vec![issuer.trusted_key()]);
    (issuer, verifier)
}

#[test]
fn minted_token_verifies_to_its_caller() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer
        .mint(&mint_request(
            "seeker-1",
            &[Role::JobSeeker, Role::Counsellor],
        ))
        .unwrap();
    let caller = verifier.verify(&token).unwrap();
    assert_eq!(caller.subject(), "seeker-1");
    assert_eq!(
        caller.roles().iter().copied().collect::<Vec<_>>(),
        [Role::JobSeeker, Role::Counsellor]
    );
}

/// Art. 7(2): the person behind a staff subject travels in the token and
/// reaches the caller; a token without it verifies to a caller without one.
#[test]
fn a_personnel_id_is_minted_into_the_token_and_verified_with_it() {
    let (issuer, verifier) = issuer_and_verifier();
    let mut request = mint_request("approver-1", &[Role::Approver]);
    request.personnel_id = Some("P-0042".to_owned());
    let token = issuer.mint(&request).unwrap();
    let caller = verifier.verify(&token).unwrap();
    assert_eq!(caller.subject(), "approver-1");
    assert_eq!(caller.personnel_id(), Some("P-0042"));
    let payload = token.split('.').nth(1).unwrap();
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims.personnel_id.as_deref(), Some("P-0042"));

    let without = issuer
        .mint(&mint_request("approver-1", &[Role::Approver]))
        .unwrap();
    let payload: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(without.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert!(payload.get("personnel_id").is_none(), "absent, not null");
    assert_eq!(verifier.verify(&without).unwrap().personnel_id(), None);
}

#[test]
fn a_malformed_personnel_id_is_neither_minted_nor_accepted() {
    let (issuer, verifier) = issuer_and_verifier();
    for bad in ["", "P 42", "P-42\n", &"p".repeat(65)] {
        let mut request = mint_request("approver-1", &[Role::Approver]);
        request.personnel_id = Some(bad.to_owned());
        assert!(
            matches!(issuer.mint(&request), Err(MintError::MalformedPersonnelId)),
            "{bad:?}"
        );
        let mut signed = claims("approver-1", vec![Role::Approver]);
        signed.personnel_id = Some(bad.to_owned());
        let token = issuer.sign(&signed).unwrap();
        assert_eq!(
            verifier.verify(&token),
            Err(AuthError::Malformed),
            "{bad:?}"
        );
    }
    let mut payload = serde_json::to_value(claims("approver-1", vec![Role::Approver])).unwrap();
    payload["personnel_id"] = serde_json::json!(42);
    let (token, verifier) = sign_json(&payload);
    assert_eq!(verifier.verify(&token), Err(AuthError::Malformed));
}

#[test]
fn minted_claims_are_complete() {
    let (issuer, _) = issuer_and_verifier();
    let token = issuer
        .mint(&mint_request("seeker-1", &[Role::System]))
        .unwrap();
    let [header, payload, _signature] = token.split('.').collect::<Vec<_>>()[..] else {
        panic!("compact JWT has three parts");
    };
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], "key-1");
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, AUDIENCE);
    assert_eq!(claims.roles, [Role::System]);
    assert_eq!(claims.nbf, claims.iat);
    assert_eq!(claims.exp, claims.iat + 600);
    assert!(!claims.jti.is_empty());
}

#[test]
fn expired_token_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let mut expired = claims("seeker-1", vec![Role::JobSeeker]);
    expired.exp = now() - 60;
    let token = issuer.sign(&expired).unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::Expired));
}

#[test]
fn expiry_within_leeway_is_accepted() {
    let (issuer, verifier) = issuer_and_verifier();
    let mut just_expired = claims("seeker-1", vec![Role::JobSeeker]);
    just_expired.exp = now() - 1;
    let token = issuer.sign(&just_expired).unwrap();
    assert!(verifier.verify(&token).is_ok());
}

#[test]
fn token_before_not_before_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let mut request = mint_request("seeker-1", &[Role::JobSeeker]);
    request.not_before = Some(SystemTime::now() + Duration::from_secs(3600));
    let token = issuer.mint(&request).unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::NotYetValid));
}

#[test]
fn token_for_another_audience_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let mut request = mint_request("seeker-1", &[Role::JobSeeker]);
    request.audience = "another-office".to_owned();
    let token = issuer.mint(&request).unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::WrongAudience));
}

#[test]
fn token_from_another_issuer_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let mut request = mint_request("seeker-1", &[Role::JobSeeker]);
    request.issuer = "someone-else".to_owned();
    let token = issuer.mint(&request).unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::WrongIssuer));
}

#[test]
fn token_signed_by_another_key_with_a_trusted_kid_is_rejected() {
    let (_, verifier) = issuer_and_verifier();
    let impostor = TokenIssuer::generate("key-1").unwrap();
    let token = impostor
        .mint(&mint_request("seeker-1", &[Role::Supervisor]))
        .unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::BadSignature));
}

#[test]
fn token_with_swapped_payload_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let seeker = issuer
        .mint(&mint_request("seeker-1", &[Role::JobSeeker]))
        .unwrap();
    let approver = issuer
        .mint(&mint_request("seeker-1", &[Role::Approver]))
        .unwrap();
    let seeker_parts: Vec<&str> = seeker.split('.').collect();
    let approver_parts: Vec<&str> = approver.split('.').collect();
    let forged = [seeker_parts[0], approver_parts[1], seeker_parts[2]].join(".");
    assert_eq!(verifier.verify(&forged), Err(AuthError::BadSignature));
}

#[test]
fn token_with_unknown_kid_is_rejected() {
    let (_, verifier) = issuer_and_verifier();
    let stranger = TokenIssuer::generate("key-2").unwrap();
    let token = stranger
        .mint(&mint_request("seeker-1", &[Role::JobSeeker]))
        .unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::UnknownKey));
}

#[test]
fn token_without_kid_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer
        .mint(&mint_request("seeker-1", &[Role::JobSeeker]))
        .unwrap();
    let (_, rest) = token.split_once('.').unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA","typ":"JWT"}"#);
    assert_eq!(
        verifier.verify(&format!("{header}.{rest}")),
        Err(AuthError::UnknownKey)
    );
}

#[test]
fn every_trusted_key_is_accepted_by_its_kid() {
    let current = TokenIssuer::generate("2026-01").unwrap();
    let previous = TokenIssuer::generate("2025-07").unwrap();
    let verifier = verifier(vec![current.trusted_key(), previous.trusted_key()]);
    for issuer in [&current, &previous] {
        let token = issuer
            .mint(&mint_request("s-1", &[Role::Operator]))
            .unwrap();
        assert!(verifier.verify(&token).is_ok());
    }
}

#[test]
fn hmac_token_keyed_with_the_public_key_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some("key-1".to_owned());
    let secret = jsonwebtoken::EncodingKey::from_secret(issuer.public_key().as_bytes());
    let token =
        jsonwebtoken::encode(&header, &claims("s-1", vec![Role::Approver]), &secret).unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::Malformed));
}

#[test]
fn unsigned_token_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer
        .mint(&mint_request("seeker-1", &[Role::JobSeeker]))
        .unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"key-1"}"#);
    assert_eq!(
        verifier.verify(&format!("{header}.{payload}.")),
        Err(AuthError::Malformed)
    );
}

#[test]
fn malformed_strings_are_rejected_without_echoing_them() {
    let (_, verifier) = issuer_and_verifier();
    assert_eq!(verifier.verify(""), Err(AuthError::Missing));
    for token in [
        "not-a-jwt-at-all-secret-value",
        "Bearer eyJhbGciOiJFZERTQSJ9",
        "eyJhbGciOiJFZERTQSJ9.e30",
        "eyJhbGciOiJFZERTQSIsImtpZCI6ImtleS0xIn0.e30.sig.extra",
        "eyJhbGciOiJFZERTQSIsImtpZCI6ImtleS0xIn0.!!!.AAAA",
        "%%%.%%%.%%%",
    ] {
        let error = verifier.verify(token).unwrap_err();
        assert!(
            matches!(
                error,
                AuthError::Malformed | AuthError::BadSignature | AuthError::UnknownKey
            ),
            "{token}: {error:?}"
        );
        assert!(!error.to_string().contains(token));
    }
    let oversized = "a".repeat(hellowork_auth::MAX_TOKEN_BYTES + 1);
    assert_eq!(verifier.verify(&oversized), Err(AuthError::Malformed));
}

/// Signs an arbitrary JSON payload with a fixed key, and a verifier trusting it.
fn sign_json(payload: &serde_json::Value) -> (String, TokenVerifier) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
    let issuer = TokenIssuer::from_pkcs8_pem("key-1", &pem).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA);
    header.kid = Some("key-1".to_owned());
    let der = key.to_pkcs8_der().unwrap();
    let encoding_key = jsonwebtoken::EncodingKey::from_ed_der(der.as_bytes());
    let token = jsonwebtoken::encode(&header, payload, &encoding_key).unwrap();
    (token, verifier(vec![issuer.trusted_key()]))
}

#[test]
fn raw_signed_payload_verifies_when_well_formed() {
    let payload = serde_json::to_value(claims("seeker-1", vec![Role::JobSeeker])).unwrap();
    let (token, verifier) = sign_json(&payload);
    assert_eq!(verifier.verify(&token).unwrap().subject(), "seeker-1");
}

#[test]
fn token_with_unknown_role_is_malformed() {
    let mut payload = serde_json::to_value(claims("seeker-1", vec![Role::JobSeeker])).unwrap();
    payload["roles"] = serde_json::json!(["job_seeker", "admin"]);
    let (token, verifier) = sign_json(&payload);
    assert_eq!(verifier.verify(&token), Err(AuthError::Malformed));
}

#[test]
fn token_without_a_roles_claim_is_rejected() {
    let mut payload = serde_json::to_value(claims("seeker-1", vec![Role::JobSeeker])).unwrap();
    payload.as_object_mut().unwrap().remove("roles");
    let (token, verifier) = sign_json(&payload);
    assert_eq!(verifier.verify(&token), Err(AuthError::NoRoles));
}

#[test]
fn token_without_exp_is_malformed() {
    let mut payload = serde_json::to_value(claims("seeker-1", vec![Role::JobSeeker])).unwrap();
    payload.as_object_mut().unwrap().remove("exp");
    let (token, verifier) = sign_json(&payload);
    assert_eq!(verifier.verify(&token), Err(AuthError::Malformed));
}

#[test]
fn token_without_iat_is_rejected_with_its_own_reason() {
    let mut payload = serde_json::to_value(claims("seeker-1", vec![Role::JobSeeker])).unwrap();
    payload.as_object_mut().unwrap().remove("iat");
    let (token, verifier) = sign_json(&payload);
    let error = verifier.verify(&token).unwrap_err();
    assert_eq!(error, AuthError::NoIssuedAt);
    assert_eq!(error.reason(), "TOKEN_NO_ISSUED_AT");
    assert!(error.is_unauthenticated());
}

#[test]
fn token_issued_in_the_future_is_not_yet_valid() {
    let (issuer, verifier) = issuer_and_verifier();
    let mut early = claims("seeker-1", vec![Role::JobSeeker]);
    early.iat = now() + 120;
    let token = issuer.sign(&early).unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::NotYetValid));
}

#[test]
fn token_living_longer_than_the_maximum_is_rejected_however_it_is_dated() {
    let (issuer, verifier) = issuer_and_verifier();
    let now = now();
    let max = MAX_LIFETIME_SECONDS;
    // Minted for a day: exp - iat too long, though fresh.
    let mut long = claims("seeker-1", vec![Role::JobSeeker]);
    long.exp = now + 24 * 3600;
    // Backdated iat and nbf: exp - iat is long, exp - now within the maximum.
    let mut backdated = claims("seeker-1", vec![Role::JobSeeker]);
    (backdated.iat, backdated.nbf, backdated.exp) = (now - 2 * max, now - 2 * max, now + 60);
    for token in [long, backdated] {
        let error = verifier.verify(&issuer.sign(&token).unwrap()).unwrap_err();
        assert_eq!(error, AuthError::LifetimeTooLong);
        assert_eq!(error.reason(), "TOKEN_LIFETIME_TOO_LONG");
    }
    // Exactly the maximum is accepted.
    let mut longest = claims("seeker-1", vec![Role::JobSeeker]);
    longest.exp = longest.iat + max;
    assert!(verifier.verify(&issuer.sign(&longest).unwrap()).is_ok());
}

#[test]
fn token_without_roles_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer.sign(&claims("seeker-1", vec![])).unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::NoRoles));
}

#[test]
fn token_without_subject_is_rejected() {
    let (issuer, verifier) = issuer_and_verifier();
    let token = issuer.sign(&claims("", vec![Role::JobSeeker])).unwrap();
    assert_eq!(verifier.verify(&token), Err(AuthError::NoSubject));
}

#[test]
fn minting_refuses_tokens_no_service_would_accept() {
    let (issuer, _) = issuer_and_verifier();
    assert!(matches!(
        issuer.mint(&mint_request("seeker-1", &[])),
        Err(MintError::NoRoles)
    ));
    assert!(matches!(
        issuer.mint(&mint_request(" ", &[Role::JobSeeker])),
        Err(MintError::EmptySubject)
    ));
    let mut forever = mint_request("seeker-1", &[Role::JobSeeker]);
    forever.ttl = Duration::MAX;
    assert!(matches!(
        issuer.mint(&forever),
        Err(MintError::TimeOutOfRange)
    ));
}

#[test]
fn verifier_configuration_is_checked() {
    let key = TokenIssuer::generate("key-1").unwrap().trusted_key();
    let config = VerifierConfig {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        keys: vec![key.clone()],
        leeway_seconds: 30,
        max_lifetime_seconds: 3600,
    };
    assert!(TokenVerifier::new(config.clone()).is_ok());
    let cases = [
        (
            VerifierConfig {
                issuer: String::new(),
                ..config.clone()
            },
            VerifierConfigError::EmptyIssuer,
        ),
        (
            VerifierConfig {
                audience: String::new(),
                ..config.clone()
            },
            VerifierConfigError::EmptyAudience,
        ),
        (
            VerifierConfig {
                keys: vec![],
                ..config.clone()
            },
            VerifierConfigError::NoKeys,
        ),
        (
            VerifierConfig {
                keys: vec![(String::new(), key.1.clone())],
                ..config.clone()
            },
            VerifierConfigError::EmptyKid,
        ),
        (
            VerifierConfig {
                keys: vec![key.clone(), key.clone()],
                ..config.clone()
            },
            VerifierConfigError::DuplicateKid("key-1".to_owned()),
        ),
        (
            VerifierConfig {
                leeway_seconds: 301,
                ..config.clone()
            },
            VerifierConfigError::LeewayTooLarge(301),
        ),
        (
            VerifierConfig {
                max_lifetime_seconds: 0,
                ..config.clone()
            },
            VerifierConfigError::NoLifetime,
        ),
    ];
    for (config, expected) in cases {
        assert_eq!(TokenVerifier::new(config).unwrap_err(), expected);
    }
}
