//! Telemetry through a running service: a caller's trace reaches the event
//! its call produced, and nothing personal reaches logs, spans or metrics.

mod sample;

use std::{
    io,
    sync::{Arc, Mutex},
    time::Duration,
};

use hellowork_platform::Role;
use hellowork_telemetry::TelemetryConfig;
use prost::Message;
use sample::proto::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing_subscriber::fmt::MakeWriter;

/// Everything the process logs, for scanning.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

// Personal data a scenario handles, none of which may be emitted.
const PERSON_ID: &str = "seeker-suzuki-7f3a91";
const NAME_AND_PHONE: &str = "山田太郎 090-1234-5678";
const STAFF_SUBJECT: &str = "staff-sato-0042";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_trace_reaches_the_event_and_nothing_personal_is_emitted() {
    let logs = Captured::default();
    let _telemetry = hellowork_telemetry::init_with_writer(
        &TelemetryConfig {
            service_name: "sample".into(),
            service_version: "test".into(),
            log_filter: "debug".into(),
            json_logs: true,
            otlp_endpoint: None,
        },
        logs.clone(),
    )
    .unwrap();
    let env = sample::environment().await;
    let service = sample::start(&env, &[]).await;
    let mut client = service.client().await;

    // The caller's trace.
    let trace_id = format!("{:032x}", uuid::Uuid::new_v4().as_u128());
    let mut request = env.request(
        WriteNoteRequest {
            job_seeker_id: PERSON_ID.into(),
            text: NAME_AND_PHONE.into(),
        },
        STAFF_SUBJECT,
        Role::Counsellor,
    );
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    request
        .metadata_mut()
        .insert("traceparent", traceparent.parse().unwrap());
    client.write_note(request).await.unwrap();

    // More of the scenario: a read by the person, refusals, bad input.
    let own = GetNotesRequest {
        job_seeker_id: PERSON_ID.into(),
    };
    client
        .get_notes(env.request(own.clone(), PERSON_ID, Role::JobSeeker))
        .await
        .unwrap();
    client
        .get_notes(env.request(own, "seeker-other", Role::JobSeeker))
        .await
        .unwrap_err();
    client
        .forbidden_action(env.request(ForbiddenActionRequest {}, STAFF_SUBJECT, Role::Counsellor))
        .await
        .unwrap_err();
    let invalid = WriteNoteRequest {
        job_seeker_id: PERSON_ID.into(),
        text: String::new(),
    };
    client
        .write_note(env.request(invalid, STAFF_SUBJECT, Role::Counsellor))
        .await
        .unwrap_err();

    // The relay publishes the event; its headers and envelope carry the trace.
    let stream = env_stream(&env).await;
    let mut message = None;
    for _ in 0..200 {
        if let Ok(found) = stream.get_raw_message(1).await {
            message = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let message = message.expect("the event was published");
    let header = message
        .headers
        .get("traceparent")
        .expect("traceparent header")
        .as_str()
        .to_owned();
    assert!(
        header.contains(&trace_id),
        "header {header} continues trace {trace_id}"
    );
    let envelope =
        hellowork_proto::events::v1::EventEnvelope::decode(message.payload.as_ref()).unwrap();
    assert!(envelope.traceparent.contains(&trace_id));

    let metrics = scrape(service.metrics).await;
    assert!(
        metrics.contains("grpc_server_requests_total"),
        "metrics are served"
    );
    assert!(metrics.contains("WriteNote"), "by method");
    assert!(
        metrics.contains("eventstore_appends_total"),
        "kernel metrics too"
    );

    service.shutdown.cancel();
    service.task.await.unwrap().unwrap();
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("grpc.request"),
        "request spans were captured"
    );
    for secret in [PERSON_ID, NAME_AND_PHONE, "山田", "090-1234", STAFF_SUBJECT] {
        assert!(!metrics.contains(secret), "metrics contain {secret:?}");
        assert!(
            !logged.contains(secret),
            "logs or span fields contain {secret:?}"
        );
    }
}

async fn env_stream(env: &hellowork_testing::ServiceEnv) -> async_nats::jetstream::stream::Stream {
    let client = async_nats::connect(hellowork_testing::nats_url())
        .await
        .unwrap();
    async_nats::jetstream::new(client)
        .get_stream(&env.stream_name)
        .await
        .unwrap()
}
