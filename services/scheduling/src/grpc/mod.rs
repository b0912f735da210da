//! The thin tonic adapter of `hellowork.scheduling.v1.SchedulingService`:
//! who may call (roles per RPC; a job seeker only on their own bookings, a
//! counsellor on their own slots), request parsing, eligibility asked of the
//! peers, one command per stream through the repositories, and errors mapped
//! once through `ServiceError`. No rule of the terms lives here.
//!
//! A job seeker's token subject is their job seeker id and a counsellor's is
//! their counsellor id, so ownership compares the two.

mod history;
pub mod parse;
mod streams;
mod view;

use std::{collections::BTreeSet, sync::Arc};

use chrono::Utc;
use hellowork_eventstore::{EventStore, StoreError};
use hellowork_platform::{
    Article, ArticleViolation, Caller, Role, ServiceError, caller, event_metadata, require_any,
    require_self_or,
};
use hellowork_proto::scheduling::v1::{
    self as proto, CancellationReason, Offering, scheduling_service_server::SchedulingService,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::{
    domain::{
        self, Book, Cancel, CompleteChecklist, DeclareAttendant, DomainError, Join, Leave, NewSlot,
        Person, PersonCommand, Publish, Refuse, Reschedule, Schedule, ScheduleCommand, Stop,
        confirmation_notices,
    },
    eligibility::EligibilityClient,
    metrics, projections,
    sealed::{
        PersonalKeys,
        codec::{self, Note},
    },
    sealing::DeviceSealer,
    settings::SchedulingSettings,
};

use history::History;
pub use history::{person_stream, schedule_stream};
use streams::Streams;

/// Counsellors' schedules kept folded in memory (a few dozen counsellors
/// work at one office; the bound only matters for a much larger one).
const SCHEDULES_KEPT: usize = 1_000;
/// Persons' refusal streams kept folded in memory: the people booking
/// these days; the others are read again when they return.
const PERSONS_KEPT: usize = 20_000;

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct SchedulingApi {
    schedules: Streams<Schedule>,
    persons: Streams<Person>,
    pool: PgPool,
    eligibility: EligibilityClient,
    sealer: Arc<DeviceSealer>,
    keys: PersonalKeys,
    settings: Arc<SchedulingSettings>,
}

fn missing(what: &'static str, id: impl ToString) -> ServiceError {
    ServiceError::NotFound {
        resource_type: what,
        resource_name: id.to_string(),
    }
}

/// A read-model query failed: UNAVAILABLE if the database is, else INTERNAL.
fn database(error: sqlx::Error) -> ServiceError {
    StoreError::Database(error).into()
}

/// `owner_role` acting on their own resource, or any of `others`.
fn require_owner_or(
    caller: &Caller,
    owner_role: Role,
    owner: &str,
    others: &[Role],
) -> Result<(), ServiceError> {
    if others.iter().any(|role| caller.has_role(*role))
        || (caller.has_role(owner_role) && caller.subject() == owner)
    {
        return Ok(());
    }
    Err(ServiceError::PermissionDenied(
        "not allowed for this caller on this resource".to_owned(),
    ))
}

/// Who may act on a booking: its person, the counsellor of its slot, and
/// the roles in `others`.
fn require_booking_access(
    caller: &Caller,
    booking: &proto::Booking,
    job_seeker: bool,
    counsellor: bool,
    others: &[Role],
) -> Result<(), ServiceError> {
    let own_person =
        job_seeker && caller.has_role(Role::JobSeeker) && caller.subject() == booking.job_seeker_id;
    let own_slot = counsellor
        && caller.has_role(Role::Counsellor)
        && caller.subject() == booking.counsellor_id;
    if own_person || own_slot || others.iter().any(|role| caller.has_role(*role)) {
        return Ok(());
    }
    Err(ServiceError::PermissionDenied(
        "not allowed for this caller on this booking".to_owned(),
    ))
}

impl SchedulingApi {
    pub fn new(
        store: EventStore,
        pool: PgPool,
        eligibility: EligibilityClient,
        sealer: Arc<DeviceSealer>,
        keys: PersonalKeys,
        settings: SchedulingSettings,
    ) -> Self {
        Self {
            schedules: Streams::new(store.clone(), keys.clone(), SCHEDULES_KEPT),
            persons: Streams::new(store, keys.clone(), PERSONS_KEPT),
            pool,
            eligibility,
            sealer,
            keys,
            settings: Arc::new(settings),
        }
    }

    /// Art. 8: a booking as the contract shows it, the note of its stop
    /// opened with its person's data key (erased once that is destroyed).
    async fn shown(
        &self,
        history: &History<Schedule>,
        booking_id: &str,
    ) -> Result<proto::Booking, ServiceError> {
        let booking = history
            .state
            .booking(booking_id)
            .ok_or_else(|| missing("booking", booking_id))?;
        let note = match &booking.stop {
            Some(stop) => {
                let key = self.keys.find(&stop.job_seeker_id).await?;
                codec::stop_note(&key, stop).map_err(ServiceError::internal)?
            }
            None => Note::Text(String::new()),
        };
        view::booking(history, booking_id, note).ok_or_else(|| missing("booking", booking_id))
    }

    /// Art. 8: a refusal as the contract shows it, its note opened.
    async fn shown_refusal(
        &self,
        person: &History<Person>,
        refusal_id: &str,
    ) -> Result<proto::Refusal, ServiceError> {
        let record = person
            .state
            .refusal(refusal_id)
            .ok_or_else(|| missing("refusal", refusal_id))?;
        let key = self.keys.find(&record.refused.job_seeker_id).await?;
        let note = codec::refusal_note(&key, &record.refused).map_err(ServiceError::internal)?;
        view::refusal(person, refusal_id, note).ok_or_else(|| missing("refusal", refusal_id))
    }

    /// Runs `command` on a counsellor's schedule, counts what it appended
    /// (`offering` is that of the slot or booking concerned) and returns the
    /// schedule afterwards.
    async fn on_schedule(
        &self,
        caller: &Caller,
        counsellor_id: &str,
        command: &ScheduleCommand,
        offering: Offering,
    ) -> Result<History<Schedule>, ServiceError> {
        let stream = schedule_stream(counsellor_id)?;
        let metadata = event_metadata(caller, None);
        let (events, history) = self.schedules.execute(&stream, command, &metadata).await?;
        metrics::record(&events, offering);
        Ok(history)
    }

    /// Runs `command` on a person's stream, counts what it appended and
    /// returns the person afterwards.
    async fn on_person(
        &self,
        caller: &Caller,
        job_seeker_id: &str,
        command: &PersonCommand,
    ) -> Result<History<Person>, ServiceError> {
        let stream = person_stream(job_seeker_id)?;
        let metadata = event_metadata(caller, None);
        let (events, history) = self.persons.execute(&stream, command, &metadata).await?;
        metrics::record(&events, Offering::Unspecified);
        Ok(history)
    }

    async fn schedule(&self, counsellor_id: &str) -> Result<History<Schedule>, ServiceError> {
        self.schedules.read(&schedule_stream(counsellor_id)?).await
    }

    async fn person(&self, job_seeker_id: &str) -> Result<History<Person>, ServiceError> {
        self.persons.read(&person_stream(job_seeker_id)?).await
    }

    /// The counsellor whose schedule holds a booking, or NOT_FOUND.
    async fn booking_counsellor(&self, booking_id: &str) -> Result<String, ServiceError> {
        projections::booking_counsellor(&self.pool, booking_id)
            .await
            .map_err(database)?
            .ok_or_else(|| missing("booking", booking_id))
    }

    /// A booking as the contract shows it, with its schedule.
    async fn booking(
        &self,
        booking_id: &str,
    ) -> Result<(String, History<Schedule>, proto::Booking), ServiceError> {
        let counsellor = self.booking_counsellor(booking_id).await?;
        let history = self.schedule(&counsellor).await?;
        let booking = self.shown(&history, booking_id).await?;
        Ok((counsellor, history, booking))
    }

    /// A booking as this process knows it, for what never changes once it
    /// is booked (whose it is, its counsellor and offering): who may act on
    /// it and which schedule the command goes to. Read from the store only
    /// when this process has not seen the booking yet; the command itself
    /// is decided on the store's state.
    async fn known_booking(
        &self,
        booking_id: &str,
    ) -> Result<(String, proto::Booking), ServiceError> {
        let counsellor = self.booking_counsellor(booking_id).await?;
        let stream = schedule_stream(&counsellor)?;
        let history = self
            .schedules
            .known(&stream, |history| {
                history.state.booking(booking_id).is_some()
            })
            .await?;
        // Only who may act on it and where: its stop's note is not opened.
        let booking = view::booking(&history, booking_id, Note::Text(String::new()))
            .ok_or_else(|| missing("booking", booking_id))?;
        Ok((counsellor, booking))
    }

    /// Runs `command` on a booking's schedule after `authorize`, and returns
    /// the booking as it is afterwards.
    async fn on_booking(
        &self,
        caller: &Caller,
        booking_id: &str,
        authorize: impl FnOnce(&proto::Booking) -> Result<(), ServiceError>,
        command: impl FnOnce(&proto::Booking) -> ScheduleCommand,
    ) -> Result<proto::Booking, ServiceError> {
        let (counsellor, before) = self.known_booking(booking_id).await?;
        authorize(&before)?;
        let history = self
            .on_schedule(caller, &counsellor, &command(&before), before.offering())
            .await?;
        self.shown(&history, booking_id).await
    }

    /// Art. 2, 12(1): every unmet condition of eligibility for a session at
    /// `at`: the person's refusal (their own stream) and what registration
    /// and consent answer. UNAVAILABLE, with nothing written, when a peer
    /// cannot be asked.
    async fn unmet_conditions(
        &self,
        job_seeker_id: &str,
        at: chrono::DateTime<Utc>,
    ) -> Result<Vec<ArticleViolation>, ServiceError> {
        let (person, mut unmet) = tokio::try_join!(
            self.person(job_seeker_id),
            self.eligibility.unmet(job_seeker_id, at)
        )?;
        let refused_reason = hellowork_proto::registration::v1::EligibilityReason::Refused;
        // Art. 12(1): scheduling is the authority on its own refusals.
        unmet.retain(|v| v.subject != refused_reason.as_str_name());
        if person.state.is_refused() {
            unmet.push(ArticleViolation {
                article: Article::Art12_1,
                subject: refused_reason.as_str_name().to_owned(),
                description: DomainError::Refused.to_string(),
            });
        }
        Ok(unmet)
    }
}

#[tonic::async_trait]
impl SchedulingService for SchedulingApi {
    async fn publish_availability(
        &self,
        request: Request<proto::PublishAvailabilityRequest>,
    ) -> Result<Response<proto::PublishAvailabilityResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Counsellor, Role::Supervisor])?;
        let parsed = parse::publication(request.get_ref())?;
        require_owner_or(
            caller,
            Role::Counsellor,
            &parsed.counsellor_id,
            &[Role::Supervisor],
        )?;
        let slots: Vec<NewSlot> = parsed
            .windows
            .iter()
            .enumerate()
            .map(|(i, (start, end))| NewSlot {
                slot_id: Uuid::new_v5(
                    &parsed.request_id,
                    format!("slot:{}:{i}", parsed.counsellor_id).as_bytes(),
                )
                .to_string(),
                start: *start,
                end: *end,
            })
            .collect();
        let command = ScheduleCommand::Publish(Publish {
            counsellor_id: parsed.counsellor_id.clone(),
            offering: parsed.offering,
            slots: slots.clone(),
            capacity: parsed.capacity,
        });
        let history = self
            .on_schedule(caller, &parsed.counsellor_id, &command, parsed.offering)
            .await?;
        let mut published = Vec::new();
        for new in &slots {
            let slot = history
                .state
                .slot(&new.slot_id)
                .ok_or_else(|| missing("slot", &new.slot_id))?;
            projections::insert_slot(
                &self.pool,
                &slot.slot_id,
                &slot.counsellor_id,
                slot.offering.into(),
                slot.start,
                slot.end,
                slot.capacity,
            )
            .await
            .map_err(database)?;
            published.push(view::slot(&history.state, slot));
        }
        Ok(Response::new(proto::PublishAvailabilityResponse {
            slots: published,
        }))
    }

    async fn list_free_slots(
        &self,
        request: Request<proto::ListFreeSlotsRequest>,
    ) -> Result<Response<proto::ListFreeSlotsResponse>, Status> {
        let caller = caller(&request)?;
        require_any(
            caller,
            &[Role::JobSeeker, Role::Counsellor, Role::Supervisor],
        )?;
        let query = parse::free_slots(request.get_ref())?;
        let rows = projections::free_slots(
            &self.pool,
            query.offering.into(),
            query.date,
            query.counsellor_id.as_deref(),
            query.after,
            query.page_size + 1,
        )
        .await
        .map_err(database)?;
        let more = rows.len() > usize::try_from(query.page_size).unwrap_or_default();
        let page: Vec<_> = rows
            .into_iter()
            .take(usize::try_from(query.page_size).unwrap_or_default())
            .collect();
        let next_page_token = match (more, page.last()) {
            (true, Some(last)) => parse::next_page_token(last.start_time, &last.slot_id),
            _ => String::new(),
        };
        let slots = page
            .into_iter()
            .map(|row| proto::Slot {
                slot_id: row.slot_id,
                counsellor_id: row.counsellor_id,
                offering: row.offering,
                start_time: Some(domain::timestamp(row.start_time)),
                end_time: Some(domain::timestamp(row.end_time)),
                capacity: u32::try_from(row.capacity).unwrap_or_default(),
                booked_count: u32::try_from(row.booked_count).unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(proto::ListFreeSlotsResponse {
            slots,
            next_page_token,
        }))
    }

    async fn book_session(
        &self,
        request: Request<proto::BookSessionRequest>,
    ) -> Result<Response<proto::BookSessionResponse>, Status> {
        let caller = caller(&request)?;
        require_self_or(
            caller,
            &request.get_ref().job_seeker_id,
            &[Role::Counsellor],
        )?;
        let parsed = parse::booking(request.get_ref())?;
        let job_seeker_id = parsed.job_seeker_id.to_string();
        let slot_id = parsed.slot_id.to_string();
        let booking_id = Uuid::new_v5(
            &parsed.job_seeker_id,
            format!("booking:{}", parsed.request_id).as_bytes(),
        )
        .to_string();
        let (counsellor, start) = projections::slot_placement(&self.pool, &slot_id)
            .await
            .map_err(database)?
            .ok_or_else(|| missing("slot", &slot_id))?;
        // The schedule and the peers are asked at once; the peers' answer
        // only matters for a new booking.
        let (history, unmet) = tokio::join!(
            self.schedule(&counsellor),
            self.unmet_conditions(&job_seeker_id, start)
        );
        let mut history = history?;
        let slot = history
            .state
            .slot(&slot_id)
            .ok_or_else(|| missing("slot", &slot_id))?
            .clone();
        // The same request repeated: the booking made the first time.
        if history.state.booking(&booking_id).is_none() {
            let unmet = unmet?;
            if !unmet.is_empty() {
                metrics::record_refusal(slot.offering, &unmet);
                return Err(ServiceError::Forbidden(unmet).into());
            }
            let command = ScheduleCommand::Book(Book {
                booking_id: booking_id.clone(),
                slot_id: slot_id.clone(),
                job_seeker_id: job_seeker_id.clone(),
                attendants: parsed
                    .attendants
                    .iter()
                    .enumerate()
                    .map(|(i, kind)| {
                        let id = Uuid::new_v5(
                            &parsed.request_id,
                            format!("attendant:{booking_id}:{i}").as_bytes(),
                        );
                        (id.to_string(), *kind)
                    })
                    .collect(),
                at: Utc::now(),
                attendant_cutoff: self.settings.attendant_cutoff,
            });
            history = self
                .on_schedule(caller, &counsellor, &command, slot.offering)
                .await?;
        }
        projections::insert_booking(
            &self.pool,
            &booking_id,
            &slot_id,
            &job_seeker_id,
            &counsellor,
            slot.start,
        )
        .await
        .map_err(database)?;
        let booking = self.shown(&history, &booking_id).await?;
        Ok(Response::new(proto::BookSessionResponse {
            booking: Some(booking),
            notices: confirmation_notices().into_iter().map(i32::from).collect(),
        }))
    }

    async fn get_booking(
        &self,
        request: Request<proto::GetBookingRequest>,
    ) -> Result<Response<proto::GetBookingResponse>, Status> {
        let caller = caller(&request)?;
        require_any(
            caller,
            &[Role::JobSeeker, Role::Counsellor, Role::Supervisor],
        )?;
        let id = parse::booking_id(&request.get_ref().booking_id)?.to_string();
        let (_, _, booking) = self.booking(&id).await?;
        require_booking_access(caller, &booking, true, true, &[Role::Supervisor])?;
        Ok(Response::new(proto::GetBookingResponse {
            booking: Some(booking),
        }))
    }

    async fn cancel_booking(
        &self,
        request: Request<proto::CancelBookingRequest>,
    ) -> Result<Response<proto::CancelBookingResponse>, Status> {
        let caller = caller(&request)?;
        require_any(
            caller,
            &[Role::JobSeeker, Role::Counsellor, Role::Supervisor],
        )?;
        let (id, reason) = parse::cancellation(request.get_ref())?;
        let id = id.to_string();
        let booking = self
            .on_booking(
                caller,
                &id,
                |b| require_booking_access(caller, b, true, true, &[Role::Supervisor]),
                |_| {
                    ScheduleCommand::Cancel(Cancel {
                        booking_id: id.clone(),
                        reason,
                        refusal_id: String::new(),
                        at: Utc::now(),
                    })
                },
            )
            .await?;
        Ok(Response::new(proto::CancelBookingResponse {
            booking: Some(booking),
        }))
    }

    async fn reschedule_booking(
        &self,
        request: Request<proto::RescheduleBookingRequest>,
    ) -> Result<Response<proto::RescheduleBookingResponse>, Status> {
        let caller = caller(&request)?;
        require_any(
            caller,
            &[Role::JobSeeker, Role::Counsellor, Role::Supervisor],
        )?;
        let (_, id, new_slot) = parse::rescheduling(request.get_ref())?;
        let (id, new_slot) = (id.to_string(), new_slot.to_string());
        let (counsellor, history, before) = self.booking(&id).await?;
        require_booking_access(caller, &before, true, true, &[Role::Supervisor])?;
        let (target, _) = projections::slot_placement(&self.pool, &new_slot)
            .await
            .map_err(database)?
            .ok_or_else(|| missing("slot", &new_slot))?;
        // One stream holds both seats only for the same counsellor: moving
        // to another counsellor is a cancellation and a new booking.
        if target != counsellor {
            return Err(ServiceError::FailedPrecondition(
                "the new slot is another counsellor's: cancel and book it instead".to_owned(),
            )
            .into());
        }
        if before.slot_id != new_slot {
            let start = history
                .state
                .slot(&new_slot)
                .ok_or_else(|| missing("slot", &new_slot))?
                .start;
            let unmet = self.unmet_conditions(&before.job_seeker_id, start).await?;
            if !unmet.is_empty() {
                metrics::record_refusal(before.offering(), &unmet);
                return Err(ServiceError::Forbidden(unmet).into());
            }
        }
        let command = ScheduleCommand::Reschedule(Reschedule {
            booking_id: id.clone(),
            new_slot_id: new_slot,
            at: Utc::now(),
            attendant_cutoff: self.settings.attendant_cutoff,
        });
        let history = self
            .on_schedule(caller, &counsellor, &command, before.offering())
            .await?;
        let booking = self.shown(&history, &id).await?;
        Ok(Response::new(proto::RescheduleBookingResponse {
            booking: Some(booking),
            notices: confirmation_notices().into_iter().map(i32::from).collect(),
        }))
    }

    async fn declare_attendant(
        &self,
        request: Request<proto::DeclareAttendantRequest>,
    ) -> Result<Response<proto::DeclareAttendantResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::JobSeeker, Role::Counsellor])?;
        let (request_id, id, kind) = parse::attendant(request.get_ref())?;
        let id = id.to_string();
        let attendant_id =
            Uuid::new_v5(&request_id, format!("attendant:{id}").as_bytes()).to_string();
        let booking = self
            .on_booking(
                caller,
                &id,
                |b| require_booking_access(caller, b, true, true, &[]),
                |_| {
                    ScheduleCommand::DeclareAttendant(DeclareAttendant {
                        booking_id: id.clone(),
                        attendant_id: attendant_id.clone(),
                        kind,
                        at: Utc::now(),
                    })
                },
            )
            .await?;
        let attendant = booking
            .attendants
            .iter()
            .find(|a| a.attendant_id == attendant_id)
            .cloned();
        Ok(Response::new(proto::DeclareAttendantResponse {
            booking: Some(booking),
            attendant,
        }))
    }

    async fn complete_pre_session_checklist(
        &self,
        request: Request<proto::CompletePreSessionChecklistRequest>,
    ) -> Result<Response<proto::CompletePreSessionChecklistResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::JobSeeker])?;
        let (id, confirmed) = parse::checklist(request.get_ref())?;
        let id = id.to_string();
        let booking = self
            .on_booking(
                caller,
                &id,
                |b| require_booking_access(caller, b, true, false, &[]),
                |_| {
                    ScheduleCommand::CompleteChecklist(CompleteChecklist {
                        booking_id: id.clone(),
                        confirmed,
                    })
                },
            )
            .await?;
        Ok(Response::new(proto::CompletePreSessionChecklistResponse {
            booking: Some(booking),
        }))
    }

    async fn acknowledge_private_room(
        &self,
        request: Request<proto::AcknowledgePrivateRoomRequest>,
    ) -> Result<Response<proto::AcknowledgePrivateRoomResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::JobSeeker])?;
        let id = parse::booking_id(&request.get_ref().booking_id)?.to_string();
        let booking = self
            .on_booking(
                caller,
                &id,
                |b| require_booking_access(caller, b, true, false, &[]),
                |_| ScheduleCommand::AcknowledgePrivateRoom {
                    booking_id: id.clone(),
                },
            )
            .await?;
        Ok(Response::new(proto::AcknowledgePrivateRoomResponse {
            booking: Some(booking),
        }))
    }

    async fn acknowledge_no_recording(
        &self,
        request: Request<proto::AcknowledgeNoRecordingRequest>,
    ) -> Result<Response<proto::AcknowledgeNoRecordingResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::JobSeeker])?;
        let id = parse::booking_id(&request.get_ref().booking_id)?.to_string();
        let booking = self
            .on_booking(
                caller,
                &id,
                |b| require_booking_access(caller, b, true, false, &[]),
                |_| ScheduleCommand::AcknowledgeNoRecording {
                    booking_id: id.clone(),
                },
            )
            .await?;
        Ok(Response::new(proto::AcknowledgeNoRecordingResponse {
            booking: Some(booking),
        }))
    }

    async fn join_session(
        &self,
        request: Request<proto::JoinSessionRequest>,
    ) -> Result<Response<proto::JoinSessionResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::JobSeeker])?;
        let (id, presence) = parse::presence(
            &request.get_ref().booking_id,
            request.get_ref().device.as_ref(),
            request.get_ref().sealed_device.as_ref(),
        )?;
        let id = id.to_string();
        let device = self.sealer.sealed(&id, presence).await?;
        let (counsellor, before) = self.known_booking(&id).await?;
        require_booking_access(caller, &before, true, false, &[])?;
        let person = self.person(&before.job_seeker_id).await?;
        let command = ScheduleCommand::Join(Join {
            booking_id: id.clone(),
            device,
            refused: person.state.is_refused(),
        });
        let history = self
            .on_schedule(caller, &counsellor, &command, before.offering())
            .await?;
        let booking = self.shown(&history, &id).await?;
        Ok(Response::new(proto::JoinSessionResponse {
            booking: Some(booking),
        }))
    }

    async fn leave_session(
        &self,
        request: Request<proto::LeaveSessionRequest>,
    ) -> Result<Response<proto::LeaveSessionResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::JobSeeker])?;
        let (id, presence) = parse::presence(
            &request.get_ref().booking_id,
            request.get_ref().device.as_ref(),
            request.get_ref().sealed_device.as_ref(),
        )?;
        let id = id.to_string();
        let device = self.sealer.sealed(&id, presence).await?;
        let booking = self
            .on_booking(
                caller,
                &id,
                |b| require_booking_access(caller, b, true, false, &[]),
                |_| {
                    ScheduleCommand::Leave(Leave {
                        booking_id: id.clone(),
                        device,
                    })
                },
            )
            .await?;
        Ok(Response::new(proto::LeaveSessionResponse {
            booking: Some(booking),
        }))
    }

    async fn stop_session(
        &self,
        request: Request<proto::StopSessionRequest>,
    ) -> Result<Response<proto::StopSessionResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Counsellor, Role::Supervisor])?;
        let (id, reason) = parse::stop(request.get_ref())?;
        let id = id.to_string();
        let note = request.get_ref().note.trim().to_owned();
        let booking = self
            .on_booking(
                caller,
                &id,
                |b| require_booking_access(caller, b, false, true, &[Role::Supervisor]),
                |_| {
                    ScheduleCommand::Stop(Stop {
                        booking_id: id.clone(),
                        reason,
                        note,
                    })
                },
            )
            .await?;
        Ok(Response::new(proto::StopSessionResponse {
            booking: Some(booking),
        }))
    }

    async fn refuse_online_services(
        &self,
        request: Request<proto::RefuseOnlineServicesRequest>,
    ) -> Result<Response<proto::RefuseOnlineServicesResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Supervisor])?;
        let parsed = parse::refusal(request.get_ref())?;
        let job_seeker_id = parsed.job_seeker_id.to_string();
        let refusal_id = Uuid::new_v5(
            &parsed.job_seeker_id,
            format!("refusal:{}", parsed.request_id).as_bytes(),
        )
        .to_string();
        let command = PersonCommand::Refuse(Refuse {
            refusal_id: refusal_id.clone(),
            job_seeker_id: job_seeker_id.clone(),
            reason: parsed.reason,
            note: request.get_ref().note.trim().to_owned(),
            booking_id: parsed.booking_id.map(|b| b.to_string()).unwrap_or_default(),
        });
        let person = self.on_person(caller, &job_seeker_id, &command).await?;
        projections::insert_refusal(&self.pool, &refusal_id, &job_seeker_id)
            .await
            .map_err(database)?;
        // Art. 12(1): every open booking of the person is cancelled. Each
        // cancellation is idempotent, so repeating the request (or a crash
        // half-way and a retry) completes the set without duplicates.
        let rows = projections::bookings_of_person(&self.pool, &job_seeker_id, &[], None, i64::MAX)
            .await
            .map_err(database)?;
        let counsellors: BTreeSet<String> = rows
            .iter()
            .map(|(row, _)| row.counsellor_id.clone())
            .collect();
        let mut cancelled = Vec::new();
        for counsellor in counsellors {
            let history = self.schedule(&counsellor).await?;
            for (row, _) in rows
                .iter()
                .filter(|(row, _)| row.counsellor_id == counsellor)
            {
                let Some(booking) = history.state.booking(&row.booking_id) else {
                    continue;
                };
                let open = booking.state == proto::BookingState::Confirmed;
                let by_refusal =
                    booking.cancellation_reason == Some(CancellationReason::OnlineServicesRefused);
                if open {
                    let command = ScheduleCommand::Cancel(Cancel {
                        booking_id: row.booking_id.clone(),
                        reason: CancellationReason::OnlineServicesRefused,
                        refusal_id: refusal_id.clone(),
                        at: Utc::now(),
                    });
                    let offering = history
                        .state
                        .slot(&booking.slot_id)
                        .map_or(Offering::Unspecified, |slot| slot.offering);
                    self.on_schedule(caller, &counsellor, &command, offering)
                        .await?;
                }
                if open || by_refusal {
                    cancelled.push(row.booking_id.clone());
                }
            }
        }
        // The cancellations are on the schedules: the person is as refused.
        let refusal = self.shown_refusal(&person, &refusal_id).await?;
        Ok(Response::new(proto::RefuseOnlineServicesResponse {
            refusal: Some(refusal),
            cancelled_booking_ids: cancelled,
        }))
    }

    async fn lift_refusal(
        &self,
        request: Request<proto::LiftRefusalRequest>,
    ) -> Result<Response<proto::LiftRefusalResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Supervisor])?;
        let id = parse::lift(request.get_ref())?.to_string();
        let job_seeker_id = projections::refusal_person(&self.pool, &id)
            .await
            .map_err(database)?
            .ok_or_else(|| missing("refusal", &id))?;
        let command = PersonCommand::Lift {
            refusal_id: id.clone(),
            note: request.get_ref().note.trim().to_owned(),
        };
        let person = self.on_person(caller, &job_seeker_id, &command).await?;
        let refusal = self.shown_refusal(&person, &id).await?;
        Ok(Response::new(proto::LiftRefusalResponse {
            refusal: Some(refusal),
        }))
    }

    async fn list_bookings(
        &self,
        request: Request<proto::ListBookingsRequest>,
    ) -> Result<Response<proto::ListBookingsResponse>, Status> {
        let caller = caller(&request)?;
        require_self_or(
            caller,
            &request.get_ref().job_seeker_id,
            &[Role::Counsellor, Role::Supervisor],
        )?;
        let query = parse::bookings(request.get_ref())?;
        if caller.has_role(Role::Counsellor) && !caller.has_role(Role::Supervisor) {
            let booked = projections::booked_with(
                &self.pool,
                &query.job_seeker_id.to_string(),
                caller.subject(),
            )
            .await
            .map_err(database)?;
            domain::require_served(booked).map_err(ServiceError::from)?;
        }
        let rows = projections::bookings_of_person(
            &self.pool,
            &query.job_seeker_id.to_string(),
            &query.states,
            query.after,
            query.page_size + 1,
        )
        .await
        .map_err(database)?;
        let size = usize::try_from(query.page_size).unwrap_or_default();
        let more = rows.len() > size;
        let page: Vec<_> = rows.into_iter().take(size).collect();
        let next_page_token = match (more, page.last()) {
            (true, Some((row, start))) => parse::next_page_token(*start, &row.booking_id),
            _ => String::new(),
        };
        let mut schedules = std::collections::HashMap::new();
        let mut bookings = Vec::new();
        for (row, _) in &page {
            if !schedules.contains_key(&row.counsellor_id) {
                let history = self.schedule(&row.counsellor_id).await?;
                schedules.insert(row.counsellor_id.clone(), history);
            }
            let history = &schedules[&row.counsellor_id];
            if history.state.booking(&row.booking_id).is_some() {
                bookings.push(self.shown(history, &row.booking_id).await?);
            }
        }
        Ok(Response::new(proto::ListBookingsResponse {
            bookings,
            next_page_token,
        }))
    }

    async fn get_counsellor_day(
        &self,
        request: Request<proto::GetCounsellorDayRequest>,
    ) -> Result<Response<proto::GetCounsellorDayResponse>, Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::Counsellor, Role::Supervisor])?;
        let (counsellor, date) = parse::counsellor_day(request.get_ref())?;
        require_owner_or(caller, Role::Counsellor, &counsellor, &[Role::Supervisor])?;
        // The schedule itself is current; the day's bounds in Asia/Tokyo.
        let history = self.schedule(&counsellor).await?;
        let (from, to) = domain::tokyo_day_bounds(date);
        let mut slots: Vec<_> = history
            .state
            .slots()
            .filter(|s| s.start >= from && s.start < to)
            .collect();
        slots.sort_by(|a, b| (a.start, &a.slot_id).cmp(&(b.start, &b.slot_id)));
        let mut day = Vec::with_capacity(slots.len());
        for slot in slots {
            let mut bookings = Vec::new();
            for booking in history
                .state
                .bookings_of(&slot.slot_id)
                .filter(|b| b.is_active())
            {
                bookings.push(self.shown(&history, &booking.booking_id).await?);
            }
            day.push(proto::CounsellorDaySlot {
                slot: Some(view::slot(&history.state, slot)),
                bookings,
            });
        }
        Ok(Response::new(proto::GetCounsellorDayResponse {
            counsellor_id: counsellor,
            date: request.get_ref().date,
            slots: day,
        }))
    }
}
