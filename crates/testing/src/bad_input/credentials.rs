//! Bad credentials against every RPC: a fixed list of malformed, forged,
//! expired and misdirected tokens, then random `authorization` values;
//! each must be UNAUTHENTICATED, write nothing and leave the service
//! healthy, while a valid token of an allowed role, as a control, passes.

use std::{
    collections::BTreeMap,
    sync::Mutex,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use hellowork_auth::{CallingService, Claims, MintRequest, Role, TokenIssuer};
use proptest::{
    prelude::*,
    sample::select,
    test_runner::{Config, TestCaseError, TestRunner},
};
use tonic::metadata::AsciiMetadataValue;
use uuid::Uuid;

use super::{Hints, Outcome, Report, Rpc, Target, cases, rpcs, session::Session};
use crate::ServiceEnv;

/// Bad credentials: a label and the `authorization` value (`None`: no header).
fn bad_credentials(env: &ServiceEnv) -> Vec<(&'static str, Option<String>)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let claims = |subject: &str, roles: Vec<Role>| Claims {
        iss: crate::service_env::ISSUER.to_owned(),
        aud: crate::service_env::AUDIENCE.to_owned(),
        sub: subject.to_owned(),
        roles,
        exp: now + 600,
        nbf: now - 1,
        iat: now - 1,
        jti: Uuid::new_v4().to_string(),
        personnel_id: None,
    };
    let sign = |claims: &Claims| {
        format!(
            "Bearer {}",
            env.issuer().sign(claims).expect("sign test claims")
        )
    };
    let stranger = TokenIssuer::generate(env.issuer().kid()).expect("generate a key");
    let unknown_kid = TokenIssuer::generate("no-such-key").expect("generate a key");
    let mint = |issuer: &TokenIssuer| {
        let token = issuer
            .mint(&MintRequest {
                subject: "operator-1".into(),
                roles: people(),
                ttl: Duration::from_secs(600),
                issuer: crate::service_env::ISSUER.into(),
                audience: crate::service_env::AUDIENCE.into(),
                not_before: None,
                personnel_id: None,
            })
            .expect("mint");
        format!("Bearer {token}")
    };
    let valid = env.token("operator-1", &people());
    let mut tampered = valid.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    vec![
        ("no authorization header", None),
        ("empty", Some(String::new())),
        ("scheme only", Some("Bearer".into())),
        ("scheme and space", Some("Bearer ".into())),
        ("basic", Some("Basic dXNlcjpwYXNz".into())),
        ("not a jwt", Some("Bearer not.a.jwt".into())),
        ("token without scheme", Some(valid.trim_start_matches("Bearer ").into())),
        ("scheme twice", Some(format!("Bearer {valid}"))),
        (
            "alg none",
            Some("Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJvcGVyYXRvci0xIiwicm9sZXMiOlsib3BlcmF0b3IiXX0.".into()),
        ),
        ("tampered signature", Some(String::from_utf8(tampered).expect("ascii"))),
        ("signed by an untrusted key with a trusted kid", Some(mint(&stranger))),
        ("signed by an unknown kid", Some(mint(&unknown_kid))),
        ("expired", Some(sign(&Claims { exp: now - 3600, nbf: now - 7200, iat: now - 7200, ..claims("operator-1", people()) }))),
        ("not yet valid", Some(sign(&Claims { nbf: now + 3600, exp: now + 7200, ..claims("operator-1", people()) }))),
        ("wrong issuer", Some(sign(&Claims { iss: "someone-else".into(), ..claims("operator-1", people()) }))),
        ("wrong audience", Some(sign(&Claims { aud: "another-service".into(), ..claims("operator-1", people()) }))),
        ("no roles", Some(sign(&claims("operator-1", Vec::new())))),
        ("empty subject", Some(sign(&claims("", people())))),
        ("system token of no known service", Some(sign(&claims("web", vec![Role::System])))),
        ("system token with a person's role", Some(sign(&claims("system:front", vec![Role::System, Role::Operator])))),
        ("oversized", Some(format!("Bearer {}", "a".repeat(9000)))),
    ]
}

/// Every role a person may hold: all but `system`, which a token holds
/// alone, as a service.
fn people() -> Vec<Role> {
    Role::ALL
        .into_iter()
        .filter(|role| *role != Role::System)
        .collect()
}

/// A valid token of `roles`: a person's with the people's roles among
/// them, else (`system` only) a service's.
fn control_token(env: &ServiceEnv, roles: &[Role]) -> String {
    let people: Vec<Role> = roles
        .iter()
        .copied()
        .filter(|role| *role != Role::System)
        .collect();
    if people.is_empty() {
        env.system_token(CallingService::Front)
    } else {
        env.token("control-subject", &people)
    }
}

/// Every RPC of the target with bad credentials: the valid seed request (or
/// an empty one) with each of a fixed list of bad tokens, then `cases`
/// random `authorization` values over random RPCs. Each must be
/// UNAUTHENTICATED with a message, write nothing and leave the service
/// healthy. As a control, the same request with a valid token is never
/// UNAUTHENTICATED.
pub fn bad_tokens(runtime: &tokio::runtime::Runtime, target: Target<'_>, hints: &Hints) -> Report {
    let started = Instant::now();
    let session = runtime.block_on(Session::open(target));
    let rpcs = rpcs(target.service);
    let credentials = bad_credentials(target.env);
    let mut report = Report::default();
    let request = |rpc: &Rpc| -> Vec<u8> {
        hints
            .seeds
            .get(&rpc.method)
            .and_then(|seeds| seeds.first())
            .cloned()
            .unwrap_or_default()
    };
    let expect_unauthenticated = |rpc: &Rpc, authorization: Option<AsciiMetadataValue>| {
        let outcome = runtime.block_on(session.check(rpc, vec![request(rpc)], authorization));
        match outcome {
            Ok(Outcome::Unauthenticated) => Ok(()),
            Ok(other) => Err(format!("answered {other:?}, not UNAUTHENTICATED")),
            Err(e) => Err(e),
        }
    };
    for rpc in &rpcs {
        let mut counts = BTreeMap::new();
        for (label, value) in &credentials {
            let authorization = match value {
                None => None,
                Some(v) => match v.parse() {
                    Ok(v) => Some(v),
                    Err(e) => panic!("{label}: not header text: {e}"),
                },
            };
            match expect_unauthenticated(rpc, authorization) {
                Ok(()) => *counts.entry(Outcome::Unauthenticated).or_default() += 1,
                Err(e) => report
                    .failures
                    .push(format!("{} with a token that is {label}: {e}", rpc.method)),
            }
        }
        // Control: a valid token of an allowed role passes authentication.
        let valid = control_token(target.env, &rpc.roles).parse().ok();
        let control = runtime.block_on(session.check(rpc, vec![request(rpc)], valid));
        if matches!(control, Ok(Outcome::Unauthenticated)) {
            report
                .failures
                .push(format!("{}: a valid token was refused", rpc.method));
        }
        report.counts.insert(rpc.method.clone(), counts);
    }
    // Random header values over random RPCs.
    let counts = Mutex::new(BTreeMap::<Outcome, u32>::new());
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    let values = prop_oneof![
        "[ -~]{0,64}",
        "Bearer [ -~]{0,200}",
        "(Bearer|bearer|BEARER) [A-Za-z0-9_-]{0,40}\\.[A-Za-z0-9_-]{0,120}\\.[A-Za-z0-9_-]{0,90}",
    ];
    let result = runner.run(&(select(rpcs.clone()), values), |(rpc, value)| {
        let Ok(authorization) = value.parse::<AsciiMetadataValue>() else {
            return Ok(());
        };
        expect_unauthenticated(&rpc, Some(authorization)).map_err(TestCaseError::fail)?;
        *counts
            .lock()
            .unwrap()
            .entry(Outcome::Unauthenticated)
            .or_default() += 1;
        Ok(())
    });
    if let Err(error) = result {
        report
            .failures
            .push(format!("random authorization: {error}"));
    }
    report.counts.insert(
        "(random authorization)".into(),
        counts.into_inner().unwrap(),
    );
    report.elapsed = started.elapsed();
    report
}
