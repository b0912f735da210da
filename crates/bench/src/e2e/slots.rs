//! The counsellors' side: their free slots, from which each user books a
//! random one, and more availability published whenever few are left, as
//! counsellors keep publishing theirs. A slot booked and attended stays
//! taken; a cancelled one is free again. Each counsellor's slots follow
//! one another (a counsellor's slots never overlap), from two days ahead.

use std::{
    sync::{Mutex, PoisonError},
    time::Instant,
};

use anyhow::Context as _;
use chrono::{DateTime, DurationRound as _, TimeDelta, Utc};
use hellowork_auth::Role;
use hellowork_proto::scheduling::v1 as scheduling;
use hellowork_values::time::timestamp;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::metadata::{Ascii, MetadataValue};

use super::{
    clients::{Clients, Minter, request},
    record::{Method, Recorder, Window},
};

/// Slots a counsellor publishes at once: a day of half hours.
const SLOTS_PER_PUBLISH: u32 = 48;
const SLOT_MINUTES: i64 = 30;

/// The free slots, by id.
#[derive(Debug)]
pub struct Pool {
    free: Mutex<Vec<String>>,
    /// More are published when no more than this many are left: one per
    /// user, so that a user rarely waits for a slot.
    low_water: usize,
    wanted: Notify,
    added: Notify,
}

impl Pool {
    pub fn new(low_water: usize) -> Self {
        Self {
            free: Mutex::new(Vec::new()),
            low_water,
            wanted: Notify::new(),
            added: Notify::new(),
        }
    }

    fn free(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A random free slot, waiting for more to be published if none is.
    pub async fn take(&self) -> String {
        loop {
            let added = self.added.notified();
            tokio::pin!(added);
            // Registered before looking, so an addition in between wakes us.
            added.as_mut().enable();
            {
                let mut free = self.free();
                if free.len() <= self.low_water {
                    self.wanted.notify_one();
                }
                if !free.is_empty() {
                    let index = rand::random_range(0..free.len());
                    return free.swap_remove(index);
                }
            }
            added.await;
        }
    }

    /// Slots free (again).
    pub fn put(&self, slots: impl IntoIterator<Item = String>) {
        self.free().extend(slots);
        self.added.notify_waiters();
    }
}

/// The run's counsellors and where each one's next slot starts.
#[derive(Debug)]
pub struct Counsellors {
    clients: Clients,
    staff: Vec<(String, MetadataValue<Ascii>)>,
    next_start: Vec<DateTime<Utc>>,
    turn: usize,
}

impl Counsellors {
    pub fn new(minter: &Minter, clients: Clients, count: usize) -> anyhow::Result<Self> {
        let start = (Utc::now() + TimeDelta::days(2)).duration_trunc(TimeDelta::hours(1))?;
        let mut staff = Vec::with_capacity(count);
        for index in 0..count {
            let id = format!("bench-counsellor-{index}");
            let bearer = minter.bearer(&id, Role::Counsellor)?;
            staff.push((id, bearer));
        }
        Ok(Self {
            clients,
            staff,
            next_start: vec![start; count],
            turn: 0,
        })
    }

    /// The next counsellor in turn publishes a day of slots.
    async fn publish(
        &mut self,
        recorder: &mut Recorder,
        window: &Window,
    ) -> anyhow::Result<Vec<String>> {
        let index = self.turn % self.staff.len();
        self.turn += 1;
        let (id, bearer) = &self.staff[index];
        let start = self.next_start[index];
        let length = TimeDelta::minutes(SLOT_MINUTES);
        let end = start + length * i32::try_from(SLOTS_PER_PUBLISH)?;
        let message = scheduling::PublishAvailabilityRequest {
            request_id: uuid::Uuid::now_v7().to_string(),
            counsellor_id: id.clone(),
            offering: scheduling::Offering::Counselling.into(),
            start_time: Some(timestamp(start)),
            end_time: Some(timestamp(end)),
            slot_length: Some(prost_types::Duration {
                seconds: length.num_seconds(),
                nanos: 0,
            }),
            capacity: 1,
        };
        let mut scheduling = self.clients.scheduling.clone();
        let (response, _) = recorder
            .time(
                window,
                Method::PublishAvailability,
                scheduling.publish_availability(request(message, bearer)),
            )
            .await
            .with_context(|| format!("{id} publishing availability"))?;
        self.next_start[index] = end;
        Ok(response
            .into_inner()
            .slots
            .into_iter()
            .map(|slot| slot.slot_id)
            .collect())
    }

    /// Every counsellor publishes a day of slots into `pool`.
    pub async fn publish_all(&mut self, pool: &Pool) -> anyhow::Result<()> {
        // Set-up, not measured: what it records is dropped.
        let now = Instant::now();
        let window = Window {
            opens: now,
            closes: now,
        };
        for _ in 0..self.staff.len() {
            let slots = self.publish(&mut Recorder::default(), &window).await?;
            pool.put(slots);
        }
        Ok(())
    }

    /// Publishes more whenever the pool runs low, until `stop`; what the
    /// publishing calls took inside `window`.
    pub async fn replenish(
        mut self,
        pool: &Pool,
        window: Window,
        stop: CancellationToken,
    ) -> anyhow::Result<Recorder> {
        let mut recorder = Recorder::default();
        loop {
            tokio::select! {
                () = stop.cancelled() => return Ok(recorder),
                () = pool.wanted.notified() => {}
            }
            let slots = self.publish(&mut recorder, &window).await?;
            pool.put(slots);
        }
    }
}
