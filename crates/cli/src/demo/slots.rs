//! The counsellors' side of the demo: counselling slots and a seminar
//! (Art. 1) for the run's job seekers to book.

use chrono::{DateTime, Days, NaiveTime, Utc};
use hellowork_auth::Role;
use hellowork_proto::scheduling::v1 as scheduling;

use super::{TOKYO, clients::Clients, explain, timestamp};

/// The counselling slots (one seat each) and the seminar slot of a run.
#[derive(Debug)]
pub struct Slots {
    pub counselling: Vec<scheduling::Slot>,
    pub seminar: scheduling::Slot,
}

/// A counsellor of this run offers `seats` half-hour counselling slots the
/// day after tomorrow from 10:00 Tokyo time; another a two-hour seminar the
/// day after. Counsellors are new per run: a counsellor's slots never
/// overlap, and a rerun must not collide with the last one.
pub async fn publish_slots(clients: &Clients, run: &str, seats: usize) -> Result<Slots, String> {
    let today = Utc::now().with_timezone(&TOKYO).date_naive();
    let at = |days: u64, hour: u32| -> Result<DateTime<Utc>, String> {
        today
            .checked_add_days(Days::new(days))
            .and_then(|day| {
                day.and_time(NaiveTime::from_hms_opt(hour, 0, 0)?)
                    .and_local_timezone(TOKYO)
                    .single()
            })
            .map(|at| at.with_timezone(&Utc))
            .ok_or_else(|| "cannot compute the session dates".to_owned())
    };
    let counselling_start = at(2, 10)?;
    let length = chrono::Duration::minutes(30);
    let seats = i32::try_from(seats).map_err(|_| "too many job seekers")?;
    let counselling = publish(
        clients,
        scheduling::PublishAvailabilityRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            counsellor_id: format!("counsellor-{run}"),
            offering: scheduling::Offering::Counselling.into(),
            start_time: Some(timestamp(counselling_start)),
            end_time: Some(timestamp(counselling_start + length * seats)),
            slot_length: Some(prost_types::Duration {
                seconds: length.num_seconds(),
                nanos: 0,
            }),
            capacity: 1,
        },
    )
    .await?;
    let seminar_start = at(3, 14)?;
    let seminar = publish(
        clients,
        scheduling::PublishAvailabilityRequest {
            request_id: uuid::Uuid::new_v4().to_string(),
            counsellor_id: format!("seminar-host-{run}"),
            offering: scheduling::Offering::Seminar.into(),
            start_time: Some(timestamp(seminar_start)),
            end_time: Some(timestamp(seminar_start + chrono::Duration::hours(2))),
            slot_length: None,
            capacity: 30,
        },
    )
    .await?
    .into_iter()
    .next()
    .ok_or("the seminar was published without a slot")?;
    Ok(Slots {
        counselling,
        seminar,
    })
}

async fn publish(
    clients: &Clients,
    message: scheduling::PublishAvailabilityRequest,
) -> Result<Vec<scheduling::Slot>, String> {
    let counsellor = message.counsellor_id.clone();
    let request = clients.request(message, &counsellor, Role::Counsellor)?;
    Ok(clients
        .scheduling
        .clone()
        .publish_availability(request)
        .await
        .map_err(|s| format!("publishing {counsellor}'s availability: {}", explain(s)))?
        .into_inner()
        .slots)
}
