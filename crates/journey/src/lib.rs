//! A job seeker's way through the public gRPC APIs, one method a step:
//! register (through a front system), attest device and environment, apply
//! under the terms in force, book a slot, declare who attends, prepare
//! (checklist and acknowledgements), join and leave.
//!
//! The demo, the end-to-end tests and the e2e benchmark all walk people
//! through these calls, so what the demo shows an operator, what the tests
//! check and what the benchmark times are the same requests. Each step is
//! one call (the preparation three, also offered one by one) so the
//! benchmark can time every call and a test can check every answer; each
//! returns the service's `Status` untouched, for the caller to retry,
//! explain or assert on. It depends on the contracts and the roles only,
//! so the production `hellowork` binary may use it: tokens come from the
//! caller's [`Mint`].

mod person;

use std::sync::Arc;

use hellowork_auth::Role;
use hellowork_proto::{
    consent::v1 as consent,
    registration::v1::{
        self as registration, registration_service_client::RegistrationServiceClient,
    },
    scheduling::v1::{self as scheduling, scheduling_service_client::SchedulingServiceClient},
};
use tonic::{
    Status,
    metadata::{Ascii, MetadataValue},
    transport::Channel,
};

pub use person::{Device, Person};

/// Mints the authorization header of a call by `subject` acting as `role`.
pub type Mint = Arc<dyn Fn(&str, Role) -> Result<MetadataValue<Ascii>, Status> + Send + Sync>;

/// Who registers people online on their behalf.
pub const FRONT_SYSTEM: &str = "front-system";

/// The pre-session checklist's items, all confirmed (Art. 12(4)).
const CHECKLIST_ITEMS: std::ops::RangeInclusive<i32> = 1..=6;

/// The clients a journey calls and the tokens each service trusts.
#[derive(Clone)]
pub struct JourneyClient {
    pub registration: RegistrationServiceClient<Channel>,
    pub scheduling: SchedulingServiceClient<Channel>,
    registration_token: Mint,
    scheduling_token: Mint,
}

impl std::fmt::Debug for JourneyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JourneyClient").finish_non_exhaustive()
    }
}

/// Each request's idempotency key: a retried step is a new request.
fn new_request_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl JourneyClient {
    /// `registration_token` and `scheduling_token` mint what each service
    /// trusts (one key for a whole stack, a key per service under test).
    pub fn new(
        registration: RegistrationServiceClient<Channel>,
        scheduling: SchedulingServiceClient<Channel>,
        registration_token: Mint,
        scheduling_token: Mint,
    ) -> Self {
        Self {
            registration,
            scheduling,
            registration_token,
            scheduling_token,
        }
    }

    fn at_registration<T>(&self, message: T, subject: &str) -> Result<tonic::Request<T>, Status> {
        Ok(authorized(
            message,
            (self.registration_token)(subject, Role::JobSeeker)?,
        ))
    }

    fn at_scheduling<T>(&self, message: T, seeker: &str) -> Result<tonic::Request<T>, Status> {
        Ok(authorized(
            message,
            (self.scheduling_token)(seeker, Role::JobSeeker)?,
        ))
    }

    /// Registers `person` online through the front system (Art. 2(2)):
    /// their id.
    pub async fn register(&self, person: &Person) -> Result<String, Status> {
        let request = registration::RegisterJobSeekerRequest {
            request_id: new_request_id(),
            channel: registration::RegistrationChannel::Online.into(),
            name: Some(person.name.clone()),
            date_of_birth: Some(person.date_of_birth),
            contact: Some(registration::Contact {
                email: person.email.clone(),
                phone_number: String::new(),
            }),
            provisional: false,
        };
        self.registration
            .clone()
            .register_job_seeker(self.at_registration(request, FRONT_SYSTEM)?)
            .await?
            .into_inner()
            .job_seeker
            .map(|seeker| seeker.job_seeker_id)
            .ok_or_else(|| Status::internal("registration returned no job seeker"))
    }

    /// The person attests owning a `kind` of device that can prepare the
    /// meeting app, with or without a webcam (Art. 2(3)): the attestation
    /// as recorded.
    pub async fn attest_device(
        &self,
        seeker: &str,
        kind: registration::DeviceKind,
        has_webcam: bool,
    ) -> Result<registration::DeviceAttestation, Status> {
        let request = registration::AttestDeviceRequest {
            request_id: new_request_id(),
            job_seeker_id: seeker.to_owned(),
            device_kind: kind.into(),
            owned: true,
            has_webcam,
            can_prepare_meeting_app: true,
        };
        self.registration
            .clone()
            .attest_device(self.at_registration(request, seeker)?)
            .await?
            .into_inner()
            .device_attestation
            .ok_or_else(|| Status::internal("no device attestation returned"))
    }

    /// The person attests `report` as the environment of the device
    /// attested as `device_attestation_id` (Art. 5, 12(4)).
    pub async fn attest_environment(
        &self,
        seeker: &str,
        device_attestation_id: &str,
        report: registration::EnvironmentReport,
    ) -> Result<registration::EnvironmentAttestation, Status> {
        let request = registration::AttestEnvironmentRequest {
            request_id: new_request_id(),
            job_seeker_id: seeker.to_owned(),
            device_attestation_id: device_attestation_id.to_owned(),
            report: Some(report),
        };
        self.registration
            .clone()
            .attest_environment(self.at_registration(request, seeker)?)
            .await?
            .into_inner()
            .environment_attestation
            .ok_or_else(|| Status::internal("no environment attestation returned"))
    }

    /// The person applies for the online services under `terms` and the
    /// meeting app's `meeting_app` terms, in Japanese (Art. 4, 6).
    pub async fn apply(
        &self,
        seeker: &str,
        terms: &consent::TermsDocument,
        meeting_app: &consent::TermsDocument,
    ) -> Result<registration::ApplyForOnlineServicesResponse, Status> {
        let request = registration::ApplyForOnlineServicesRequest {
            request_id: new_request_id(),
            job_seeker_id: seeker.to_owned(),
            terms_version: terms.version.clone(),
            terms_sha256: terms.sha256.clone(),
            meeting_app_terms_version: meeting_app.version.clone(),
            meeting_app_terms_sha256: meeting_app.sha256.clone(),
            language: "ja".into(),
        };
        Ok(self
            .registration
            .clone()
            .apply_for_online_services(self.at_registration(request, seeker)?)
            .await?
            .into_inner())
    }

    /// The person books `slot_id` declaring `attendants` (Art. 12(3)).
    pub async fn book(
        &self,
        seeker: &str,
        slot_id: &str,
        attendants: &[scheduling::AttendantKind],
    ) -> Result<scheduling::BookSessionResponse, Status> {
        let request = scheduling::BookSessionRequest {
            request_id: new_request_id(),
            slot_id: slot_id.to_owned(),
            job_seeker_id: seeker.to_owned(),
            attendants: attendants.iter().map(|&kind| kind.into()).collect(),
        };
        Ok(self
            .scheduling
            .clone()
            .book_session(self.at_scheduling(request, seeker)?)
            .await?
            .into_inner())
    }

    /// The person declares a `kind` of attendant after booking, before the
    /// cut-off (Art. 12(3)).
    pub async fn declare_attendant(
        &self,
        seeker: &str,
        booking_id: &str,
        kind: scheduling::AttendantKind,
    ) -> Result<scheduling::DeclareAttendantResponse, Status> {
        let request = scheduling::DeclareAttendantRequest {
            request_id: new_request_id(),
            booking_id: booking_id.to_owned(),
            kind: kind.into(),
        };
        Ok(self
            .scheduling
            .clone()
            .declare_attendant(self.at_scheduling(request, seeker)?)
            .await?
            .into_inner())
    }

    /// The person confirms every item of the pre-session checklist
    /// (Art. 12(4)).
    pub async fn complete_checklist(
        &self,
        seeker: &str,
        booking_id: &str,
    ) -> Result<scheduling::CompletePreSessionChecklistResponse, Status> {
        let request = scheduling::CompletePreSessionChecklistRequest {
            booking_id: booking_id.to_owned(),
            confirmed_items: CHECKLIST_ITEMS.collect(),
        };
        Ok(self
            .scheduling
            .clone()
            .complete_pre_session_checklist(self.at_scheduling(request, seeker)?)
            .await?
            .into_inner())
    }

    /// The person acknowledges taking part from a private room (Art. 12(3)).
    pub async fn acknowledge_private_room(
        &self,
        seeker: &str,
        booking_id: &str,
    ) -> Result<scheduling::AcknowledgePrivateRoomResponse, Status> {
        let request = scheduling::AcknowledgePrivateRoomRequest {
            booking_id: booking_id.to_owned(),
        };
        Ok(self
            .scheduling
            .clone()
            .acknowledge_private_room(self.at_scheduling(request, seeker)?)
            .await?
            .into_inner())
    }

    /// The person acknowledges that nothing is recorded (Art. 12(2)).
    pub async fn acknowledge_no_recording(
        &self,
        seeker: &str,
        booking_id: &str,
    ) -> Result<scheduling::AcknowledgeNoRecordingResponse, Status> {
        let request = scheduling::AcknowledgeNoRecordingRequest {
            booking_id: booking_id.to_owned(),
        };
        Ok(self
            .scheduling
            .clone()
            .acknowledge_no_recording(self.at_scheduling(request, seeker)?)
            .await?
            .into_inner())
    }

    /// The checklist and both acknowledgements: the booking as it then
    /// stands, ready to join.
    pub async fn prepare(
        &self,
        seeker: &str,
        booking_id: &str,
    ) -> Result<scheduling::Booking, Status> {
        self.complete_checklist(seeker, booking_id).await?;
        self.acknowledge_private_room(seeker, booking_id).await?;
        self.acknowledge_no_recording(seeker, booking_id)
            .await?
            .booking
            .ok_or_else(|| Status::internal("no booking returned"))
    }

    /// The person joins from `device` (an Art. 7(1) usage record): the
    /// booking as joined.
    pub async fn join(
        &self,
        seeker: &str,
        booking_id: &str,
        device: impl Into<Device>,
    ) -> Result<scheduling::Booking, Status> {
        let (device, sealed_device) = device.into().into_fields();
        let request = scheduling::JoinSessionRequest {
            booking_id: booking_id.to_owned(),
            device,
            sealed_device,
        };
        self.scheduling
            .clone()
            .join_session(self.at_scheduling(request, seeker)?)
            .await?
            .into_inner()
            .booking
            .ok_or_else(|| Status::internal("no booking returned"))
    }

    /// The person leaves from `device` (an Art. 7(1) usage record): the
    /// booking as left.
    pub async fn leave(
        &self,
        seeker: &str,
        booking_id: &str,
        device: impl Into<Device>,
    ) -> Result<scheduling::Booking, Status> {
        let (device, sealed_device) = device.into().into_fields();
        let request = scheduling::LeaveSessionRequest {
            booking_id: booking_id.to_owned(),
            device,
            sealed_device,
        };
        self.scheduling
            .clone()
            .leave_session(self.at_scheduling(request, seeker)?)
            .await?
            .into_inner()
            .booking
            .ok_or_else(|| Status::internal("no booking returned"))
    }
}

fn authorized<T>(message: T, token: MetadataValue<Ascii>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("authorization", token);
    request
}
