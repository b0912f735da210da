use std::{
    collections::BTreeSet,
    sync::{Mutex, PoisonError},
};

use async_nats::jetstream;
use hellowork_eventstore::{EventStreamConfig, ensure_stream};

/// The NATS server tests use: `HELLOWORK_TEST_NATS_URL`, by default the
/// machine's shared server.
pub fn nats_url() -> String {
    std::env::var("HELLOWORK_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// The stream every test server keeps, so its account is never left
/// without one. nats-server 2.9 removes an account's store directory when
/// its last stream is deleted, and a stream created by another test at that
/// moment fails ("could not create storage directory", JetStream error
/// 10049): with tests creating and deleting streams in parallel, that
/// happened by chance. It holds no subject a service uses and no message.
const ANCHOR_STREAM: &str = "HELLOWORK_TEST_ANCHOR";

/// Makes sure the server at `url` has [`ANCHOR_STREAM`] before a test
/// creates a stream there; once per server and process (blocking: callers
/// may be outside a runtime, or inside one).
pub(crate) fn ensure_anchor(url: &str) {
    static ANCHORED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let mut anchored = ANCHORED.lock().unwrap_or_else(PoisonError::into_inner);
    if anchored.contains(url) {
        return;
    }
    let server = url.to_owned();
    let created = crate::block_on(async move {
        let client = async_nats::connect(server)
            .await
            .map_err(|e| e.to_string())?;
        jetstream::new(client)
            .get_or_create_stream(jetstream::stream::Config {
                name: ANCHOR_STREAM.to_owned(),
                subjects: vec!["hellowork_test_anchor".to_owned()],
                max_messages: 1,
                ..Default::default()
            })
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    match created {
        Some(Ok(())) => {}
        Some(Err(error)) => panic!("create the anchor stream on {url}: {error}"),
        None => panic!("create the anchor stream on {url}: its thread failed"),
    }
    anchored.insert(url.to_owned());
}

/// A JetStream stream with a unique name and subject prefix
/// (`test_<id>.<service>.v1`), deleted on drop.
#[derive(Debug)]
pub struct TestStream {
    pub jetstream: jetstream::Context,
    pub config: EventStreamConfig,
    url: String,
}

impl TestStream {
    pub async fn create(service: &str) -> Self {
        Self::create_at(&nats_url(), service).await
    }

    pub async fn create_at(url: &str, service: &str) -> Self {
        ensure_anchor(url);
        let id = crate::unique_suffix();
        let config = EventStreamConfig::new(
            format!("TEST_{}_{id}", service.to_uppercase()),
            format!("test_{id}.{service}.v1"),
        );
        let client = async_nats::connect(url).await.expect("connect to nats");
        let jetstream = jetstream::new(client);
        ensure_stream(&jetstream, &config)
            .await
            .expect("create the test stream");
        Self {
            jetstream,
            config,
            url: url.to_owned(),
        }
    }
}

impl Drop for TestStream {
    fn drop(&mut self) {
        let url = self.url.clone();
        let name = self.config.stream_name.clone();
        crate::block_on_cleanup(async move {
            if let Ok(client) = async_nats::connect(url).await {
                let _ = jetstream::new(client).delete_stream(name).await;
            }
        });
    }
}

/// The body `service`'s relay would publish for `event` on `subject`: its
/// envelope signed now with the service's development key, which the
/// services under test trust (tests stand in for a producer this way).
pub fn signed_envelope(
    service: &str,
    event: &hellowork_eventstore::RecordedEvent,
    subject: &str,
) -> Vec<u8> {
    hellowork_eventstore::envelope::signed(
        service,
        event,
        subject,
        &hellowork_eventstore::EventSigner::development(service),
        chrono::Utc::now(),
    )
}
