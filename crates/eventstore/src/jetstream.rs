//! The JetStream stream a service publishes its events to.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

/// One service's event stream: every subject under `subject_prefix`.
#[derive(Debug, Clone)]
pub struct EventStreamConfig {
    /// JetStream stream name, e.g. `HELLOWORK_REGISTRATION`.
    pub stream_name: String,
    /// Subject prefix, e.g. `hellowork.registration.v1`.
    pub subject_prefix: String,
    /// How long JetStream remembers `Nats-Msg-Id`s to drop re-published
    /// events; consumer inboxes cover anything older.
    pub duplicate_window: Duration,
}

impl EventStreamConfig {
    pub fn new(stream_name: impl Into<String>, subject_prefix: impl Into<String>) -> Self {
        Self {
            stream_name: stream_name.into(),
            subject_prefix: subject_prefix.into(),
            duplicate_window: Duration::from_secs(120),
        }
    }

    /// The filter that matches every event of this stream.
    pub fn all_subjects(&self) -> String {
        format!("{}.>", self.subject_prefix)
    }
}

/// Creates the stream if it does not exist (file storage, events kept, so
/// consumers created later can read from the beginning).
pub async fn ensure_stream(
    context: &jetstream::Context,
    config: &EventStreamConfig,
) -> Result<stream::Stream, jetstream::context::CreateStreamError> {
    context
        .get_or_create_stream(stream::Config {
            name: config.stream_name.clone(),
            subjects: vec![config.all_subjects()],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            duplicate_window: config.duplicate_window,
            ..Default::default()
        })
        .await
}
