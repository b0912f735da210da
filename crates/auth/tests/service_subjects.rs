//! A system token names its service: a validly signed token with the
//! `system` role is refused at verification unless its subject is
//! `system:<known service>` and it holds no other role, and no other
//! token may take a `system:` subject.

mod support;

use hellowork_auth::{AuthError, CallingService, Role, TokenIssuer};
use proptest::prelude::*;
use support::{mint_request, verifier};

fn verify(subject: &str, roles: &[Role]) -> Result<Option<CallingService>, AuthError> {
    let issuer = TokenIssuer::generate("key-1").unwrap();
    let token = issuer.mint(&mint_request(subject, roles)).unwrap();
    verifier(vec![issuer.trusted_key()])
        .verify(&token)
        .map(|caller| caller.service())
}

#[test]
fn each_known_service_is_named_by_its_token() {
    for service in CallingService::ALL {
        assert_eq!(
            verify(&service.subject(), &[Role::System]),
            Ok(Some(service))
        );
    }
}

#[test]
fn a_signed_system_token_of_no_known_service_is_refused() {
    for subject in [
        "web",
        "front-system",
        "system:",
        "system:web",
        "system:audit-log",
        "system:Scheduling",
        "system:scheduling ",
        "system:scheduling\u{0}",
    ] {
        let refused = verify(subject, &[Role::System]).unwrap_err();
        assert_eq!(refused, AuthError::UnknownService, "{subject:?}");
        assert_eq!(refused.reason(), "TOKEN_UNKNOWN_SERVICE");
        assert!(refused.is_unauthenticated());
    }
}

#[test]
fn a_service_holds_no_person_s_role_and_no_person_a_service_s_subject() {
    for role in Role::ALL.into_iter().filter(|role| *role != Role::System) {
        assert_eq!(
            verify("system:scheduling", &[Role::System, role]),
            Err(AuthError::UnknownService),
            "system and {role}"
        );
        assert_eq!(
            verify("system:registration", &[role]),
            Err(AuthError::UnknownService),
            "{role} as a service"
        );
        assert_eq!(verify("c-1", &[role]), Ok(None));
    }
}

proptest! {
    /// Whatever the subject, a system token verifies exactly when the
    /// subject names a known service, and then names that one.
    #[test]
    fn only_known_subjects_verify_as_services(subject in "(system:)?[a-z:-]{1,16}") {
        let known = CallingService::from_subject(&subject);
        match verify(&subject, &[Role::System]) {
            Ok(service) => prop_assert_eq!(service, known),
            Err(error) => {
                prop_assert!(known.is_none());
                prop_assert_eq!(error, AuthError::UnknownService);
            }
        }
    }
}
