use async_nats::jetstream;
use hellowork_eventstore::{EventStreamConfig, ensure_stream};

/// The NATS server tests use: `HELLOWORK_TEST_NATS_URL`, by default the
/// machine's shared server.
pub fn nats_url() -> String {
    std::env::var("HELLOWORK_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
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
