//! A page of outbox rows turned into signed messages on every core.
//!
//! Signing is most of what a relay spends per message (an Ed25519
//! signature over the encoded envelope, some 20 µs here, against a few for
//! the publish itself): done on the relay's task it would bound the relay
//! to one core. The page is split into one chunk per core, signed on the
//! blocking pool, and handed back in order, so the first chunk is published
//! while the others are still being signed.

use std::{num::NonZeroUsize, sync::Arc};

use async_nats::HeaderMap;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{StreamExt as _, stream::FuturesOrdered};
use tokio::task::{JoinError, JoinHandle};

use crate::{
    envelope,
    model::{GlobalPosition, RecordedEvent},
    signing::EventSigner,
};

/// One message ready to publish.
pub(super) struct Signed {
    pub position: GlobalPosition,
    pub recorded_at: DateTime<Utc>,
    pub subject: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What signs a page: the producer's name and key, the subject prefix, and
/// the cores to spread a page over.
#[derive(Debug, Clone)]
pub(super) struct PageSigner {
    service: Arc<str>,
    signer: Arc<EventSigner>,
    subject_prefix: Arc<str>,
    /// Read once: on Linux the answer comes from the cgroup files.
    cores: usize,
}

/// The chunks of a page being signed, in page order.
pub(super) struct SignedPage {
    chunks: FuturesOrdered<JoinHandle<Vec<Signed>>>,
}

impl PageSigner {
    pub(super) fn new(service: &str, signer: Arc<EventSigner>, subject_prefix: &str) -> Self {
        Self {
            service: service.into(),
            signer,
            subject_prefix: subject_prefix.into(),
            cores: std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        }
    }

    /// Starts signing `page`, one chunk per available core.
    pub(super) fn sign(&self, page: Vec<(GlobalPosition, RecordedEvent)>) -> SignedPage {
        let chunk = page.len().div_ceil(self.cores).max(1);
        let mut chunks = FuturesOrdered::new();
        let mut rows = page.into_iter().peekable();
        while rows.peek().is_some() {
            let part: Vec<_> = rows.by_ref().take(chunk).collect();
            let signer = self.clone();
            chunks.push_back(tokio::task::spawn_blocking(move || {
                // One clock reading per chunk: the signing time is when the
                // producer vouched for the message, to the millisecond.
                let now = Utc::now();
                part.into_iter()
                    .map(|(position, event)| signer.message(position, &event, now))
                    .collect()
            }));
        }
        SignedPage { chunks }
    }

    fn message(
        &self,
        position: GlobalPosition,
        event: &RecordedEvent,
        now: DateTime<Utc>,
    ) -> Signed {
        let subject = envelope::subject(&self.subject_prefix, &event.event_type);
        let body = envelope::signed(&self.service, event, &subject, &self.signer, now);
        Signed {
            position,
            recorded_at: event.recorded_at,
            headers: envelope::headers(event),
            subject,
            body: body.into(),
        }
    }
}

impl SignedPage {
    /// The next chunk's messages, in page order; `None` when the page is
    /// done. Fails only if a signing task did not finish (it panicked, or
    /// the runtime is shutting down).
    pub(super) async fn next_chunk(&mut self) -> Result<Option<Vec<Signed>>, JoinError> {
        self.chunks.next().await.transpose()
    }
}
