//! The header maps trace context travels in, seen through the OpenTelemetry
//! `Extractor`/`Injector` traits. Values that are not visible ASCII are
//! skipped rather than failing a request, and empty values (an empty
//! `tracestate`) are not written.

use opentelemetry::propagation::{Extractor, Injector};
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};

/// Incoming HTTP/2 headers of a gRPC request.
pub(crate) struct HttpHeaders<'a>(pub(crate) &'a http::HeaderMap);

impl Extractor for HttpHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// Metadata of an outgoing gRPC request.
pub(crate) struct Metadata<'a>(pub(crate) &'a mut MetadataMap);

impl Injector for Metadata<'_> {
    fn set(&mut self, key: &str, value: String) {
        if value.is_empty() {
            return;
        }
        let (Ok(key), Ok(value)) = (
            MetadataKey::from_bytes(key.as_bytes()),
            MetadataValue::try_from(value),
        ) else {
            return;
        };
        self.0.insert(key, value);
    }
}

/// Headers of a received NATS message.
pub(crate) struct NatsHeaders<'a>(pub(crate) &'a async_nats::HeaderMap);

impl Extractor for NatsHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(async_nats::HeaderValue::as_str)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(name, _)| name.as_ref()).collect()
    }
}

/// Headers of a NATS message about to be published.
pub(crate) struct NatsHeadersMut<'a>(pub(crate) &'a mut async_nats::HeaderMap);

impl Injector for NatsHeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if !value.is_empty() {
            self.0.insert(key, value);
        }
    }
}
