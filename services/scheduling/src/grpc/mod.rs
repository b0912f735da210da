//! The thin tonic adapter of `hellowork.scheduling.v1.SchedulingService`:
//! which roles may call each RPC, the request parsed into domain values
//! ([`parse`]), one call of the [`Scheduling`] service, and its answer
//! converted ([`view`]); errors mapped once through `ServiceError`. No rule
//! of the terms lives here.

pub mod parse;
mod view;

use hellowork_eventstore::EventMetadata;
use hellowork_platform::{
    Caller, Role, caller, correlation_id, event_metadata, require_any, require_self_or,
};
use hellowork_proto::scheduling::v1::{
    self as proto, scheduling_service_server::SchedulingService,
};
use tonic::{Request, Response, Status};

use crate::{
    domain::confirmation_notices,
    service::{Context, Scheduling},
};

/// The gRPC service.
#[derive(Debug, Clone)]
pub struct SchedulingApi {
    service: Scheduling,
}

impl SchedulingApi {
    pub fn new(service: Scheduling) -> Self {
        Self { service }
    }
}

/// The caller, once one of `roles`, and the metadata of the events their
/// request causes (their correlation id, if they sent one).
fn admitted<'a, T>(
    request: &'a Request<T>,
    roles: &[Role],
) -> Result<(&'a Caller, EventMetadata), Status> {
    let caller = caller(request)?;
    require_any(caller, roles)?;
    Ok((caller, event_metadata(caller, correlation_id(request))))
}

/// Persons and the staff who serve them.
const ANYONE: [Role; 3] = [Role::JobSeeker, Role::Counsellor, Role::Supervisor];
const STAFF: [Role; 2] = [Role::Counsellor, Role::Supervisor];

#[tonic::async_trait]
impl SchedulingService for SchedulingApi {
    async fn publish_availability(
        &self,
        request: Request<proto::PublishAvailabilityRequest>,
    ) -> Result<Response<proto::PublishAvailabilityResponse>, Status> {
        let (caller, metadata) = admitted(&request, &STAFF)?;
        let publication = parse::publication(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let published = self.service.publish(cx, publication).await?;
        let schedule = &published.schedule.state;
        let slots = published
            .slot_ids
            .iter()
            .filter_map(|id| schedule.slot(*id))
            .map(|slot| view::slot(schedule, slot))
            .collect();
        Ok(Response::new(proto::PublishAvailabilityResponse { slots }))
    }

    async fn list_free_slots(
        &self,
        request: Request<proto::ListFreeSlotsRequest>,
    ) -> Result<Response<proto::ListFreeSlotsResponse>, Status> {
        admitted(&request, &ANYONE)?;
        let query = parse::free_slots(request.get_ref())?;
        let page = self.service.free_slots(query).await?;
        let next_page_token = match (page.more, page.items.last()) {
            (true, Some(last)) => parse::next_page_token(last.start_time, &last.slot_id),
            _ => String::new(),
        };
        Ok(Response::new(proto::ListFreeSlotsResponse {
            slots: page.items.into_iter().map(view::listed_slot).collect(),
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
        let metadata = event_metadata(caller, correlation_id(&request));
        let booking = parse::booking(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.book(cx, booking).await?;
        Ok(Response::new(proto::BookSessionResponse {
            booking: Some(view::booking(shown)?),
            notices: confirmation_notices().into_iter().map(i32::from).collect(),
        }))
    }

    async fn get_booking(
        &self,
        request: Request<proto::GetBookingRequest>,
    ) -> Result<Response<proto::GetBookingResponse>, Status> {
        let (caller, metadata) = admitted(&request, &ANYONE)?;
        let id = parse::booking_id(&request.get_ref().booking_id)?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.booking(cx, id).await?;
        Ok(Response::new(proto::GetBookingResponse {
            booking: Some(view::booking(shown)?),
        }))
    }

    async fn cancel_booking(
        &self,
        request: Request<proto::CancelBookingRequest>,
    ) -> Result<Response<proto::CancelBookingResponse>, Status> {
        let (caller, metadata) = admitted(&request, &ANYONE)?;
        let (id, reason) = parse::cancellation(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.cancel(cx, id, reason).await?;
        Ok(Response::new(proto::CancelBookingResponse {
            booking: Some(view::booking(shown)?),
        }))
    }

    async fn reschedule_booking(
        &self,
        request: Request<proto::RescheduleBookingRequest>,
    ) -> Result<Response<proto::RescheduleBookingResponse>, Status> {
        let (caller, metadata) = admitted(&request, &ANYONE)?;
        let (id, new_slot) = parse::rescheduling(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.reschedule(cx, id, new_slot).await?;
        Ok(Response::new(proto::RescheduleBookingResponse {
            booking: Some(view::booking(shown)?),
            notices: confirmation_notices().into_iter().map(i32::from).collect(),
        }))
    }

    async fn declare_attendant(
        &self,
        request: Request<proto::DeclareAttendantRequest>,
    ) -> Result<Response<proto::DeclareAttendantResponse>, Status> {
        let (caller, metadata) = admitted(&request, &[Role::JobSeeker, Role::Counsellor])?;
        let (request_id, id, kind) = parse::attendant(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let (shown, attendant_id) = self
            .service
            .declare_attendant(cx, request_id, id, kind)
            .await?;
        let booking = view::booking(shown)?;
        let attendant = booking
            .attendants
            .iter()
            .find(|a| a.attendant_id == attendant_id.to_string())
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
        let (caller, metadata) = admitted(&request, &[Role::JobSeeker])?;
        let (id, confirmed) = parse::checklist(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.complete_checklist(cx, id, confirmed).await?;
        Ok(Response::new(proto::CompletePreSessionChecklistResponse {
            booking: Some(view::booking(shown)?),
        }))
    }

    async fn acknowledge_private_room(
        &self,
        request: Request<proto::AcknowledgePrivateRoomRequest>,
    ) -> Result<Response<proto::AcknowledgePrivateRoomResponse>, Status> {
        let (caller, metadata) = admitted(&request, &[Role::JobSeeker])?;
        let id = parse::booking_id(&request.get_ref().booking_id)?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.acknowledge_private_room(cx, id).await?;
        Ok(Response::new(proto::AcknowledgePrivateRoomResponse {
            booking: Some(view::booking(shown)?),
        }))
    }

    async fn acknowledge_no_recording(
        &self,
        request: Request<proto::AcknowledgeNoRecordingRequest>,
    ) -> Result<Response<proto::AcknowledgeNoRecordingResponse>, Status> {
        let (caller, metadata) = admitted(&request, &[Role::JobSeeker])?;
        let id = parse::booking_id(&request.get_ref().booking_id)?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.acknowledge_no_recording(cx, id).await?;
        Ok(Response::new(proto::AcknowledgeNoRecordingResponse {
            booking: Some(view::booking(shown)?),
        }))
    }

    async fn join_session(
        &self,
        request: Request<proto::JoinSessionRequest>,
    ) -> Result<Response<proto::JoinSessionResponse>, Status> {
        let (caller, metadata) = admitted(&request, &[Role::JobSeeker])?;
        let r = request.get_ref();
        let (id, presence) =
            parse::presence(&r.booking_id, r.device.as_ref(), r.sealed_device.as_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.join(cx, id, presence).await?;
        Ok(Response::new(proto::JoinSessionResponse {
            booking: Some(view::booking(shown)?),
        }))
    }

    async fn leave_session(
        &self,
        request: Request<proto::LeaveSessionRequest>,
    ) -> Result<Response<proto::LeaveSessionResponse>, Status> {
        let (caller, metadata) = admitted(&request, &[Role::JobSeeker])?;
        let r = request.get_ref();
        let (id, presence) =
            parse::presence(&r.booking_id, r.device.as_ref(), r.sealed_device.as_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.leave(cx, id, presence).await?;
        Ok(Response::new(proto::LeaveSessionResponse {
            booking: Some(view::booking(shown)?),
        }))
    }

    async fn stop_session(
        &self,
        request: Request<proto::StopSessionRequest>,
    ) -> Result<Response<proto::StopSessionResponse>, Status> {
        let (caller, metadata) = admitted(&request, &STAFF)?;
        let (id, reason) = parse::stop(request.get_ref())?;
        let note = request.get_ref().note.trim().to_owned();
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.stop(cx, id, reason, note).await?;
        Ok(Response::new(proto::StopSessionResponse {
            booking: Some(view::booking(shown)?),
        }))
    }

    async fn refuse_online_services(
        &self,
        request: Request<proto::RefuseOnlineServicesRequest>,
    ) -> Result<Response<proto::RefuseOnlineServicesResponse>, Status> {
        let (caller, metadata) = admitted(&request, &[Role::Supervisor])?;
        let refusal = parse::refusal(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let (shown, cancelled_booking_ids) = self.service.refuse(cx, refusal).await?;
        Ok(Response::new(proto::RefuseOnlineServicesResponse {
            refusal: Some(view::refusal(shown)?),
            cancelled_booking_ids: cancelled_booking_ids
                .iter()
                .map(ToString::to_string)
                .collect(),
        }))
    }

    async fn lift_refusal(
        &self,
        request: Request<proto::LiftRefusalRequest>,
    ) -> Result<Response<proto::LiftRefusalResponse>, Status> {
        let (caller, metadata) = admitted(&request, &[Role::Supervisor])?;
        let id = parse::lift(request.get_ref())?;
        let note = request.get_ref().note.trim().to_owned();
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let shown = self.service.lift(cx, id, note).await?;
        Ok(Response::new(proto::LiftRefusalResponse {
            refusal: Some(view::refusal(shown)?),
        }))
    }

    async fn list_bookings(
        &self,
        request: Request<proto::ListBookingsRequest>,
    ) -> Result<Response<proto::ListBookingsResponse>, Status> {
        let caller = caller(&request)?;
        require_self_or(caller, &request.get_ref().job_seeker_id, &STAFF)?;
        let metadata = event_metadata(caller, correlation_id(&request));
        let query = parse::bookings(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let page = self.service.bookings(cx, query).await?;
        let next_page_token = match (page.more, page.items.last()) {
            (true, Some((last, start))) => parse::next_page_token(*start, last.booking_id),
            _ => String::new(),
        };
        let bookings = page
            .items
            .into_iter()
            .map(|(shown, _)| view::booking(shown))
            .collect::<Result<_, _>>()?;
        Ok(Response::new(proto::ListBookingsResponse {
            bookings,
            next_page_token,
        }))
    }

    async fn get_counsellor_day(
        &self,
        request: Request<proto::GetCounsellorDayRequest>,
    ) -> Result<Response<proto::GetCounsellorDayResponse>, Status> {
        let (caller, metadata) = admitted(&request, &STAFF)?;
        let (counsellor, date) = parse::counsellor_day(request.get_ref())?;
        let cx = Context {
            caller,
            metadata: &metadata,
        };
        let day = self.service.counsellor_day(cx, &counsellor, date).await?;
        let mut slots = Vec::with_capacity(day.slots.len());
        for entry in day.slots {
            slots.push(proto::CounsellorDaySlot {
                slot: Some(view::slot(&day.schedule.state, &entry.slot)),
                bookings: entry
                    .bookings
                    .into_iter()
                    .map(view::booking)
                    .collect::<Result<_, _>>()?,
            });
        }
        Ok(Response::new(proto::GetCounsellorDayResponse {
            counsellor_id: counsellor.to_string(),
            date: request.get_ref().date,
            slots,
        }))
    }
}
