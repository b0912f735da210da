//! Registration, consent and scheduling as separate processes against the
//! real PostgreSQL and NATS: a person registers, attests and applies; the
//! consent service records the deemed consent; a counsellor publishes a
//! slot; the person books counselling with an interpreter declared (Art.
//! 12(3)), scheduling asking registration and consent over gRPC as `system`
//! (Art. 2); the person completes the checklist (Art. 12(4)) and the
//! acknowledgements (Art. 12(2), 12(3)), joins and leaves; the bookings and
//! the Art. 7(1) usage records are on scheduling's NATS stream.
//!
//! The stack's start-up and the journey are shared with the other end-to-end
//! tests (`common`). The services run as their own binaries, which `cargo
//! test --workspace` builds; `cargo test -p hellowork-tests` alone builds only
//! their libraries (build the binaries first with `cargo build --bins -p
//! hellowork-<service>`).

mod common;

use common::{Stack, eventually};
use hellowork_proto::scheduling::v1 as scheduling;
use hellowork_testing::nats_url;

#[tokio::test]
async fn register_apply_book_with_an_interpreter_prepare_join_leave_events_on_nats() {
    let mut stack = Stack::start().await;
    let device = scheduling::DeviceIdentifiers {
        device_id: "front-device-1".into(),
        ip_address: "203.0.113.9".into(),
        user_agent: "Mozilla/5.0".into(),
        os_name: "Windows".into(),
        os_version: "11".into(),
    };
    stack.journey(&device).await;

    // The events on scheduling's NATS stream.
    let jetstream = async_nats::jetstream::new(async_nats::connect(nats_url()).await.unwrap());
    let subjects = eventually("SessionLeft on NATS", || {
        let jetstream = jetstream.clone();
        let stream_name = stack.scheduling_env.stream_name.clone();
        async move {
            let stream = jetstream.get_stream(&stream_name).await.ok()?;
            let last = stream.get_info().await.ok()?.state.last_sequence;
            let mut subjects = Vec::new();
            for sequence in 1..=last {
                subjects.push(
                    stream
                        .get_raw_message(sequence)
                        .await
                        .ok()?
                        .subject
                        .to_string(),
                );
            }
            subjects
                .iter()
                .any(|s| s.ends_with(".SessionLeft"))
                .then_some(subjects)
        }
    })
    .await;
    for event in [
        "SessionBooked",
        "AttendantDeclared",
        "SessionJoined",
        "SessionLeft",
    ] {
        let subject = format!("{}.{event}", stack.scheduling_env.subject_prefix);
        assert!(subjects.contains(&subject), "{subject} in {subjects:?}");
    }
    stack.terminate().await;
}
