//! The interceptor: a verified caller in the extensions, or UNAUTHENTICATED.

mod support;

use std::sync::Arc;

use hellowork_auth::{AUTHORIZATION, AuthError, AuthInterceptor, Role, TokenIssuer, caller};
use support::{mint_request, verifier};
use tonic::service::Interceptor as _;
use tonic::{Code, Request, Status};

fn interceptor() -> (TokenIssuer, AuthInterceptor) {
    let issuer = TokenIssuer::generate("key-1").unwrap();
    let interceptor = AuthInterceptor::new(Arc::new(verifier(vec![issuer.trusted_key()])));
    (issuer, interceptor)
}

fn request_with_authorization(value: &str) -> Request<()> {
    let mut request = Request::new(());
    request
        .metadata_mut()
        .insert(AUTHORIZATION, value.parse().unwrap());
    request
}

#[test]
fn valid_token_puts_the_caller_in_the_extensions() {
    let (issuer, mut interceptor) = interceptor();
    let token = issuer
        .mint(&mint_request("seeker-1", &[Role::JobSeeker]))
        .unwrap();
    let request = interceptor
        .call(request_with_authorization(&format!("Bearer {token}")))
        .unwrap();
    let caller = caller(&request).unwrap();
    assert_eq!(caller.subject(), "seeker-1");
    assert_eq!(caller.actor_role(), Role::JobSeeker);
}

#[test]
fn missing_header_is_unauthenticated() {
    let (_, mut interceptor) = interceptor();
    let status = interceptor.call(Request::new(())).unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    assert_eq!(status.message(), "missing bearer token");
}

#[test]
fn bad_tokens_are_unauthenticated_with_a_reason() {
    let (_, mut interceptor) = interceptor();
    let stranger = TokenIssuer::generate("key-9").unwrap();
    let foreign = stranger
        .mint(&mint_request("seeker-1", &[Role::JobSeeker]))
        .unwrap();
    for (value, message) in [
        ("Basic dXNlcjpwYXNz", "malformed bearer token"),
        ("Bearer not.a.token", "malformed bearer token"),
        ("Bearer", "missing bearer token"),
        (
            &format!("Bearer {foreign}"),
            "token signed by an unknown key",
        ),
    ] {
        let status = interceptor
            .call(request_with_authorization(value))
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{value}");
        assert_eq!(status.message(), message);
    }
}

#[test]
fn request_without_interceptor_has_no_caller() {
    let status = caller(&Request::new(())).unwrap_err();
    assert_eq!(status.code(), Code::Internal);
}

#[test]
fn permission_errors_map_to_permission_denied() {
    let seeker = hellowork_auth::Caller::new("seeker-1", [Role::JobSeeker]).unwrap();
    let status = Status::from(seeker.require_any(&[Role::Counsellor]).unwrap_err());
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        status.message(),
        "permission denied: requires one of the roles counsellor"
    );
    let status = Status::from(
        seeker
            .require_self_or("seeker-2", Role::JobSeeker, &[Role::Counsellor])
            .unwrap_err(),
    );
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(
        Status::from(AuthError::Expired).code(),
        Code::Unauthenticated
    );
}
