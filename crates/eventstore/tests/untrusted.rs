//! A message on the bus is trusted only if its stream's producer signed it:
//! forged, unsigned and replayed envelopes — published by someone who may
//! publish on the subject — are refused, counted and never applied, and the
//! events behind them still are.

mod common;

use std::sync::OnceLock;

use chrono::{TimeDelta, Utc};
use common::{
    Totals, deposited, eventually, inbox_count, signed_body, spawn_consumer, spawn_relay, store,
    totals_rows,
};
use hellowork_eventstore::{
    EventSigner, ExpectedVersion, RecordedEvent, StreamId, envelope, metrics::CONSUMER_REFUSED,
};
use hellowork_proto::events::v1::EventEnvelope;
use hellowork_testing::{TestSchema, TestStream};
use metrics_exporter_prometheus::PrometheusHandle;
use prost::Message as _;

fn metrics() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| hellowork_telemetry::install_metrics_recorder().unwrap())
}

/// The refusals counted for `consumer` with `reason`.
fn refused(consumer: &str, reason: &str) -> u64 {
    let series = format!(r#"{CONSUMER_REFUSED}{{consumer="{consumer}",reason="{reason}"}}"#);
    metrics()
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .map_or(0, |value| value.trim().parse().unwrap())
}

async fn publish(nats: &TestStream, subject: &str, body: Vec<u8>) {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(
        async_nats::header::NATS_MESSAGE_ID,
        uuid::Uuid::now_v7().to_string().as_str(),
    );
    nats.jetstream
        .publish_with_headers(subject.to_owned(), headers, body.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// A deposit of `amount` the test producer never recorded.
fn forged_event(amount: i64) -> RecordedEvent {
    let now = Utc::now();
    let new = deposited(amount);
    RecordedEvent {
        event_id: uuid::Uuid::now_v7(),
        stream_id: StreamId::new("account-forged").unwrap(),
        stream_version: 1,
        event_type: new.event_type,
        schema_version: new.schema_version,
        payload: new.payload,
        occurred_at: now,
        recorded_at: now,
        metadata: new.metadata,
    }
}

#[tokio::test]
async fn forged_unsigned_and_replayed_envelopes_are_refused_counted_and_never_applied() {
    metrics();
    let db = TestSchema::create("untrusted").await;
    let nats = TestStream::create("untrusted").await;
    let store = store(&db.pool);
    let consumer_name = "totals";
    let totals = Totals::create(&db.pool, consumer_name).await;
    let consumer = spawn_consumer(totals, &db.pool, &nats.jetstream, &nats.config);
    let relay = spawn_relay(&store, &nats.jetstream, &nats.config);
    store
        .append(
            &StreamId::new("account-1").unwrap(),
            ExpectedVersion::NoStream,
            vec![deposited(5)],
        )
        .await
        .unwrap();
    eventually("the real event applied", || async {
        inbox_count(&db.pool, consumer_name).await == 1
    })
    .await;
    let genuine = common::committed(&store, 1).await.remove(0);
    let subject = envelope::subject(&nats.config.subject_prefix, &genuine.event_type);

    // Signed by a key the consumer does not trust, under the producer's key id.
    let forger = EventSigner::from_seed("test-dev", &[0x5a; 32]).unwrap();
    let mut forged = envelope::to_envelope("test", &forged_event(1_000));
    forger.sign(&mut forged, &subject, Utc::now());
    publish(&nats, &subject, forged.encode_to_vec()).await;
    // Under a key id nobody configured.
    let stranger = EventSigner::from_seed("stranger", &[0x5b; 32]).unwrap();
    let mut strange = envelope::to_envelope("test", &forged_event(2_000));
    stranger.sign(&mut strange, &subject, Utc::now());
    publish(&nats, &subject, strange.encode_to_vec()).await;
    // Not signed at all.
    let unsigned = envelope::to_envelope("test", &forged_event(3_000));
    publish(&nats, &subject, unsigned.encode_to_vec()).await;
    // A genuine signature, its payload altered.
    let mut altered =
        EventEnvelope::decode(signed_body(&forged_event(4_000), &subject).as_slice()).unwrap();
    altered.payload = deposited(40_000).payload;
    publish(&nats, &subject, altered.encode_to_vec()).await;
    // The genuine message, copied back onto the stream.
    let original = nats
        .jetstream
        .get_stream(&nats.config.stream_name)
        .await
        .unwrap()
        .get_raw_message(1)
        .await
        .unwrap();
    publish(&nats, &subject, original.payload.to_vec()).await;
    // Genuinely signed, but long before it reached the stream.
    let mut stale = envelope::to_envelope("test", &forged_event(5_000));
    common::signer().sign(&mut stale, &subject, Utc::now() - TimeDelta::minutes(30));
    publish(&nats, &subject, stale.encode_to_vec()).await;

    // A real event behind them all is applied.
    store
        .append(
            &StreamId::new("account-1").unwrap(),
            ExpectedVersion::Exact(1),
            vec![deposited(7)],
        )
        .await
        .unwrap();
    eventually("the event behind the forgeries applied", || async {
        inbox_count(&db.pool, consumer_name).await == 2
    })
    .await;
    relay.cancel();
    consumer.cancel();

    assert_eq!(
        totals_rows(&db.pool).await,
        vec![("account-1".to_owned(), 2, 2, 12)],
        "nothing forged reached the read model"
    );
    assert_eq!(refused(consumer_name, "bad_signature"), 2);
    assert_eq!(refused(consumer_name, "unknown_key"), 1);
    assert_eq!(refused(consumer_name, "unsigned"), 1);
    assert_eq!(refused(consumer_name, "replayed"), 2);
}

/// The upgrade from unsigned envelopes: what an older relay published is
/// signed once, and a consumer created afterwards applies all of it.
#[tokio::test]
async fn messages_published_before_signing_are_signed_once_and_then_applied() {
    let db = TestSchema::create("unsigned").await;
    let nats = TestStream::create("unsigned").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-old").unwrap();
    store
        .append(
            &stream,
            ExpectedVersion::NoStream,
            vec![deposited(1), deposited(2), deposited(3)],
        )
        .await
        .unwrap();
    // The previous release's relay: the same envelopes, without signatures.
    for event in common::committed(&store, 3).await {
        let subject = envelope::subject(&nats.config.subject_prefix, &event.event_type);
        let old = envelope::to_envelope("test", &event).encode_to_vec();
        nats.jetstream
            .publish_with_headers(subject, envelope::headers(&event), old.into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM outbox")
        .execute(&db.pool)
        .await
        .unwrap();

    let signer = common::signer();
    let report = hellowork_eventstore::unsigned::sign_unsigned_messages(
        &db.pool,
        &nats.jetstream,
        &nats.config,
        &signer,
    )
    .await
    .unwrap()
    .expect("the first start signs");
    assert_eq!((report.examined, report.rewritten), (3, 3));
    let again = hellowork_eventstore::unsigned::sign_unsigned_messages(
        &db.pool,
        &nats.jetstream,
        &nats.config,
        &signer,
    )
    .await
    .unwrap();
    assert_eq!(again, None, "done once per stream");

    // A projection created now reads the stream from its start.
    let totals = Totals::create(&db.pool, "late").await;
    let consumer = spawn_consumer(totals, &db.pool, &nats.jetstream, &nats.config);
    eventually("the re-signed events applied", || async {
        inbox_count(&db.pool, "late").await == 3
    })
    .await;
    consumer.cancel();
    assert_eq!(
        totals_rows(&db.pool).await,
        vec![("account-old".to_owned(), 3, 3, 6)]
    );
    assert_eq!(refused("late", "unsigned"), 0);
}
