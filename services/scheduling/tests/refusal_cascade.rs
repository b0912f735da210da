//! Art. 12(1): the refusal cascade is a process manager on scheduling's own
//! events. A refusal stored by a process that stopped before cancelling
//! anything still cancels every open booking of the person, once the
//! service runs again; the cancellations carry the refusal as their cause;
//! and applying the refusal again (a crash before the cascade's checkpoint
//! moved) writes nothing more.

mod support;

use hellowork_eventstore::{
    Actor, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoreConfig, StreamId, Upcasters,
};
use hellowork_platform::Role;
use hellowork_proto::scheduling::v1::{
    self as proto, BookingState, CancellationReason, ConductReason, Offering, OnlineServicesRefused,
};
use prost::Message;
use sqlx::PgPool;
use support::world::{World, eventually};
use uuid::Uuid;

async fn booking(world: &World, id: &str) -> proto::Booking {
    world
        .client()
        .await
        .get_booking(world.request_as(
            "supervisor-1",
            Role::Supervisor,
            proto::GetBookingRequest {
                booking_id: id.into(),
            },
        ))
        .await
        .expect("booking")
        .into_inner()
        .booking
        .unwrap()
}

async fn book(world: &mut World, seeker: &str, counsellor: &str) -> String {
    let slot = world
        .publish(counsellor, Offering::Counselling, 48, 1)
        .await;
    world
        .client()
        .await
        .book_session(world.booking_request(&slot, seeker))
        .await
        .expect("booked")
        .into_inner()
        .booking
        .unwrap()
        .booking_id
}

/// (causation id, correlation id) of every stored cancellation.
async fn cancellations(pool: &PgPool) -> Vec<(Option<Uuid>, Uuid)> {
    sqlx::query_as(
        "SELECT causation_id, correlation_id FROM events \
         WHERE event_type = 'BookingCancelled' ORDER BY position",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn cancelled_by_refusal(world: &World, bookings: &[String]) {
    for id in bookings {
        eventually("the cascade cancels the booking", || async {
            let shown = booking(world, id).await;
            (shown.state() == BookingState::Cancelled).then_some(shown)
        })
        .await;
        let shown = booking(world, id).await;
        assert_eq!(
            shown.cancellation_reason(),
            CancellationReason::OnlineServicesRefused
        );
    }
}

#[tokio::test]
async fn art_12_1_a_refusal_stored_before_a_crash_cancels_every_open_booking_once() {
    let mut world = World::start("24h").await;
    let seeker = world.eligible_person(1).await;
    let bookings = vec![
        book(&mut world, &seeker, "counsellor-1").await,
        book(&mut world, &seeker, "counsellor-2").await,
    ];
    let registration_url = world.url_of(world.registration.as_ref());
    let consent_url = world.url_of(world.consent.as_ref());
    world.scheduling.shutdown.cancel();

    // The refusal as the request appended it before the process stopped,
    // its cancellations not yet made.
    let options: sqlx::postgres::PgConnectOptions = world.env.database.url.parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.options([("search_path", "scheduling")]))
        .await
        .unwrap();
    let store = EventStore::new(
        pool.clone(),
        StoreConfig::new("scheduling"),
        Upcasters::new(),
    );
    let correlation = Uuid::now_v7();
    let refusal_event = Uuid::now_v7();
    let refused = OnlineServicesRefused {
        refusal_id: Uuid::new_v4().to_string(),
        job_seeker_id: seeker.clone(),
        reason: ConductReason::Threat.into(),
        ..Default::default()
    };
    store
        .append(
            &StreamId::new(format!("scheduling-person-{seeker}")).unwrap(),
            ExpectedVersion::NoStream,
            vec![NewEvent {
                event_id: refusal_event,
                event_type: "OnlineServicesRefused".into(),
                schema_version: 1,
                payload: refused.encode_to_vec(),
                occurred_at: chrono::Utc::now(),
                metadata: EventMetadata {
                    correlation_id: correlation,
                    causation_id: None,
                    actor: Actor {
                        subject: "supervisor-1".into(),
                        role: hellowork_proto::events::v1::Role::Supervisor,
                    },
                    traceparent: None,
                    tracestate: None,
                },
            }],
        )
        .await
        .unwrap();
    assert!(cancellations(&pool).await.is_empty());

    world.scheduling = world
        .start_scheduling("24h", &registration_url, &consent_url)
        .await;
    cancelled_by_refusal(&world, &bookings).await;
    assert_eq!(
        cancellations(&pool).await,
        vec![(Some(refusal_event), correlation); 2],
        "one cancellation per booking, caused by the refusal, in its correlation"
    );

    // A crash before the cascade's checkpoint moved: the refusal is applied
    // again by the next process, and nothing more is written.
    world.scheduling.shutdown.cancel();
    sqlx::query("DELETE FROM consumer_inbox WHERE consumer = $1")
        .bind(hellowork_scheduling::refusal_cascade::NAME)
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM consumer_checkpoints WHERE consumer = $1")
        .bind(hellowork_scheduling::refusal_cascade::NAME)
        .execute(&pool)
        .await
        .unwrap();
    world.scheduling = world
        .start_scheduling("24h", &registration_url, &consent_url)
        .await;
    eventually("the cascade has applied the refusal again", || async {
        let at: Option<Uuid> = sqlx::query_scalar(
            "SELECT last_event_id FROM consumer_checkpoints WHERE consumer = $1",
        )
        .bind(hellowork_scheduling::refusal_cascade::NAME)
        .fetch_optional(&pool)
        .await
        .unwrap()
        .flatten();
        at.is_some().then_some(())
    })
    .await;
    assert_eq!(cancellations(&pool).await.len(), 2, "nothing written twice");
    pool.close().await;
}

/// The caller's correlation id reaches the refusal and the cancellations it
/// causes, made by the request and by the cascade alike.
#[tokio::test]
async fn a_refusals_correlation_id_is_that_of_the_request_and_of_its_cancellations() {
    let mut world = World::start("24h").await;
    let seeker = world.eligible_person(1).await;
    let booked = book(&mut world, &seeker, "counsellor-1").await;
    let correlation = Uuid::now_v7();
    let mut request = world.request_as(
        "supervisor-1",
        Role::Supervisor,
        proto::RefuseOnlineServicesRequest {
            request_id: Uuid::new_v4().to_string(),
            job_seeker_id: seeker.clone(),
            reason: ConductReason::Threat.into(),
            ..Default::default()
        },
    );
    request.metadata_mut().insert(
        hellowork_platform::CORRELATION_HEADER,
        correlation.to_string().parse().unwrap(),
    );
    let refused = world
        .client()
        .await
        .refuse_online_services(request)
        .await
        .expect("refused")
        .into_inner();
    assert_eq!(refused.cancelled_booking_ids, vec![booked.clone()]);
    cancelled_by_refusal(&world, &[booked]).await;

    let options: sqlx::postgres::PgConnectOptions = world.env.database.url.parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.options([("search_path", "scheduling")]))
        .await
        .unwrap();
    let correlations: Vec<(String, Uuid)> = sqlx::query_as(
        "SELECT event_type, correlation_id FROM events \
         WHERE event_type IN ('OnlineServicesRefused', 'BookingCancelled') ORDER BY position",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        correlations,
        vec![
            ("OnlineServicesRefused".to_owned(), correlation),
            ("BookingCancelled".to_owned(), correlation),
        ]
    );
    pool.close().await;
}
