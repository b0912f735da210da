//! The platform, through the sample service: authentication and roles, rich
//! errors, reflection, limits, deadlines, readiness and graceful shutdown.

mod sample;

use std::time::{Duration, Instant};

use hellowork_auth::{CallingService, Claims, Role, TokenIssuer};
use hellowork_testing::PostgresServer;
use sample::proto::*;
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

fn note(job_seeker_id: &str, text: &str) -> WriteNoteRequest {
    WriteNoteRequest {
        job_seeker_id: job_seeker_id.into(),
        text: text.into(),
    }
}

async fn stored_events(env: &hellowork_testing::ServiceEnv) -> i64 {
    let pool = sqlx::PgPool::connect(&env.database.url).await.unwrap();
    let count = sqlx::query_scalar("SELECT count(*) FROM consent.events")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    count
}

/// The subject of a token of `role`: `person`, or for `system` a known
/// service's (no other system token verifies).
fn subject_of(role: Role, person: &str) -> String {
    if role == Role::System {
        CallingService::Scheduling.subject()
    } else {
        person.to_owned()
    }
}

#[tokio::test]
async fn every_role_is_allowed_or_denied_as_each_rpc_declares() {
    let env = sample::environment().await;
    let service = sample::start(&env, &[]).await;
    let mut client = service.client().await;

    for role in Role::ALL {
        let written = client
            .write_note(env.request(
                note("seeker-1", "called"),
                &subject_of(role, "staff-1"),
                role,
            ))
            .await;
        match role {
            Role::Counsellor | Role::Supervisor => {
                assert!(written.is_ok(), "{role} may write notes")
            }
            _ => assert_eq!(
                written.unwrap_err().code(),
                Code::PermissionDenied,
                "{role} may not write notes"
            ),
        }
    }

    let own = GetNotesRequest {
        job_seeker_id: "seeker-1".into(),
    };
    let read = client
        .get_notes(env.request(own.clone(), "seeker-1", Role::JobSeeker))
        .await
        .unwrap();
    assert_eq!(read.into_inner().texts, vec!["called", "called"]);
    let others = client
        .get_notes(env.request(own.clone(), "seeker-2", Role::JobSeeker))
        .await;
    assert_eq!(
        others.unwrap_err().code(),
        Code::PermissionDenied,
        "a job seeker reads only their own"
    );
    for role in [Role::Counsellor, Role::Supervisor] {
        assert!(
            client
                .get_notes(env.request(own.clone(), "staff-9", role))
                .await
                .is_ok()
        );
    }
    for role in [
        Role::Operator,
        Role::LegalOfficer,
        Role::Approver,
        Role::Auditor,
        Role::System,
    ] {
        let denied = client
            .get_notes(env.request(own.clone(), &subject_of(role, "staff-9"), role))
            .await;
        assert_eq!(
            denied.unwrap_err().code(),
            Code::PermissionDenied,
            "{role} may not read notes"
        );
    }
    service.shutdown.cancel();
}

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", token.parse().unwrap());
    request
}

fn claims(subject: &str, audience: &str, exp_offset: i64) -> Claims {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Claims {
        iss: "hellowork-test".into(),
        aud: audience.into(),
        sub: subject.into(),
        roles: vec![Role::Counsellor],
        exp: now.checked_add_signed(exp_offset).unwrap(),
        nbf: now - 3600,
        iat: now - 3600,
        jti: uuid::Uuid::now_v7().to_string(),
        personnel_id: None,
    }
}

#[tokio::test]
async fn missing_invalid_expired_foreign_audience_and_foreign_key_tokens_are_refused() {
    let env = sample::environment().await;
    let service = sample::start(&env, &[]).await;
    let mut client = service.client().await;

    let missing = client.write_note(note("seeker-1", "x")).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);

    let expired = format!(
        "Bearer {}",
        env.issuer()
            .sign(&claims("staff-1", "hellowork", -3600))
            .unwrap()
    );
    let wrong_audience = format!(
        "Bearer {}",
        env.issuer()
            .sign(&claims("staff-1", "elsewhere", 600))
            .unwrap()
    );
    let impostor = TokenIssuer::generate(env.issuer().kid()).unwrap();
    let wrong_key = format!(
        "Bearer {}",
        impostor.sign(&claims("staff-1", "hellowork", 600)).unwrap()
    );
    for (case, token) in [
        ("malformed", "Bearer not.a.jwt".to_owned()),
        ("not bearer", "Basic dXNlcjpwYXNz".to_owned()),
        ("expired", expired),
        ("wrong audience", wrong_audience),
        ("wrong key", wrong_key),
    ] {
        let refused = client
            .write_note(with_token(note("seeker-1", "x"), &token))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated, "{case}");
        let info = refused.get_error_details().error_info().cloned().unwrap();
        assert!(info.reason.starts_with("TOKEN_"), "{case}: {info:?}");
        assert_eq!(info.domain, "hellowork");
        assert!(
            !refused.message().contains("eyJ"),
            "{case}: the token is never echoed"
        );
    }
    assert_eq!(
        stored_events(&env).await,
        0,
        "nothing written by refused calls"
    );
    service.shutdown.cancel();
}

#[tokio::test]
async fn rich_error_details_decode_on_the_client() {
    let env = sample::environment().await;
    let service = sample::start(&env, &[]).await;
    let mut client = service.client().await;

    let forbidden = client
        .forbidden_action(env.request(ForbiddenActionRequest {}, "staff-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(forbidden.code(), Code::FailedPrecondition);
    let details = forbidden.get_error_details();
    let info = details.error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "ART_12_2");
    assert_eq!(info.domain, "hellowork");
    assert_eq!(info.metadata["article"], "12(2)");
    assert_eq!(
        details
            .precondition_failure()
            .expect("PreconditionFailure")
            .violations[0]
            .r#type,
        "ART_12_2"
    );

    let invalid = client
        .write_note(env.request(note(" ", ""), "staff-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(invalid.code(), Code::InvalidArgument);
    let fields: Vec<String> = invalid
        .get_error_details()
        .bad_request()
        .expect("BadRequest")
        .field_violations
        .iter()
        .map(|v| v.field.clone())
        .collect();
    assert_eq!(fields, vec!["job_seeker_id", "text"]);
    service.shutdown.cancel();
}

#[tokio::test]
async fn reflection_lists_the_services() {
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let env = sample::environment().await;
    let service = sample::start(&env, &[]).await;
    let channel = tonic::transport::Channel::from_shared(service.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut reflection = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = reflection
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&sample::SERVICE_NAME.to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
    service.shutdown.cancel();
}

#[tokio::test]
async fn overload_is_shed_with_resource_exhausted() {
    let env = sample::environment().await;
    let service = sample::start(&env, &[("HELLOWORK_MAX_CONCURRENT_REQUESTS", "2")]).await;
    let calls: Vec<_> = (0..10)
        .map(|i| {
            let request = env.request(
                SlowRequest {
                    hold_millis: 300,
                    job_seeker_id: format!("seeker-{i}"),
                },
                "staff-1",
                Role::Counsellor,
            );
            let url = service.url();
            tokio::spawn(async move {
                let mut client =
                    sample::proto::note_service_client::NoteServiceClient::connect(url)
                        .await
                        .unwrap();
                client
                    .slow(request)
                    .await
                    .map(|_| ())
                    .map_err(|status| status.code())
            })
        })
        .collect();
    let (mut served, mut shed) = (0, 0);
    for call in calls {
        match call.await.unwrap() {
            Ok(()) => served += 1,
            Err(Code::ResourceExhausted) => shed += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(served >= 2 && shed >= 1, "served {served}, shed {shed}");
    assert_eq!(
        stored_events(&env).await,
        served,
        "a shed request wrote nothing"
    );
    service.shutdown.cancel();
}

#[tokio::test]
async fn a_callers_deadline_stops_the_request_and_nothing_is_written() {
    let env = sample::environment().await;
    let service = sample::start(&env, &[]).await;
    let mut client = service.client().await;
    let mut request = env.request(
        SlowRequest {
            hold_millis: 1000,
            job_seeker_id: "seeker-1".into(),
        },
        "staff-1",
        Role::Counsellor,
    );
    request.set_timeout(Duration::from_millis(100));
    let started = Instant::now();
    let error = client.slow(request).await.unwrap_err();
    assert!(
        matches!(error.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{error:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(800));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(stored_events(&env).await, 0);
    service.shutdown.cancel();
}

#[tokio::test]
async fn a_request_beyond_the_servers_own_timeout_is_answered_deadline_exceeded() {
    let env = sample::environment().await;
    let service = sample::start(&env, &[("HELLOWORK_REQUEST_TIMEOUT", "200ms")]).await;
    let mut client = service.client().await;
    // The caller sets no deadline: the server's request timeout is the
    // request's deadline, and the server itself says it passed.
    let request = env.request(
        SlowRequest {
            hold_millis: 1000,
            job_seeker_id: "seeker-1".into(),
        },
        "staff-1",
        Role::Counsellor,
    );
    let started = Instant::now();
    let error = client.slow(request).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.code(), Code::DeadlineExceeded, "{error:?}");
    assert!(error.message().contains("deadline"), "{error:?}");
    assert!(
        took >= Duration::from_millis(180) && took < Duration::from_millis(800),
        "answered after {took:?}"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        stored_events(&env).await,
        0,
        "the abandoned request wrote nothing"
    );
    service.shutdown.cancel();
}

#[tokio::test]
async fn oversized_messages_are_refused() {
    let env = sample::environment().await;
    let service = sample::start(&env, &[("HELLOWORK_MAX_MESSAGE_BYTES", "1024")]).await;
    let mut client = service.client().await;
    let big = "x".repeat(4096);
    let error = client
        .write_note(env.request(note("seeker-1", &big), "staff-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::OutOfRange, "{error:?}");
    assert_eq!(stored_events(&env).await, 0);
    service.shutdown.cancel();
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests_and_loses_none() {
    let env = sample::environment().await;
    let service = sample::start(&env, &[]).await;
    let calls: Vec<_> = (0..20)
        .map(|i| {
            let request = env.request(
                SlowRequest {
                    hold_millis: 400,
                    job_seeker_id: format!("seeker-{i}"),
                },
                "staff-1",
                Role::Counsellor,
            );
            let url = service.url();
            tokio::spawn(async move {
                let mut client =
                    sample::proto::note_service_client::NoteServiceClient::connect(url)
                        .await
                        .unwrap();
                client.slow(request).await
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(150)).await;
    service.shutdown.cancel();

    let mut acknowledged = 0;
    for call in calls {
        if call.await.unwrap().is_ok() {
            acknowledged += 1;
        }
    }
    assert_eq!(
        acknowledged, 20,
        "in-flight requests finish during shutdown"
    );
    service.task.await.unwrap().unwrap();
    assert_eq!(
        stored_events(&env).await,
        20,
        "every acknowledged request is stored"
    );
    assert!(
        sample::proto::note_service_client::NoteServiceClient::connect(format!(
            "http://{}",
            service.addr
        ))
        .await
        .is_err(),
        "no longer listening"
    );
}

#[tokio::test]
async fn health_follows_postgres_and_requests_recover_without_restart() {
    let mut postgres = PostgresServer::start();
    let env = sample::environment_on(&postgres.url()).await;
    let service = sample::start(&env, &[]).await;
    let mut client = service.client().await;
    client
        .write_note(env.request(note("seeker-1", "before"), "staff-1", Role::Counsellor))
        .await
        .unwrap();

    postgres.stop();
    service.wait_for_health(ServingStatus::NotServing).await;
    let during = client
        .write_note(env.request(note("seeker-1", "during"), "staff-1", Role::Counsellor))
        .await
        .unwrap_err();
    assert_eq!(during.code(), Code::Unavailable, "{during:?}");

    postgres.restart();
    service.wait_until_serving().await;
    client
        .write_note(env.request(note("seeker-1", "after"), "staff-1", Role::Counsellor))
        .await
        .unwrap();
    let notes = client
        .get_notes(env.request(
            GetNotesRequest {
                job_seeker_id: "seeker-1".into(),
            },
            "staff-1",
            Role::Counsellor,
        ))
        .await
        .unwrap()
        .into_inner()
        .texts;
    assert_eq!(
        notes,
        vec!["before", "after"],
        "nothing half written during the outage"
    );
    service.shutdown.cancel();
    service.task.await.unwrap().unwrap();
}
