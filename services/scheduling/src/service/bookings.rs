//! Art. 2, 3, 12: a booking's life: taking a seat (eligibility asked of
//! the peers), rescheduling and cancelling it, what the person declares and
//! confirms before the session, joining and leaving it, stopping it, and
//! the listings.

use chrono::{DateTime, Utc};
use hellowork_platform::{Article, ArticleViolation, Role, ServiceError};
use hellowork_proto::registration::v1::EligibilityReason;
use uuid::Uuid;

use super::{
    BookingRequest, BookingView, BookingsQuery, Context, Page, Scheduling, access::Parties,
    booking_stream, database, missing,
};
use crate::{
    domain::{
        AttendantId, AttendantKind, Book, BookingCommand, BookingId, BookingRecord, Cancel,
        CancellationReason, ChecklistItem, CompleteChecklist, ConductReason, DeclareAttendant,
        DomainError, JobSeekerId, Join, Leave, Reschedule, SlotId, Stop, placement,
    },
    metrics, projections,
    sealing::Presence,
};

impl Scheduling {
    /// A booking as this process knows it: read from the store only when
    /// this process has not seen it booked yet. Whose it is, its counsellor
    /// and its offering never change once booked; a command itself is
    /// decided on the store's state.
    async fn known_record(&self, booking_id: BookingId) -> Result<BookingRecord, ServiceError> {
        let history = self
            .bookings
            .known(&booking_stream(booking_id)?, |history| {
                history.state.record().is_some()
            })
            .await?;
        history
            .state
            .record()
            .cloned()
            .ok_or_else(|| missing("booking", booking_id))
    }

    /// Runs `command` on its booking's stream if `parties` include the
    /// caller, and returns the booking as it is afterwards.
    async fn on_booking(
        &self,
        cx: Context<'_>,
        parties: Parties<'_>,
        command: BookingCommand,
    ) -> Result<BookingView, ServiceError> {
        let booking_id = command.booking_id();
        let record = self.known_record(booking_id).await?;
        parties.require(cx.caller, record.job_seeker_id, &record.counsellor_id)?;
        let booking = self
            .on_booking_stream(cx.metadata, &command, record.offering)
            .await?;
        self.shown(booking, booking_id).await
    }

    /// Art. 2, 12(1): every unmet condition of eligibility for a session at
    /// `at`: the person's refusal (their own stream) and what registration
    /// and consent answer. UNAVAILABLE, with nothing written, when a peer
    /// cannot be asked.
    async fn unmet_conditions(
        &self,
        job_seeker_id: JobSeekerId,
        at: DateTime<Utc>,
    ) -> Result<Vec<ArticleViolation>, ServiceError> {
        let person_id = job_seeker_id.to_string();
        let (person, mut unmet) = tokio::try_join!(
            self.person(job_seeker_id),
            self.eligibility.unmet(&person_id, at)
        )?;
        let refused = EligibilityReason::Refused.as_str_name();
        // Art. 12(1): scheduling is the authority on its own refusals.
        unmet.retain(|v| v.subject != refused);
        if person.state.is_refused() {
            unmet.push(ArticleViolation {
                article: Article::Art12_1,
                subject: refused.to_owned(),
                description: DomainError::Refused.to_string(),
            });
        }
        Ok(unmet)
    }

    /// Art. 2, 3: takes a seat for an eligible person, free of charge. The
    /// same request repeated returns the booking it made the first time.
    pub async fn book(
        &self,
        cx: Context<'_>,
        request: BookingRequest,
    ) -> Result<BookingView, ServiceError> {
        let BookingRequest {
            job_seeker_id,
            slot_id,
            ..
        } = request;
        let booking_id = BookingId::from_uuid(Uuid::new_v5(
            &job_seeker_id.uuid(),
            format!("booking:{}", request.request_id).as_bytes(),
        ));
        let slot = projections::slot_placement(&self.pool, slot_id)
            .await
            .map_err(database)?
            .ok_or_else(|| missing("slot", slot_id))?;
        // The booking and the peers are asked at once; the peers' answer
        // only matters for a new booking.
        let stream = booking_stream(booking_id)?;
        let (known, unmet) = tokio::join!(
            self.bookings
                .known(&stream, |history| history.state.record().is_some()),
            self.unmet_conditions(job_seeker_id, slot.start_time)
        );
        if known?.state.record().is_some() {
            let booking = self.booking_now(booking_id).await?;
            return self.shown(booking, booking_id).await;
        }
        let unmet = unmet?;
        if !unmet.is_empty() {
            metrics::record_refusal(slot.offering, &unmet);
            return Err(ServiceError::Forbidden(unmet));
        }
        let command = Book {
            booking_id,
            slot_id,
            job_seeker_id,
            attendants: request
                .attendants
                .iter()
                .enumerate()
                .map(|(i, kind)| {
                    let id = Uuid::new_v5(
                        &request.request_id,
                        format!("attendant:{booking_id}:{i}").as_bytes(),
                    );
                    (AttendantId::from_uuid(id), *kind)
                })
                .collect(),
            at: Utc::now(),
            attendant_cutoff: self.settings.attendant_cutoff,
        };
        let booking = self
            .on_seat(
                cx.metadata,
                &slot.counsellor_id,
                booking_id,
                slot.offering,
                |schedule, booking| placement::book(schedule, booking, &command),
            )
            .await?;
        self.shown(booking, booking_id).await
    }

    /// A booking, to its person, its counsellor and supervisors.
    pub async fn booking(
        &self,
        cx: Context<'_>,
        booking_id: BookingId,
    ) -> Result<BookingView, ServiceError> {
        let booking = self.booking_now(booking_id).await?;
        let record = booking
            .state
            .record()
            .ok_or_else(|| missing("booking", booking_id))?;
        Parties::ALL.require(cx.caller, record.job_seeker_id, &record.counsellor_id)?;
        self.shown(booking, booking_id).await
    }

    /// Art. 12: cancels an open booking before its session starts, freeing
    /// its seat.
    pub async fn cancel(
        &self,
        cx: Context<'_>,
        booking_id: BookingId,
        reason: CancellationReason,
    ) -> Result<BookingView, ServiceError> {
        let record = self.known_record(booking_id).await?;
        Parties::ALL.require(cx.caller, record.job_seeker_id, &record.counsellor_id)?;
        let command = Cancel {
            booking_id,
            reason,
            refusal_id: None,
            at: Utc::now(),
        };
        let booking = self
            .on_seat(
                cx.metadata,
                &record.counsellor_id,
                booking_id,
                record.offering,
                |_, booking| placement::cancel(booking, &command),
            )
            .await?;
        self.shown(booking, booking_id).await
    }

    /// Moves an open booking to another slot of the same counsellor, asking
    /// eligibility again for the new slot's time.
    pub async fn reschedule(
        &self,
        cx: Context<'_>,
        booking_id: BookingId,
        new_slot_id: SlotId,
    ) -> Result<BookingView, ServiceError> {
        let booking = self.booking_now(booking_id).await?;
        let record = booking
            .state
            .record()
            .ok_or_else(|| missing("booking", booking_id))?
            .clone();
        Parties::ALL.require(cx.caller, record.job_seeker_id, &record.counsellor_id)?;
        let target = projections::slot_placement(&self.pool, new_slot_id)
            .await
            .map_err(database)?
            .ok_or_else(|| missing("slot", new_slot_id))?;
        // One schedule holds both seats only for the same counsellor:
        // moving to another counsellor is a cancellation and a new booking.
        if target.counsellor_id != record.counsellor_id {
            return Err(ServiceError::FailedPrecondition(
                "the new slot is another counsellor's: cancel and book it instead".to_owned(),
            ));
        }
        if record.slot_id != new_slot_id {
            let unmet = self
                .unmet_conditions(record.job_seeker_id, target.start_time)
                .await?;
            if !unmet.is_empty() {
                metrics::record_refusal(record.offering, &unmet);
                return Err(ServiceError::Forbidden(unmet));
            }
        }
        let command = Reschedule {
            booking_id,
            new_slot_id,
            at: Utc::now(),
            attendant_cutoff: self.settings.attendant_cutoff,
        };
        let booking = self
            .on_seat(
                cx.metadata,
                &record.counsellor_id,
                booking_id,
                record.offering,
                |schedule, booking| placement::reschedule(schedule, booking, &command),
            )
            .await?;
        self.shown(booking, booking_id).await
    }

    /// Art. 12(2): declares who attends beside the person; the same request
    /// declares the same attendant. Returns the booking and the attendant's
    /// id.
    pub async fn declare_attendant(
        &self,
        cx: Context<'_>,
        request_id: Uuid,
        booking_id: BookingId,
        kind: AttendantKind,
    ) -> Result<(BookingView, AttendantId), ServiceError> {
        let attendant_id = AttendantId::from_uuid(Uuid::new_v5(
            &request_id,
            format!("attendant:{booking_id}").as_bytes(),
        ));
        let command = BookingCommand::DeclareAttendant(DeclareAttendant {
            booking_id,
            attendant_id,
            kind,
            at: Utc::now(),
        });
        let shown = self.on_booking(cx, Parties::BOTH, command).await?;
        Ok((shown, attendant_id))
    }

    /// Art. 12(4), 5(5): the person confirms the pre-session checklist.
    pub async fn complete_checklist(
        &self,
        cx: Context<'_>,
        booking_id: BookingId,
        confirmed: Vec<ChecklistItem>,
    ) -> Result<BookingView, ServiceError> {
        let command = BookingCommand::CompleteChecklist(CompleteChecklist {
            booking_id,
            confirmed,
        });
        self.on_booking(cx, Parties::PERSON, command).await
    }

    /// Art. 12(3): the person acknowledges taking part from a private room.
    pub async fn acknowledge_private_room(
        &self,
        cx: Context<'_>,
        booking_id: BookingId,
    ) -> Result<BookingView, ServiceError> {
        let command = BookingCommand::AcknowledgePrivateRoom { booking_id };
        self.on_booking(cx, Parties::PERSON, command).await
    }

    /// Art. 12(4): the person acknowledges that recording is prohibited.
    pub async fn acknowledge_no_recording(
        &self,
        cx: Context<'_>,
        booking_id: BookingId,
    ) -> Result<BookingView, ServiceError> {
        let command = BookingCommand::AcknowledgeNoRecording { booking_id };
        self.on_booking(cx, Parties::PERSON, command).await
    }

    /// Art. 7(1), 7(2), 12(1): the person joins from a device, sealed to the
    /// audit-log where it enters; refused persons cannot join.
    pub async fn join(
        &self,
        cx: Context<'_>,
        booking_id: BookingId,
        presence: Presence,
    ) -> Result<BookingView, ServiceError> {
        let device = self.sealer.sealed(booking_id, presence).await?;
        let record = self.known_record(booking_id).await?;
        Parties::PERSON.require(cx.caller, record.job_seeker_id, &record.counsellor_id)?;
        let person = self.person(record.job_seeker_id).await?;
        let command = BookingCommand::Join(Join {
            booking_id,
            device,
            refused: person.state.is_refused(),
        });
        let booking = self
            .on_booking_stream(cx.metadata, &command, record.offering)
            .await?;
        self.shown(booking, booking_id).await
    }

    /// Art. 7(1), 7(2): the person leaves, from the device they report.
    pub async fn leave(
        &self,
        cx: Context<'_>,
        booking_id: BookingId,
        presence: Presence,
    ) -> Result<BookingView, ServiceError> {
        let device = self.sealer.sealed(booking_id, presence).await?;
        let command = BookingCommand::Leave(Leave { booking_id, device });
        self.on_booking(cx, Parties::PERSON, command).await
    }

    /// Art. 12(1): the counsellor or a supervisor stops a session for the
    /// person's conduct; the note is sealed with the person's key (Art. 8).
    pub async fn stop(
        &self,
        cx: Context<'_>,
        booking_id: BookingId,
        reason: ConductReason,
        note: String,
    ) -> Result<BookingView, ServiceError> {
        let command = BookingCommand::Stop(Stop {
            booking_id,
            reason,
            note,
        });
        self.on_booking(cx, Parties::CONDUCT, command).await
    }

    /// Art. 8: a person's bookings, to them, to supervisors, and to a
    /// counsellor only once the person has booked with them. The page's
    /// bookings are read from their streams (current).
    pub async fn bookings(
        &self,
        cx: Context<'_>,
        query: BookingsQuery,
    ) -> Result<Page<(BookingView, DateTime<Utc>)>, ServiceError> {
        let job_seeker_id = query.job_seeker_id;
        if cx.caller.has_role(Role::Counsellor) && !cx.caller.has_role(Role::Supervisor) {
            let booked = projections::booked_with(&self.pool, job_seeker_id, cx.caller.subject())
                .await
                .map_err(database)?;
            crate::domain::require_served(booked).map_err(ServiceError::from)?;
        }
        let mut rows = projections::bookings_of_person(
            &self.pool,
            job_seeker_id,
            &query.states,
            query.after,
            query.page_size + 1,
        )
        .await
        .map_err(database)?;
        let size = usize::try_from(query.page_size).unwrap_or_default();
        let more = rows.len() > size;
        rows.truncate(size);
        let mut items = Vec::with_capacity(rows.len());
        for (booking_id, start) in rows {
            let booking = self.booking_now(booking_id).await?;
            if booking.state.record().is_some() {
                items.push((self.shown(booking, booking_id).await?, start));
            }
        }
        Ok(Page { items, more })
    }
}
