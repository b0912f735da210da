//! One simulated person, looping until the window closes: books a random
//! free slot (scheduling asks registration and consent), then either
//! cancels it (one time in [`CANCEL_ONE_IN`]; the slot is free again) or
//! completes the checklist and both acknowledgements, joins and leaves
//! (Art. 12(2)-(4)); then the web front system reports a page view to the
//! audit log (Art. 7(1)). A failed call is recorded and ends the
//! iteration; the next one starts afresh.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use hellowork_journey::{JourneyClient, Mint};
use hellowork_proto::{auditlog::v1 as audit, scheduling::v1 as scheduling};
use hellowork_values::time::timestamp;
use tokio::sync::mpsc::UnboundedSender;
use tonic::metadata::{Ascii, MetadataValue};

use super::{
    clients::{Clients, request},
    lag::Sample,
    record::{Method, Recorder, Window},
    setup::Person,
    slots::Pool,
};

/// One booking in this many is cancelled instead of attended.
const CANCEL_ONE_IN: u32 = 10;

/// Where a user reports the calls whose effects the lag pollers look for.
#[derive(Debug, Clone)]
pub struct LagSamples {
    /// Each `LeaveSession` acknowledged inside the window.
    pub left: UnboundedSender<Sample>,
    /// Each `JoinSession` acknowledged inside the window.
    pub joined: UnboundedSender<Sample>,
}

#[derive(Debug)]
pub struct User {
    pub person: Person,
    pub clients: Clients,
    /// The web front system's `system` token, for `RecordUsage`.
    pub front: MetadataValue<Ascii>,
    /// Mean pause before each call (uniform in 0..2×think); zero for none.
    pub think: Duration,
}

impl User {
    pub async fn run(self, pool: Arc<Pool>, window: Window, lags: LagSamples) -> Recorder {
        let mut recorder = Recorder::default();
        let journey = self.journey();
        while Instant::now() < window.closes {
            // A failure is in the recorder; the person simply tries again.
            let _ = self
                .iteration(&journey, &mut recorder, &pool, &window, &lags)
                .await;
        }
        recorder
    }

    async fn pause(&self) {
        if !self.think.is_zero() {
            tokio::time::sleep(self.think.mul_f64(rand::random_range(0.0..2.0))).await;
        }
    }

    fn request<T>(&self, message: T) -> tonic::Request<T> {
        request(message, &self.person.bearer)
    }

    /// The person's steps, with the token minted for them at enrolment.
    fn journey(&self) -> JourneyClient {
        let bearer = self.person.bearer.clone();
        let mint: Mint = Arc::new(move |_, _| Ok(bearer.clone()));
        JourneyClient::new(
            self.clients.registration.clone(),
            self.clients.scheduling.clone(),
            Arc::clone(&mint),
            mint,
        )
    }

    async fn iteration(
        &self,
        journey: &JourneyClient,
        recorder: &mut Recorder,
        pool: &Pool,
        window: &Window,
        lags: &LagSamples,
    ) -> Result<(), tonic::Status> {
        let mut schedule = self.clients.scheduling.clone();
        let person = &self.person;
        self.pause().await;
        let slot_id = pool.take().await;
        let seeker = &person.job_seeker_id;
        // On an error the slot is not put back: a failure after the append
        // (a timeout, say) may have booked it all the same.
        let (booked, _) = recorder
            .time(
                window,
                Method::BookSession,
                journey.book(seeker, &slot_id, &[]),
            )
            .await?;
        let booking_id = booked
            .booking
            .map(|booking| booking.booking_id)
            .unwrap_or_default();
        if rand::random_ratio(1, CANCEL_ONE_IN) {
            self.pause().await;
            let cancel = scheduling::CancelBookingRequest {
                booking_id: booking_id.clone(),
                reason: scheduling::CancellationReason::ByJobSeeker.into(),
            };
            recorder
                .time(
                    window,
                    Method::CancelBooking,
                    schedule.cancel_booking(self.request(cancel)),
                )
                .await?;
            pool.put([slot_id]);
        } else {
            self.attend(journey, recorder, window, lags, &booking_id)
                .await?;
        }
        self.pause().await;
        let page_view = audit::RecordUsageRequest {
            record: Some(self.page_view(&booking_id)),
        };
        recorder
            .time(
                window,
                Method::RecordUsage,
                self.clients
                    .audit_log
                    .clone()
                    .record_usage(request(page_view, &self.front)),
            )
            .await?;
        Ok(())
    }

    /// The checklist, both acknowledgements, join and leave.
    async fn attend(
        &self,
        journey: &JourneyClient,
        recorder: &mut Recorder,
        window: &Window,
        lags: &LagSamples,
        booking_id: &str,
    ) -> Result<(), tonic::Status> {
        let seeker = &self.person.job_seeker_id;
        let device = &self.person.device;
        self.pause().await;
        recorder
            .time(
                window,
                Method::CompletePreSessionChecklist,
                journey.complete_checklist(seeker, booking_id),
            )
            .await?;
        self.pause().await;
        recorder
            .time(
                window,
                Method::AcknowledgePrivateRoom,
                journey.acknowledge_private_room(seeker, booking_id),
            )
            .await?;
        self.pause().await;
        recorder
            .time(
                window,
                Method::AcknowledgeNoRecording,
                journey.acknowledge_no_recording(seeker, booking_id),
            )
            .await?;
        self.pause().await;
        let (_, joined) = recorder
            .time(
                window,
                Method::JoinSession,
                journey.join(seeker, booking_id, device),
            )
            .await?;
        self.sample(&lags.joined, window, booking_id, joined);
        self.pause().await;
        let (_, left) = recorder
            .time(
                window,
                Method::LeaveSession,
                journey.leave(seeker, booking_id, device),
            )
            .await?;
        self.sample(&lags.left, window, booking_id, left);
        Ok(())
    }

    fn sample(
        &self,
        to: &UnboundedSender<Sample>,
        window: &Window,
        booking_id: &str,
        acked: Instant,
    ) {
        if window.contains(acked) {
            // The pollers outlive every user, so they are still listening.
            let _ = to.send(Sample {
                job_seeker_id: self.person.job_seeker_id.clone(),
                booking_id: booking_id.to_owned(),
                acked,
            });
        }
    }

    /// The person looked at their booking on the web (Art. 7(1)).
    fn page_view(&self, booking_id: &str) -> audit::UsageRecord {
        let device = &self.person.device;
        let now = Utc::now();
        audit::UsageRecord {
            record_id: uuid::Uuid::new_v4().to_string(),
            job_seeker_id: self.person.job_seeker_id.clone(),
            occurred_at: Some(timestamp(now)),
            usage_window: None,
            access_kind: audit::AccessKind::PageView.into(),
            action: "/online-services/bookings".to_owned(),
            method: "GET".to_owned(),
            outcome: audit::AccessOutcome::Success.into(),
            offering: scheduling::Offering::Counselling.into(),
            booking_id: booking_id.to_owned(),
            device: Some(audit::DeviceIdentifiers {
                device_id: device.device_id.clone(),
                ip_address: device.ip_address.clone(),
                user_agent: device.user_agent.clone(),
                os_name: device.os_name.clone(),
                os_version: device.os_version.clone(),
            }),
            source: "web".to_owned(),
            sealed_device: None,
        }
    }
}
