//! Rewriting recorded events: stored payloads replaced where the closure
//! says so and kept otherwise, compare-and-set on one event, and a stream's
//! messages replaced by republished ones with the originals erased.

mod common;

use std::convert::Infallible;

use async_nats::jetstream::message::StreamMessage;
use bytes::Bytes;
use chrono::Utc;
use common::{deposited, store};
use hellowork_eventstore::{
    ExpectedVersion, StreamId, envelope,
    rewrite::{RewriteReport, rewrite_payload, rewrite_payloads, rewrite_stream_messages},
};
use hellowork_proto::events::v1::EventEnvelope;
use hellowork_testing::{TestSchema, TestStream};
use prost::Message as _;

#[tokio::test]
async fn payloads_are_rewritten_where_the_closure_says_and_only_there() {
    let db = TestSchema::create("rewrite").await;
    let store = store(&db.pool);
    let stream = StreamId::new("account-1").unwrap();
    let mut events = vec![deposited(1), deposited(-2), deposited(3)];
    let mut other = deposited(-4);
    other.event_type = "Withdrawn".into();
    events.push(other);
    store
        .append(&stream, ExpectedVersion::NoStream, events.clone())
        .await
        .unwrap();

    // Negative deposits become their absolute value; nothing else changes.
    let report = rewrite_payloads(&store, "Deposited", |event| async move {
        let amount = common::amount_of(&event);
        Ok::<_, Infallible>((amount < 0).then(|| amount.abs().to_le_bytes().to_vec()))
    })
    .await
    .unwrap();
    assert_eq!(
        report,
        RewriteReport {
            examined: 3,
            rewritten: 1
        }
    );
    let stored = store.read_stream(&stream, 0).await.unwrap();
    let amounts: Vec<i64> = stored.iter().map(common::amount_of).collect();
    assert_eq!(amounts, vec![1, 2, 3, -4]);
    for (before, after) in events.iter().zip(&stored) {
        assert_eq!(before.event_id, after.event_id);
        assert_eq!(before.metadata, after.metadata);
    }
    // Running again finds nothing left to do.
    let again = rewrite_payloads(&store, "Deposited", |event| async move {
        let amount = common::amount_of(&event);
        Ok::<_, Infallible>((amount < 0).then(Vec::new))
    })
    .await
    .unwrap();
    assert_eq!(again.rewritten, 0);

    // Compare and set: a payload that changed since it was read is kept.
    let id = events[0].event_id;
    assert!(!rewrite_payload(&store, id, b"stale", b"new").await.unwrap());
    assert!(
        rewrite_payload(&store, id, &1i64.to_le_bytes(), &9i64.to_le_bytes())
            .await
            .unwrap()
    );
    let first = &store.read_stream(&stream, 0).await.unwrap()[0];
    assert_eq!(common::amount_of(first), 9);
}

/// An envelope of the test producer whose payload is `payload`.
fn envelope_of(payload: &str) -> EventEnvelope {
    EventEnvelope {
        event_id: uuid::Uuid::now_v7().to_string(),
        stream_id: "account-1".into(),
        stream_version: 1,
        event_type: "Secret".into(),
        schema_version: 1,
        service: "test".into(),
        payload: payload.as_bytes().to_vec(),
        ..Default::default()
    }
}

fn payload_of(body: &[u8]) -> Vec<u8> {
    EventEnvelope::decode(body).unwrap().payload
}

#[tokio::test]
async fn stream_messages_are_replaced_signed_anew_and_the_originals_erased() {
    let test = TestStream::create("rewrite").await;
    let js = &test.jetstream;
    let signer = common::signer();
    let subject = envelope::subject(&test.config.subject_prefix, "Secret");
    let other = envelope::subject(&test.config.subject_prefix, "Public");
    for (subject, payload, id) in [
        (&subject, "clear-1", "e1"),
        (&other, "clear-2", "e2"),
        (&subject, "sealed-3", "e3"),
    ] {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id);
        let mut envelope = envelope_of(payload);
        signer.sign(&mut envelope, subject, Utc::now());
        js.publish_with_headers(
            subject.clone(),
            headers,
            Bytes::from(envelope.encode_to_vec()),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    }

    let report = rewrite_stream_messages(
        js,
        &test.config.stream_name,
        &subject,
        &signer,
        |message: &StreamMessage| {
            let mut envelope = EventEnvelope::decode(message.payload.clone()).unwrap();
            async move {
                let clear = envelope.payload.starts_with(b"clear");
                envelope.payload = envelope.payload.to_ascii_uppercase();
                Ok::<_, Infallible>(clear.then(|| Bytes::from(envelope.encode_to_vec())))
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(
        report,
        RewriteReport {
            examined: 2,
            rewritten: 1
        }
    );

    let mut stream = js.get_stream(&test.config.stream_name).await.unwrap();
    let state = stream.info().await.unwrap().state.clone();
    assert_eq!(state.messages, 3);
    let mut bodies = Vec::new();
    let mut replacement = None;
    for sequence in 1..=state.last_sequence {
        if let Ok(message) = stream.get_raw_message(sequence).await {
            let id = message
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|v| v.as_str().to_owned());
            bodies.push((
                message.subject.to_string(),
                payload_of(&message.payload),
                id,
            ));
            replacement = Some(message);
        }
    }
    assert_eq!(
        bodies,
        vec![
            (other.clone(), b"clear-2".to_vec(), Some("e2".to_owned())),
            (subject.clone(), b"sealed-3".to_vec(), Some("e3".to_owned())),
            (
                subject.clone(),
                b"CLEAR-1".to_vec(),
                Some("e1.rewritten.1".to_owned())
            ),
        ]
    );
    // The replacement carries the producer's signature over its new body.
    let replacement = EventEnvelope::decode(replacement.unwrap().payload).unwrap();
    assert_eq!(
        common::producers().verify(&replacement, &subject, Utc::now()),
        Ok(())
    );
    // The replacement is not itself revisited by a second run.
    let again = rewrite_stream_messages(
        js,
        &test.config.stream_name,
        &subject,
        &signer,
        |message: &StreamMessage| {
            let clear = payload_of(&message.payload).starts_with(b"clear");
            async move {
                Ok::<_, Infallible>(clear.then(|| Bytes::from(envelope_of("x").encode_to_vec())))
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(again.rewritten, 0);
}
