//! One job seeker's way through the services, as their front system would
//! call on their behalf: register online, view the terms (a page view the
//! audit log records, Art. 7(1)), attest device (Art. 2(3)) and environment
//! (Art. 5), apply (Art. 2(2), 6), book once eligible (Art. 2), prepare
//! (Art. 12(2)-(4)), join and leave with the device's identifiers
//! (Art. 7(1)). The steps are `hellowork_journey`'s, the very calls the
//! end-to-end tests and the e2e benchmark make; the demo adds what the
//! front system does around them (the page view, sealing the join's
//! identifiers, retrying a booking until consent has arrived) and says
//! which person and step a failure belongs to.

use std::time::Duration;

use chrono::Utc;
use hellowork_auth::Role;
use hellowork_proto::{
    auditlog::v1 as audit,
    scheduling::v1 as scheduling,
    sealing::v1::{self as sealing, HpkeSealed},
};
use hellowork_sealing::device::SealingKeys;
use prost::Message;
use tonic::Code;
use tonic_types::StatusExt as _;

use super::{
    Pending,
    clients::Clients,
    eventually, explain,
    people::{Persona, environment},
    terms_of_use::TermsInForce,
    timestamp,
};

/// How long booking may wait for the person's consent to reach
/// registration (events between services).
const ELIGIBILITY_PATIENCE: Duration = Duration::from_secs(60);

/// A registered person who has applied for online services.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub persona: Persona,
    pub job_seeker_id: String,
}

impl Enrolled {
    fn number(&self) -> usize {
        self.persona.index + 1
    }

    fn request<T>(&self, clients: &Clients, message: T) -> Result<tonic::Request<T>, String> {
        clients.request(message, &self.job_seeker_id, Role::JobSeeker)
    }

    fn failed(&self, step: &str, status: tonic::Status) -> String {
        format!("job seeker #{} {step}: {}", self.number(), explain(status))
    }
}

/// The person's device identifiers sealed to the audit-log's current key for
/// `booking_id`, as a front system does before calling scheduling.
async fn sealed_by_the_front(
    clients: &Clients,
    seeker: &Enrolled,
    booking_id: &str,
) -> Result<HpkeSealed, String> {
    let published = clients
        .audit_log
        .clone()
        .get_sealing_keys(seeker.request(clients, audit::GetSealingKeysRequest {})?)
        .await
        .map_err(|s| seeker.failed("fetching the sealing keys", s))?
        .into_inner();
    let keys = SealingKeys::from_proto(&published.keys)
        .ok_or_else(|| "the audit-log published no usable sealing key".to_owned())?;
    let device = &seeker.persona.device;
    let plaintext = sealing::DeviceIdentifiers {
        device_id: device.device_id.clone(),
        ip_address: device.ip_address.clone(),
        user_agent: device.user_agent.clone(),
        os_name: device.os_name.clone(),
        os_version: device.os_version.clone(),
    }
    .encode_to_vec();
    Ok(keys.seal(&plaintext, booking_id.as_bytes()).into())
}

/// Registers, views the terms, attests and applies.
pub async fn enrol(
    clients: &Clients,
    persona: Persona,
    terms: &TermsInForce,
) -> Result<Enrolled, String> {
    let number = persona.index + 1;
    let journey = &clients.journey;
    let job_seeker_id = journey
        .register(&persona.person)
        .await
        .map_err(|s| format!("job seeker #{number} registering: {}", explain(s)))?;
    let seeker = Enrolled {
        persona,
        job_seeker_id,
    };
    let id = seeker.job_seeker_id.as_str();
    page_view(clients, &seeker, "/online-services/terms").await?;
    let attestation = journey
        .attest_device(id, seeker.persona.model.kind, true)
        .await
        .map_err(|s| seeker.failed("attesting the device", s))?;
    journey
        .attest_environment(
            id,
            &attestation.device_attestation_id,
            environment(&seeker.persona.model),
        )
        .await
        .map_err(|s| seeker.failed("attesting the environment", s))?;
    journey
        .apply(id, &terms.terms, &terms.meeting_app)
        .await
        .map_err(|s| seeker.failed("applying", s))?;
    Ok(seeker)
}

/// A page view reported by the web front system (Art. 7(1): site access
/// history with the device's identifiers).
async fn page_view(clients: &Clients, seeker: &Enrolled, path: &str) -> Result<(), String> {
    let device = &seeker.persona.device;
    let record = audit::UsageRecord {
        record_id: uuid::Uuid::new_v4().to_string(),
        job_seeker_id: seeker.job_seeker_id.clone(),
        occurred_at: Some(timestamp(Utc::now())),
        usage_window: None,
        access_kind: audit::AccessKind::PageView.into(),
        action: path.to_owned(),
        method: "GET".into(),
        outcome: audit::AccessOutcome::Success.into(),
        offering: scheduling::Offering::Unspecified.into(),
        booking_id: String::new(),
        device: Some(audit::DeviceIdentifiers {
            device_id: device.device_id.clone(),
            ip_address: device.ip_address.clone(),
            user_agent: device.user_agent.clone(),
            os_name: device.os_name.clone(),
            os_version: device.os_version.clone(),
        }),
        source: "web".into(),
        sealed_device: None,
    };
    let request = clients.request(
        audit::RecordUsageRequest {
            record: Some(record),
        },
        "system:front",
        Role::System,
    )?;
    clients
        .front_audit_log
        .clone()
        .record_usage(request)
        .await
        .map_err(|s| seeker.failed("viewing the terms page", s))?;
    Ok(())
}

/// Books `slot_id` once the person is eligible: scheduling asks
/// registration and consent, which hear of the application and the deemed
/// consent moments after it is made, so early refusals are retried.
pub async fn book(
    clients: &Clients,
    seeker: &Enrolled,
    slot_id: &str,
    attendants: &[scheduling::AttendantKind],
) -> Result<scheduling::Booking, String> {
    let what = format!("job seeker #{} booking", seeker.number());
    eventually(&what, ELIGIBILITY_PATIENCE, || async {
        // A refused booking writes nothing, so each attempt is new.
        match clients
            .journey
            .book(&seeker.job_seeker_id, slot_id, attendants)
            .await
        {
            Ok(response) => response
                .booking
                .ok_or_else(|| Pending::Fail("no booking returned".into())),
            Err(status)
                if matches!(status.code(), Code::FailedPrecondition | Code::Unavailable) =>
            {
                Err(Pending::Retry(explain(status)))
            }
            Err(status) => Err(Pending::Fail(explain(status))),
        }
    })
    .await
}

/// Declares a caregiver after booking, before the cut-off (Art. 12(3)).
pub async fn declare_caregiver(
    clients: &Clients,
    seeker: &Enrolled,
    booking_id: &str,
) -> Result<(), String> {
    clients
        .journey
        .declare_attendant(
            &seeker.job_seeker_id,
            booking_id,
            scheduling::AttendantKind::Caregiver,
        )
        .await
        .map_err(|s| seeker.failed("declaring a caregiver", s))?;
    Ok(())
}

/// Tries to join before preparing; the service's refusal, as a person
/// reads it (Art. 12(2)-(4)).
pub async fn join_unprepared(
    clients: &Clients,
    seeker: &Enrolled,
    booking_id: &str,
) -> Result<String, String> {
    match clients
        .journey
        .join(&seeker.job_seeker_id, booking_id, &seeker.persona.device)
        .await
    {
        Ok(_) => Err(format!(
            "job seeker #{} joined without the checklist",
            seeker.number()
        )),
        Err(status) => Ok(unmet(status)),
    }
}

/// The unmet conditions of a refusal, each with its article, as the
/// service lists them (`PreconditionFailure`); else its message.
fn unmet(status: tonic::Status) -> String {
    let conditions: Vec<String> = status
        .get_error_details()
        .precondition_failure()
        .map(|failure| {
            failure
                .violations
                .iter()
                .map(|v| v.description.clone())
                .collect()
        })
        .unwrap_or_default();
    if conditions.is_empty() {
        explain(status)
    } else {
        conditions.join("; ")
    }
}

/// Completes the checklist and acknowledgements, joins and leaves; returns
/// the booking as it ends.
pub async fn attend(
    clients: &Clients,
    seeker: &Enrolled,
    booking_id: &str,
) -> Result<scheduling::Booking, String> {
    let (journey, id) = (&clients.journey, seeker.job_seeker_id.as_str());
    journey
        .complete_checklist(id, booking_id)
        .await
        .map_err(|s| seeker.failed("completing the checklist", s))?;
    journey
        .acknowledge_private_room(id, booking_id)
        .await
        .map_err(|s| seeker.failed("acknowledging a private room", s))?;
    journey
        .acknowledge_no_recording(id, booking_id)
        .await
        .map_err(|s| seeker.failed("acknowledging no recording", s))?;
    // Art. 7(2): the front system seals the join's identifiers to the
    // audit-log itself, so scheduling never sees them; the leave's it sends
    // in clear and scheduling seals them on arrival.
    let sealed = sealed_by_the_front(clients, seeker, booking_id).await?;
    journey
        .join(id, booking_id, sealed)
        .await
        .map_err(|s| seeker.failed("joining", s))?;
    journey
        .leave(id, booking_id, &seeker.persona.device)
        .await
        .map_err(|s| seeker.failed("leaving", s))
}
