//! Rewriting recorded events: stored payloads replaced where the closure
//! says so and kept otherwise, compare-and-set on one event, and a stream's
//! messages replaced by republished ones with the originals erased.

mod common;

use std::convert::Infallible;

use bytes::Bytes;
use common::{deposited, store};
use hellowork_eventstore::{
    ExpectedVersion, StreamId, envelope,
    rewrite::{RewriteReport, rewrite_payload, rewrite_payloads, rewrite_stream_messages},
};
use hellowork_testing::{TestSchema, TestStream};

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

#[tokio::test]
async fn stream_messages_are_replaced_and_the_originals_erased() {
    let test = TestStream::create("rewrite").await;
    let js = &test.jetstream;
    let subject = envelope::subject(&test.config.subject_prefix, "Secret");
    let other = envelope::subject(&test.config.subject_prefix, "Public");
    for (subject, body, id) in [
        (&subject, "clear-1", "e1"),
        (&other, "clear-2", "e2"),
        (&subject, "sealed-3", "e3"),
    ] {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id);
        js.publish_with_headers(subject.clone(), headers, Bytes::from(body))
            .await
            .unwrap()
            .await
            .unwrap();
    }

    let report = rewrite_stream_messages(js, &test.config.stream_name, &subject, |message| {
        let body = message.payload.clone();
        async move {
            Ok::<_, Infallible>(
                body.starts_with(b"clear")
                    .then(|| Bytes::from(body.to_ascii_uppercase())),
            )
        }
    })
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
    for sequence in 1..=state.last_sequence {
        if let Ok(message) = stream.get_raw_message(sequence).await {
            let id = message
                .headers
                .get(async_nats::header::NATS_MESSAGE_ID)
                .map(|v| v.as_str().to_owned());
            bodies.push((message.subject.to_string(), message.payload.to_vec(), id));
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
    // The replacement is not itself revisited by a second run.
    let again = rewrite_stream_messages(js, &test.config.stream_name, &subject, |message| {
        let clear = message.payload.starts_with(b"clear");
        async move { Ok::<_, Infallible>(clear.then(Bytes::new)) }
    })
    .await
    .unwrap();
    assert_eq!(again.rewritten, 0);
}
