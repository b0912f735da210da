//! The full life of four job seekers through the four real services, each
//! its own process against the real PostgreSQL and NATS, over their public
//! gRPC APIs only: registration (Art. 2(2)) → device and environment
//! attestation (Art. 2(3), 5) → application with deemed consent (Art. 4, 6)
//! → booking, one with an interpreter (Art. 2, 3, 12(3)), three of them the
//! same seminar (Art. 1) → checklist and acknowledgements (Art. 12(2)-(4))
//! → join → leave → the device-anonymized access log (Art. 7(1), 7(2)) →
//! k-anonymous statistics → a legal request filed, approved by a second
//! person and used by its named officer only (Art. 7(2) proviso) → an
//! Art. 13(2) revision with a notice to everyone → the hash chain verified.
//!
//! Every step asserts what the services answer, not just that they answer;
//! the refusals along the way (booking before applying, an environment for
//! a device without a webcam, file-sharing software, an incomplete
//! checklist, joining unprepared, the two-person rule, disclosure to the
//! wrong person, a late revision) must cite their article and, counted in
//! the audit log at the end, must have written nothing.
//!
//! The people: Hanako (Windows PC, counselling with an interpreter and the
//! seminar), Taro (iPhone, counselling and the seminar; the legal request
//! concerns him), Misaki (Mac over IPv6, counselling) and Ken (Android, who
//! tries everything too early and joins the seminar last).
//!
//! The services run as their own binaries, which `cargo test --workspace`
//! builds; `cargo test -p hellowork-tests` alone builds only their libraries
//! (build the binaries first with `cargo build --bins -p hellowork-<service>`).

mod common;

use std::{collections::BTreeMap, fmt::Debug, time::Duration};

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Utc};
use common::{AuditLog, Stack, date, eventually, request_id, timestamp};
use hellowork_auth::Role;
use hellowork_proto::{
    auditlog::v1::{self as audit, AccessKind, EntryKind},
    consent::v1 as consent,
    registration::v1 as registration,
    scheduling::v1 as scheduling,
};
use hellowork_testing::{nats_url, passing_environment};
use tonic::{Code, Response, Status};
use tonic_types::StatusExt as _;

/// How long nothing more may arrive before a count is taken as final.
const SETTLE: Duration = Duration::from_millis(750);

/// The version of the office's text in force (revised 2023-12-18).
const FIRST_VERSION: &str = "2023-12-18";

const AUDITOR: &str = "auditor-1";
const LEGAL_OFFICER: &str = "legal-officer-1";
const OTHER_OFFICER: &str = "legal-officer-2";
const APPROVER: &str = "approver-1";
/// The personnel ids of the legal officer and the approver (Art. 7(2):
/// two people, told apart by them whatever subjects their tokens name).
const LEGAL_OFFICER_PERSONNEL_ID: &str = "HW-STAFF-0101";
const APPROVER_PERSONNEL_ID: &str = "HW-STAFF-0202";

/// Asia/Tokyo (UTC+9, no daylight saving time), where the dates of the
/// terms and of the schedule are.
fn tokyo() -> FixedOffset {
    FixedOffset::east_opt(9 * 3600).expect("UTC+9")
}

fn tokyo_today() -> NaiveDate {
    Utc::now().with_timezone(&tokyo()).date_naive()
}

// ---------------------------------------------------------------------------
// The people and their devices.

/// A kind of device as its front system reports it, and what the
/// anonymized views may show of it (Art. 7(2)).
struct Model {
    user_agent: &'static str,
    /// A part of the user agent finer than its family, which must not show.
    version: &'static str,
    os_name: &'static str,
    os_version: &'static str,
    browser_family: &'static str,
    os_family: &'static str,
    class: audit::DeviceClass,
}

const WINDOWS_CHROME: Model = Model {
    user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36",
    version: "120.0.6099.71",
    os_name: "Windows",
    os_version: "10.0.19045",
    browser_family: "Chrome",
    os_family: "Windows",
    class: audit::DeviceClass::Pc,
};

const IPHONE_SAFARI: Model = Model {
    user_agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.5.1 Mobile/15E148 Safari/604.1",
    version: "17.5.1",
    os_name: "iOS",
    os_version: "17.5.1",
    browser_family: "Safari",
    os_family: "iOS",
    class: audit::DeviceClass::Smartphone,
};

const MAC_FIREFOX: Model = Model {
    user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:128.0) Gecko/20100101 \
                 Firefox/128.0",
    version: "rv:128.0",
    os_name: "macOS",
    os_version: "14.6",
    browser_family: "Firefox",
    os_family: "macOS",
    class: audit::DeviceClass::Pc,
};

const ANDROID_CHROME: Model = Model {
    user_agent: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/126.0.6478.122 Mobile Safari/537.36",
    version: "126.0.6478.122",
    os_name: "Android",
    os_version: "14",
    browser_family: "Chrome",
    os_family: "Android",
    class: audit::DeviceClass::Smartphone,
};

/// One job seeker of the run: who they are to the test, the device their
/// front system reports, and their id once registered.
struct Person {
    label: &'static str,
    email: String,
    model: &'static Model,
    device: scheduling::DeviceIdentifiers,
    /// The IP as the views may show it: /24 or /48.
    ip_prefix: &'static str,
    id: String,
}

const HANAKO: usize = 0;
const TARO: usize = 1;
const MISAKI: usize = 2;
const KEN: usize = 3;

/// The four people of run `run`: device ids and e-mail addresses of their
/// own, IPs from the documentation ranges, one of them IPv6.
fn people(run: &str) -> Vec<Person> {
    let table: [(&str, &Model, &str, &str); 4] = [
        ("hanako", &WINDOWS_CHROME, "203.0.113.87", "203.0.113.0/24"),
        ("taro", &IPHONE_SAFARI, "198.51.100.23", "198.51.100.0/24"),
        (
            "misaki",
            &MAC_FIREFOX,
            "2001:db8:4b2:7::a1",
            "2001:db8:4b2::/48",
        ),
        ("ken", &ANDROID_CHROME, "192.0.2.45", "192.0.2.0/24"),
    ];
    table
        .into_iter()
        .map(|(label, model, ip, ip_prefix)| Person {
            label,
            email: format!("{label}.{run}@example.jp"),
            model,
            device: scheduling::DeviceIdentifiers {
                device_id: format!("front-device-{label}-{run}"),
                ip_address: ip.into(),
                user_agent: model.user_agent.into(),
                os_name: model.os_name.into(),
                os_version: model.os_version.into(),
            },
            ip_prefix,
            id: String::new(),
        })
        .collect()
}

impl Person {
    /// Every raw identifier of the device: none may appear in a view.
    fn raw_identifiers(&self) -> [&str; 4] {
        [
            &self.device.device_id,
            &self.device.ip_address,
            &self.device.user_agent,
            self.model.version,
        ]
    }

    /// The device as the audit log takes it from a front system.
    fn audit_device(&self) -> audit::DeviceIdentifiers {
        let d = &self.device;
        audit::DeviceIdentifiers {
            device_id: d.device_id.clone(),
            ip_address: d.ip_address.clone(),
            user_agent: d.user_agent.clone(),
            os_name: d.os_name.clone(),
            os_version: d.os_version.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// Refusals.

/// Asserts that `result` is refused with `code` and a `google.rpc.ErrorInfo`
/// of domain `hellowork`, reason `ART_…` and metadata `article` naming
/// `article` (e.g. `2(1)`); the status, for further checks.
fn refused<T: Debug>(
    what: &str,
    result: Result<Response<T>, Status>,
    code: Code,
    article: &str,
) -> Status {
    let status = match result {
        Ok(response) => panic!(
            "{what}: expected {code:?} citing Art. {article}, got {:?}",
            response.into_inner()
        ),
        Err(status) => status,
    };
    assert_eq!(
        status.code(),
        code,
        "{what}: expected {code:?} citing Art. {article}: {status:?}"
    );
    let details = status.get_error_details();
    let info = details
        .error_info()
        .unwrap_or_else(|| panic!("{what}: expected an ErrorInfo naming Art. {article}"));
    let reason = format!("ART_{}", article.replace('(', "_").replace(')', ""));
    assert_eq!(
        (info.domain.as_str(), info.reason.as_str()),
        ("hellowork", reason.as_str()),
        "{what}: expected ErrorInfo reason {reason}: {info:?}"
    );
    assert_eq!(
        info.metadata.get("article").map(String::as_str),
        Some(article),
        "{what}: expected ErrorInfo metadata article {article}: {info:?}"
    );
    status
}

/// The `subject`s of a refusal's `PreconditionFailure` violations (the
/// unmet conditions' or checklist items' enum names).
fn unmet(status: &Status) -> Vec<String> {
    let details = status.get_error_details();
    let violations = details
        .precondition_failure()
        .map_or(&[][..], |failure| &failure.violations[..]);
    violations.iter().map(|v| v.subject.clone()).collect()
}

/// The articles every unmet condition of a refusal cites, in order (the
/// `ErrorInfo` metadata `articles`).
fn articles(status: &Status) -> String {
    let details = status.get_error_details();
    let info = details.error_info().expect("an ErrorInfo");
    info.metadata.get("articles").cloned().unwrap_or_default()
}

// ---------------------------------------------------------------------------
// 1-3. Registration, attestation, application and deemed consent.

/// One registration as the person reads it (`GetJobSeeker`, self).
async fn job_seeker(stack: &Stack, id: &str) -> registration::JobSeeker {
    let request = registration::GetJobSeekerRequest {
        job_seeker_id: id.to_owned(),
    };
    stack
        .registrations
        .clone()
        .get_job_seeker(stack.registration_env.request(request, id, Role::JobSeeker))
        .await
        .expect("GetJobSeeker answers the person")
        .into_inner()
        .job_seeker
        .expect("a job seeker")
}

/// Art. 2(2): registered online, complete at once, an online registrant —
/// not yet a Hello Work user, and no application (Art. 6).
async fn registered_online(stack: &Stack, person: &Person) -> String {
    let id = stack.register(&person.email).await;
    let seeker = job_seeker(stack, &id).await;
    let who = person.label;
    assert_eq!(
        seeker.channel(),
        registration::RegistrationChannel::Online,
        "{who}: expected channel ONLINE"
    );
    assert_eq!(
        seeker.category(),
        registration::RegistrantCategory::OnlineRegistrant,
        "{who}: expected an online registrant before applying (Art. 2(2))"
    );
    assert_eq!(
        seeker.status(),
        registration::RegistrationStatus::Complete,
        "{who}: expected a complete registration"
    );
    assert!(
        seeker.application.is_none(),
        "{who}: expected no application yet"
    );
    assert_eq!(
        seeker.contact.map(|c| c.email),
        Some(person.email.clone()),
        "{who}: expected the contact as registered"
    );
    id
}

/// Art. 7(1): the web front system reports that the person viewed the
/// terms page from their device; recorded once.
async fn viewed_terms_page(audit: &AuditLog, person: &Person) {
    let record = audit::UsageRecord {
        record_id: request_id(),
        job_seeker_id: person.id.clone(),
        occurred_at: Some(timestamp(Utc::now())),
        usage_window: None,
        access_kind: AccessKind::PageView.into(),
        action: "/online-services/terms".into(),
        method: "GET".into(),
        outcome: audit::AccessOutcome::Success.into(),
        offering: scheduling::Offering::Unspecified.into(),
        booking_id: String::new(),
        device: Some(person.audit_device()),
        source: "web".into(),
        sealed_device: None,
    };
    let request = audit::RecordUsageRequest {
        record: Some(record),
    };
    let answer = audit
        .client
        .clone()
        .record_usage(audit.request(request, "system:front", Role::System))
        .await
        .expect("RecordUsage accepted from the front system")
        .into_inner();
    assert!(!answer.duplicate, "{}: expected a new record", person.label);
}

/// Art. 2(3): a PC with a webcam that can run the meeting app is capable.
async fn capable_device(stack: &Stack, person: &Person) -> registration::DeviceAttestation {
    let device = stack.attest_device(&person.id, true).await;
    assert!(
        device.capable && device.failures.is_empty(),
        "{}: expected a capable device: {device:?}",
        person.label
    );
    device
}

/// Art. 5(1)-(6), 12(4): a passing environment is recorded item by item,
/// every item passing with its clause, valid for a while, the OS checked
/// against the support-lifecycle table.
async fn passing_environment_recorded(stack: &Stack, person: &Person, device_attestation_id: &str) {
    let attested = stack
        .attest_environment(&person.id, device_attestation_id, passing_environment())
        .await
        .expect("a passing environment is recorded");
    let who = person.label;
    assert!(attested.passed, "{who}: expected a passing environment");
    assert_eq!(
        attested.items.len(),
        9,
        "{who}: expected one result per item"
    );
    for item in &attested.items {
        assert!(
            item.passed && item.failures.is_empty() && item.article.starts_with("Art. "),
            "{who}: expected every item to pass citing its clause: {item:?}"
        );
    }
    assert!(
        attested.expires_at.map(|t| t.seconds) > attested.attested_at.map(|t| t.seconds),
        "{who}: expected the attestation to expire after it was made"
    );
    let os = attested.os_support.expect("the OS support status");
    assert!(
        os.support_ends_on.is_some(),
        "{who}: expected the OS found in the lifecycle table: {os:?}"
    );
}

/// Art. 2(2), 6: applying under the terms in force converts the online
/// registrant into a Hello Work user, with the application on record.
async fn applied(stack: &Stack, person: &Person, in_force: &[consent::TermsDocument]) -> String {
    let answer = stack.apply(&person.id, in_force).await;
    let who = person.label;
    assert!(
        answer.converted_to_hello_work_user,
        "{who}: expected the conversion to a Hello Work user (Art. 2(2))"
    );
    let seeker = job_seeker(stack, &person.id).await;
    assert_eq!(
        seeker.category(),
        registration::RegistrantCategory::HelloWorkUser,
        "{who}: expected GetJobSeeker to show a Hello Work user"
    );
    let application = seeker.application.expect("the application on record");
    assert_eq!(
        (
            application.terms_version.as_str(),
            application.meeting_app_terms_version.as_str()
        ),
        (in_force[0].version.as_str(), in_force[1].version.as_str()),
        "{who}: expected the application under the terms and meeting-app terms in force"
    );
    application.application_id
}

/// Art. 4, 6: the consent service records, from the application event, a
/// consent deemed given by the application to the terms in force and to the
/// meeting app's terms; the person's receipts show exactly it.
async fn deemed_consent_recorded(
    stack: &Stack,
    person: &Person,
    in_force: &[consent::TermsDocument],
    application_id: &str,
) {
    let status = consent_status(stack, &person.id, None, |s| {
        s.status() == consent::ConsentStatus::Consented
    })
    .await;
    let who = person.label;
    let receipt = status.receipt.clone().expect("a consent receipt");
    assert_eq!(
        receipt.method(),
        consent::ConsentMethod::DeemedByApplication,
        "{who}: expected consent deemed by the application (Art. 6)"
    );
    assert_eq!(
        receipt.application_id, application_id,
        "{who}: expected the receipt to name the application"
    );
    for (reference, document) in [
        (&receipt.terms, &in_force[0]),
        (&receipt.meeting_app_terms, &in_force[1]),
    ] {
        let reference = reference.as_ref().expect("a terms reference");
        assert_eq!(
            (&reference.version, &reference.sha256),
            (&document.version, &document.sha256),
            "{who}: expected consent to {:?} in force (Art. 4)",
            document.kind()
        );
    }
    assert_eq!(
        (receipt.state(), receipt.jurisdiction.as_str()),
        (consent::ConsentState::Active, "JP"),
        "{who}: expected an active receipt under Japanese law"
    );
    assert_eq!(
        status.binding_basis(),
        consent::BindingBasis::Consent,
        "{who}: expected to be bound by their consent"
    );
    let listed = stack
        .consents
        .clone()
        .list_consent_receipts(stack.consent_env.request(
            consent::ListConsentReceiptsRequest {
                job_seeker_id: person.id.clone(),
                page_size: 10,
                page_token: String::new(),
            },
            &person.id,
            Role::JobSeeker,
        ))
        .await
        .expect("the person's receipts")
        .into_inner()
        .receipts;
    assert_eq!(
        listed,
        vec![receipt],
        "{who}: expected exactly the deemed receipt"
    );
}

/// `GetConsentStatus` of `id` at `at` (now if unset) as the person asks it,
/// polled until `done` holds (the consent service learns of applications
/// from registration's events).
async fn consent_status(
    stack: &Stack,
    id: &str,
    at: Option<DateTime<Utc>>,
    done: impl Fn(&consent::GetConsentStatusResponse) -> bool,
) -> consent::GetConsentStatusResponse {
    let done = &done;
    eventually("the consent status", || async move {
        let request = consent::GetConsentStatusRequest {
            job_seeker_id: id.to_owned(),
            at: at.map(timestamp),
        };
        let status = stack
            .consents
            .clone()
            .get_consent_status(stack.consent_env.request(request, id, Role::JobSeeker))
            .await
            .ok()?
            .into_inner();
        done(&status).then_some(status)
    })
    .await
}

/// The whole of steps 1-3 for a person who does everything in order.
async fn enrolled(
    stack: &Stack,
    audit: &AuditLog,
    person: &Person,
    in_force: &[consent::TermsDocument],
) {
    viewed_terms_page(audit, person).await;
    let device = capable_device(stack, person).await;
    passing_environment_recorded(stack, person, &device.device_attestation_id).await;
    let application_id = applied(stack, person, in_force).await;
    deemed_consent_recorded(stack, person, in_force, &application_id).await;
}

// ---------------------------------------------------------------------------
// 2, 4. Ken: everything too early, then in order.

/// One attempt to book `slot` for the person, without attendants.
async fn try_booking(
    stack: &Stack,
    person: &Person,
    slot: &scheduling::Slot,
) -> Result<Response<scheduling::BookSessionResponse>, Status> {
    let request = scheduling::BookSessionRequest {
        request_id: request_id(),
        slot_id: slot.slot_id.clone(),
        job_seeker_id: person.id.clone(),
        attendants: Vec::new(),
    };
    let request = stack
        .scheduling_env
        .request(request, &person.id, Role::JobSeeker);
    stack.schedule.clone().book_session(request).await
}

/// Ken, registered only, tries to book the seminar: refused citing
/// Art. 2(1) first, listing every unmet condition (not applied, no consent,
/// no capable device, no environment attested).
async fn booking_before_applying_refused(stack: &Stack, ken: &Person, seminar: &scheduling::Slot) {
    let result = try_booking(stack, ken, seminar).await;
    let status = refused(
        "booking before applying",
        result,
        Code::FailedPrecondition,
        "2(1)",
    );
    let unmet = unmet(&status);
    for reason in [
        registration::EligibilityReason::NotApplied,
        registration::EligibilityReason::ConsentMissing,
        registration::EligibilityReason::NoCapableDevice,
        registration::EligibilityReason::EnvironmentNotAttested,
    ] {
        assert!(
            unmet.iter().any(|s| s == reason.as_str_name()),
            "expected {} among the unmet conditions: {unmet:?}",
            reason.as_str_name()
        );
    }
}

/// Art. 2(3): a device without a webcam is recorded as not capable; an
/// environment attested for it is refused citing Art. 2(3) (that it wrote
/// nothing is counted in the log at the end).
async fn environment_on_an_incapable_device_refused(stack: &Stack, ken: &Person) {
    let device = stack.attest_device(&ken.id, false).await;
    assert_eq!(
        (device.capable, device.failures.as_slice()),
        (
            false,
            &[registration::DeviceCapabilityFailure::NoWebcam as i32][..]
        ),
        "expected a device without a webcam recorded as not capable"
    );
    let result = stack
        .attest_environment(
            &ken.id,
            &device.device_attestation_id,
            passing_environment(),
        )
        .await
        .map(Response::new);
    refused(
        "an environment for a device without a webcam",
        result,
        Code::FailedPrecondition,
        "2(3)",
    );
}

/// Art. 5(5): file-sharing software fails its item, recorded with its
/// clause; once applied and consented, Ken is refused a booking citing
/// Art. 5(5) alone, and registration's eligibility answer says why.
async fn file_sharing_software_refused(
    stack: &Stack,
    ken: &Person,
    device_attestation_id: &str,
    in_force: &[consent::TermsDocument],
    seminar: &scheduling::Slot,
) {
    let mut report = passing_environment();
    report.installed_software_names.push("Winny".into());
    let attested = stack
        .attest_environment(&ken.id, device_attestation_id, report)
        .await
        .expect("a failing environment is recorded, not refused");
    let failing: Vec<_> = attested.items.iter().filter(|i| !i.passed).collect();
    assert!(
        !attested.passed
            && failing.len() == 1
            && failing[0].item() == registration::EnvironmentItem::FileSharingSoftware
            && failing[0].article == "Art. 5(5)",
        "expected only the file-sharing item to fail, citing Art. 5(5): {failing:?}"
    );
    assert_eq!(
        attested.file_sharing_software_found,
        vec!["Winny".to_owned()]
    );

    let application_id = applied(stack, ken, in_force).await;
    deemed_consent_recorded(stack, ken, in_force, &application_id).await;
    let result = try_booking(stack, ken, seminar).await;
    let status = refused(
        "booking with Winny",
        result,
        Code::FailedPrecondition,
        "5(5)",
    );
    assert_eq!(
        articles(&status),
        "5(5)",
        "expected Art. 5(5) as the only unmet condition"
    );

    let eligibility = stack
        .registrations
        .clone()
        .check_eligibility(stack.registration_env.request(
            registration::CheckEligibilityRequest {
                job_seeker_id: ken.id.clone(),
                at: None,
            },
            &ken.id,
            Role::JobSeeker,
        ))
        .await
        .expect("CheckEligibility answers the person")
        .into_inner();
    assert!(
        !eligibility.eligible
            && eligibility.unmet_conditions.iter().any(|c| {
                c.environment_failure()
                    == registration::EnvironmentFailureReason::FileSharingSoftwarePresent
                    && c.article == "Art. 5(5)"
            }),
        "expected ineligible for file-sharing software (Art. 5(5)): {eligibility:?}"
    );
}

/// Ken's way: each step too early is refused citing its article; once his
/// environment is clean he is eligible like the others.
async fn enrolled_after_refusals(
    stack: &Stack,
    audit: &AuditLog,
    ken: &Person,
    in_force: &[consent::TermsDocument],
    seminar: &scheduling::Slot,
) {
    viewed_terms_page(audit, ken).await;
    booking_before_applying_refused(stack, ken, seminar).await;
    environment_on_an_incapable_device_refused(stack, ken).await;
    let device = capable_device(stack, ken).await;
    let device = device.device_attestation_id.as_str();
    file_sharing_software_refused(stack, ken, device, in_force, seminar).await;
    passing_environment_recorded(stack, ken, device).await;
}

// ---------------------------------------------------------------------------
// 4-5. Booking, checklist, join, leave.

/// Art. 2, 3, 12(3): booked once eligible; the confirmation states first
/// that the service is free (Art. 3), and that device and data costs are
/// the user's (Art. 12(5)); the attendants declared are on the booking,
/// whose cut-off for declaring them is a day before the session.
async fn booked(
    stack: &Stack,
    person: &Person,
    slot: &scheduling::Slot,
    attendants: &[scheduling::AttendantKind],
) -> scheduling::Booking {
    let answer = stack
        .book_once_eligible(&person.id, &slot.slot_id, attendants)
        .await;
    let who = person.label;
    assert_eq!(
        answer.notices.first(),
        Some(&(scheduling::ConfirmationNotice::FreeOfCharge as i32)),
        "{who}: expected FREE_OF_CHARGE first among the notices"
    );
    assert!(
        answer
            .notices
            .contains(&(scheduling::ConfirmationNotice::DeviceAndDataCostsBorneByUser as i32)),
        "{who}: expected the notice that device and data costs are the user's"
    );
    let booking = answer.booking.expect("the booking");
    assert_eq!(
        (
            booking.state(),
            booking.slot_id.as_str(),
            booking.job_seeker_id.as_str(),
            booking.offering
        ),
        (
            scheduling::BookingState::Confirmed,
            slot.slot_id.as_str(),
            person.id.as_str(),
            slot.offering
        ),
        "{who}: expected a confirmed booking of the slot"
    );
    let declared: Vec<_> = booking.attendants.iter().map(|a| a.kind()).collect();
    assert_eq!(
        declared, attendants,
        "{who}: expected the attendants declared"
    );
    let cutoff = booking.attendant_cutoff.map(|t| t.seconds);
    let start = booking.start_time.map(|t| t.seconds);
    assert_eq!(
        cutoff.zip(start).map(|(cutoff, start)| start - cutoff),
        Some(24 * 3600),
        "{who}: expected the attendant cut-off 24 h before the session (Art. 12(3))"
    );
    booking
}

/// The booking as the person reads it (`GetBooking`).
async fn booking(stack: &Stack, person: &Person, booking_id: &str) -> scheduling::Booking {
    let request = scheduling::GetBookingRequest {
        booking_id: booking_id.to_owned(),
    };
    stack
        .schedule
        .clone()
        .get_booking(
            stack
                .scheduling_env
                .request(request, &person.id, Role::JobSeeker),
        )
        .await
        .expect("GetBooking answers the person")
        .into_inner()
        .booking
        .expect("a booking")
}

/// Art. 12(2)-(4): joining unprepared is refused citing all three, the
/// checklist first; a checklist missing an item is refused citing
/// Art. 12(4) and leaves the booking unprepared.
async fn unprepared_refused(stack: &Stack, person: &Person, booking_id: &str) {
    let who = person.label;
    let join = scheduling::JoinSessionRequest {
        booking_id: booking_id.to_owned(),
        device: Some(person.device.clone()),
        sealed_device: None,
    };
    let result = stack
        .schedule
        .clone()
        .join_session(
            stack
                .scheduling_env
                .request(join, &person.id, Role::JobSeeker),
        )
        .await;
    let status = refused(
        "joining unprepared",
        result,
        Code::FailedPrecondition,
        "12(4)",
    );
    assert_eq!(
        articles(&status),
        "12(4),12(3),12(2)",
        "{who}: expected the checklist and both acknowledgements missing"
    );
    let checklist = scheduling::CompletePreSessionChecklistRequest {
        booking_id: booking_id.to_owned(),
        confirmed_items: (1..=5).collect(),
    };
    let result = stack
        .schedule
        .clone()
        .complete_pre_session_checklist(stack.scheduling_env.request(
            checklist,
            &person.id,
            Role::JobSeeker,
        ))
        .await;
    let status = refused(
        "an incomplete checklist",
        result,
        Code::FailedPrecondition,
        "12(4)",
    );
    assert_eq!(
        unmet(&status),
        vec![scheduling::ChecklistItem::UnneededSoftwareClosed.as_str_name()],
        "{who}: expected the unconfirmed item named"
    );
    let unchanged = booking(stack, person, booking_id).await;
    assert!(
        unchanged.state() == scheduling::BookingState::Confirmed
            && unchanged.checklist_completed_at.is_none(),
        "{who}: expected the refused checklist to record nothing: {unchanged:?}"
    );
}

/// Art. 12(2)-(4), 7(1): prepared, the person joins (IN_SESSION) and leaves
/// (COMPLETED) from their device; `GetBooking` shows the booking as left.
async fn attended(stack: &Stack, person: &Person, booking_id: &str) {
    let who = person.label;
    unprepared_refused(stack, person, booking_id).await;
    let prepared = stack.prepare(&person.id, booking_id).await;
    assert!(
        prepared.checklist_completed_at.is_some()
            && prepared.private_room_acknowledged_at.is_some()
            && prepared.no_recording_acknowledged_at.is_some(),
        "{who}: expected the checklist and both acknowledgements recorded: {prepared:?}"
    );
    let (joined, left) = stack
        .join_and_leave(&person.id, booking_id, &person.device)
        .await;
    assert!(
        joined.state() == scheduling::BookingState::InSession && joined.joined_at.is_some(),
        "{who}: expected IN_SESSION once joined: {joined:?}"
    );
    assert!(
        left.state() == scheduling::BookingState::Completed
            && left.left_at.map(|t| t.seconds) >= joined.joined_at.map(|t| t.seconds),
        "{who}: expected COMPLETED once left: {left:?}"
    );
    assert_eq!(
        booking(stack, person, booking_id).await,
        left,
        "{who}: expected GetBooking to show the booking as left"
    );
}

/// `ListBookings` (a read model) shows each of the person's bookings
/// completed, and no other.
async fn bookings_listed_completed(stack: &Stack, person: &Person, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|id| (*id).to_owned()).collect();
    expected.sort();
    let expected = &expected;
    eventually(
        &format!("{}'s bookings completed", person.label),
        || async move {
            let request = scheduling::ListBookingsRequest {
                job_seeker_id: person.id.clone(),
                states: Vec::new(),
                page_size: 50,
                page_token: String::new(),
            };
            let listed = stack
                .schedule
                .clone()
                .list_bookings(
                    stack
                        .scheduling_env
                        .request(request, &person.id, Role::JobSeeker),
                )
                .await
                .ok()?
                .into_inner()
                .bookings;
            let completed = listed
                .iter()
                .all(|b| b.state() == scheduling::BookingState::Completed);
            let mut ids: Vec<String> = listed.into_iter().map(|b| b.booking_id).collect();
            ids.sort();
            (completed && &ids == expected).then_some(())
        },
    )
    .await;
}

/// Art. 1: the seminar's seats held by its three participants, of ten.
async fn seminar_seats_taken(stack: &Stack, seminar: &scheduling::Slot) {
    let start = seminar.start_time.expect("a start time").seconds;
    let day = DateTime::from_timestamp(start, 0)
        .expect("a valid start")
        .with_timezone(&tokyo())
        .date_naive();
    eventually("the seminar's seats taken", || async move {
        let request = scheduling::ListFreeSlotsRequest {
            offering: scheduling::Offering::Seminar.into(),
            date: Some(scheduling::Date {
                year: day.year(),
                month: day.month() as i32,
                day: day.day() as i32,
            }),
            counsellor_id: seminar.counsellor_id.clone(),
            page_size: 10,
            page_token: String::new(),
        };
        let slots = stack
            .schedule
            .clone()
            .list_free_slots(stack.scheduling_env.request(
                request,
                &seminar.counsellor_id,
                Role::Counsellor,
            ))
            .await
            .ok()?
            .into_inner()
            .slots;
        slots
            .iter()
            .any(|s| s.slot_id == seminar.slot_id && s.booked_count == 3 && s.capacity == 10)
            .then_some(())
    })
    .await;
}

// ---------------------------------------------------------------------------
// The audit log.

/// The whole access log as an auditor lists it, and the Debug print of
/// every page (to search for raw identifiers).
struct Listing {
    entries: Vec<audit::AccessLogEntry>,
    printed: String,
}

impl Listing {
    fn of_kind(&self, kind: EntryKind) -> impl Iterator<Item = &audit::AccessLogEntry> {
        self.entries.iter().filter(move |e| e.kind() == kind)
    }

    fn sessions(&self, access: AccessKind) -> usize {
        self.of_kind(EntryKind::Usage)
            .filter(|e| e.access_kind() == access)
            .count()
    }

    /// How many heard events of another service have type `event_type`.
    fn heard(&self, event_type: &str) -> usize {
        self.of_kind(EntryKind::DomainEvent)
            .filter(|e| e.action == event_type)
            .count()
    }

    /// Entries made of the peers' events: scheduling's joins and leaves are
    /// usage records, every other event a domain-event entry.
    fn heard_from_peers(&self) -> u64 {
        let sessions =
            self.sessions(AccessKind::SessionJoin) + self.sessions(AccessKind::SessionLeave);
        (self.of_kind(EntryKind::DomainEvent).count() + sessions) as u64
    }

    /// The entries of a legal request, by kind.
    fn legal(&self, legal_request_id: &str) -> BTreeMap<i32, Vec<&audit::AccessLogEntry>> {
        let mut by_kind: BTreeMap<i32, Vec<_>> = BTreeMap::new();
        for entry in self
            .entries
            .iter()
            .filter(|e| e.legal_request_id == legal_request_id)
        {
            by_kind.entry(entry.kind).or_default().push(entry);
        }
        by_kind
    }
}

/// What the test reads of the audit log, as the auditor.
impl AuditLog {
    /// Every entry of the day around now, as the auditor lists them page by
    /// page; `None` if the service did not answer.
    async fn listing(&self) -> Option<Listing> {
        let now = Utc::now();
        let mut listing = Listing {
            entries: Vec::new(),
            printed: String::new(),
        };
        let mut page_token = String::new();
        loop {
            let request = audit::ListAccessLogRequest {
                time_range: Some(audit::TimeRange {
                    start_time: Some(timestamp(now - chrono::Duration::days(1))),
                    end_time: Some(timestamp(now + chrono::Duration::days(1))),
                }),
                kinds: Vec::new(),
                page_size: 1000,
                page_token,
            };
            let mut client = self.client.clone();
            let page = client
                .list_access_log(self.env.request(request, AUDITOR, Role::Auditor))
                .await
                .ok()?
                .into_inner();
            listing.printed += &format!("{page:?}");
            listing.entries.extend(page.entries);
            page_token = page.next_page_token;
            if page_token.is_empty() {
                return Some(listing);
            }
        }
    }

    /// Polls the access log until `done` holds of it.
    async fn until(&self, what: &str, done: impl Fn(&Listing) -> bool) -> Listing {
        let done = &done;
        eventually(what, || async move {
            let listing = self.listing().await?;
            done(&listing).then_some(listing)
        })
        .await
    }
}

// ---------------------------------------------------------------------------
// 6. The access log, device-anonymized.

/// Art. 7(1), 7(2): once every session is heard, each join and leave is one
/// usage entry of its offering, each person's terms page view one entry;
/// each person's device shows only as their own rotating pseudonym, the IP
/// prefix and the browser, OS and class families; no raw identifier of
/// anyone appears anywhere in the response.
async fn access_log_anonymized(
    audit: &AuditLog,
    people: &[Person],
    sessions: &[(usize, scheduling::Offering)],
) {
    audit
        .until("every join, leave and page view in the access log", |l| {
            l.sessions(AccessKind::SessionLeave) >= sessions.len()
                && l.sessions(AccessKind::PageView) >= people.len()
        })
        .await;
    tokio::time::sleep(SETTLE).await;
    let listing = audit.listing().await.expect("the access log");

    // Expected: (IP prefix, access kind, offering) → count.
    let mut expected: BTreeMap<(&str, i32, i32), usize> = BTreeMap::new();
    for &(who, offering) in sessions {
        for kind in [AccessKind::SessionJoin, AccessKind::SessionLeave] {
            *expected
                .entry((people[who].ip_prefix, kind as i32, offering as i32))
                .or_default() += 1;
        }
    }
    for person in people {
        let key = (person.ip_prefix, AccessKind::PageView as i32, 0);
        *expected.entry(key).or_default() += 1;
    }
    let mut seen: BTreeMap<(&str, i32, i32), usize> = BTreeMap::new();
    let mut pseudonyms: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
    for entry in listing.of_kind(EntryKind::Usage) {
        let device = entry.device.as_ref().expect("an anonymized device");
        let person = people
            .iter()
            .find(|p| p.ip_prefix == device.ip_prefix)
            .unwrap_or_else(|| panic!("expected a known IP prefix: {device:?}"));
        device_shown_as(person, device);
        *seen
            .entry((person.ip_prefix, entry.access_kind, entry.offering))
            .or_default() += 1;
        pseudonyms.entry(person.label).or_default().push((
            device.device_pseudonym.clone(),
            device.pseudonym_period.clone(),
        ));
    }
    assert_eq!(
        seen, expected,
        "expected each join, leave and page view exactly once, by device and offering"
    );
    one_pseudonym_per_device(&pseudonyms);
    for person in people {
        assert_no_raw_identifier(person, "ListAccessLog", &listing.printed);
    }
}

/// Art. 7(2): what a view shows of `person`'s device, and only that.
fn device_shown_as(person: &Person, device: &audit::AnonymizedDevice) {
    let model = person.model;
    assert_eq!(
        (
            device.browser_family.as_str(),
            device.os_family.as_str(),
            device.device_class()
        ),
        (model.browser_family, model.os_family, model.class),
        "{}: expected only the browser, OS and device families",
        person.label
    );
    assert!(
        device.device_pseudonym.len() == 32
            && device
                .device_pseudonym
                .chars()
                .all(|c| c.is_ascii_hexdigit()),
        "{}: expected a 128-bit hex pseudonym: {device:?}",
        person.label
    );
}

/// Art. 7(2): a person's device keeps one pseudonym within a period, and
/// no two people's devices share one.
fn one_pseudonym_per_device(pseudonyms: &BTreeMap<&str, Vec<(String, String)>>) {
    let mut all = Vec::new();
    for (who, shown) in pseudonyms {
        let period = &shown[0].1;
        let within: Vec<_> = shown.iter().filter(|(_, p)| p == period).collect();
        assert!(
            within
                .iter()
                .all(|(pseudonym, _)| pseudonym == &within[0].0),
            "{who}: expected one pseudonym per period: {shown:?}"
        );
        all.push(within[0].clone());
    }
    let distinct: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "expected a pseudonym per device: {all:?}"
    );
}

fn assert_no_raw_identifier(person: &Person, what: &str, printed: &str) {
    for raw in person.raw_identifiers() {
        assert!(
            !printed.contains(raw),
            "{what}: expected no raw identifier, found {raw:?} of {}",
            person.label
        );
    }
}

// ---------------------------------------------------------------------------
// 7. Statistics.

/// Art. 7(2): every cell of the grid (offerings × device classes per slot)
/// is k-anonymous: a published cell counts at least k persons; four people
/// are fewer than k, so every cell is suppressed and counts nothing, and no
/// raw identifier appears.
async fn statistics_suppressed(audit: &AuditLog, people: &[Person], since: DateTime<Utc>) {
    // Whole slots of the configured hour (Art. 7(2): ranges on the slot
    // grid only), from the hour before `since` to the one after now.
    let hour = |at: DateTime<Utc>| {
        DateTime::from_timestamp(at.timestamp().div_euclid(3600) * 3600, 0).expect("an hour")
    };
    let request = audit::GetUsageStatisticsRequest {
        time_range: Some(audit::TimeRange {
            start_time: Some(timestamp(hour(since) - chrono::Duration::hours(1))),
            end_time: Some(timestamp(hour(Utc::now()) + chrono::Duration::hours(2))),
        }),
        slot_length: None,
    };
    let statistics = audit
        .client
        .clone()
        .get_usage_statistics(audit.request(request, AUDITOR, Role::Auditor))
        .await
        .expect("GetUsageStatistics answers the auditor")
        .into_inner();
    assert!(
        statistics.k >= 5,
        "expected k of at least 5: {}",
        statistics.k
    );
    assert!(
        statistics.cells.len() >= 2 * 20,
        "expected the whole grid of at least two slots: {} cells",
        statistics.cells.len()
    );
    for cell in &statistics.cells {
        let published = cell.suppression() == audit::CellSuppression::None;
        assert!(
            !published || cell.person_count >= Some(u64::from(statistics.k)),
            "expected every published cell to count at least k persons: {cell:?}"
        );
        assert!(
            !published && cell.person_count.is_none() && cell.record_count.is_none(),
            "expected {} people to leave every cell suppressed: {cell:?}",
            people.len()
        );
    }
    let printed = format!("{statistics:?}");
    for person in people {
        assert_no_raw_identifier(person, "GetUsageStatistics", &printed);
        assert!(
            !printed.contains(&person.id),
            "GetUsageStatistics: expected no job-seeker id"
        );
    }
}

// ---------------------------------------------------------------------------
// 8. A legal request (Art. 7(2) proviso).

/// A prefectural police inquiry for Taro's device records over the run,
/// filed by the legal officer, who becomes its named officer.
async fn filed(audit: &AuditLog, subject: &Person, since: DateTime<Utc>) -> audit::LegalRequest {
    let now = Utc::now();
    let request = audit::FileLegalRequestRequest {
        request_id: request_id(),
        agency: "香川県警察本部".into(),
        legal_basis: audit::LegalBasis::CriminalInvestigationInquiry.into(),
        legal_basis_citation: "刑事訴訟法第197条第2項".into(),
        case_number: format!("R7-{}", &request_id()[..8]),
        scope: Some(audit::LegalRequestScope {
            job_seeker_ids: vec![subject.id.clone()],
            device_pseudonyms: Vec::new(),
            time_range: Some(audit::TimeRange {
                start_time: Some(timestamp(since - chrono::Duration::minutes(1))),
                end_time: Some(timestamp(now + chrono::Duration::minutes(10))),
            }),
        }),
        justification: "不正アクセス事案の捜査のための照会".into(),
        requested_expires_at: Some(timestamp(now + chrono::Duration::days(7))),
    };
    let filed = audit
        .client
        .clone()
        .file_legal_request(audit.request(request, LEGAL_OFFICER, Role::LegalOfficer))
        .await
        .expect("the legal officer files the request")
        .into_inner()
        .legal_request
        .expect("the legal request");
    assert!(
        filed.state() == audit::LegalRequestState::Filed
            && filed.filed_by == LEGAL_OFFICER
            && !filed.authorized_legal_request,
        "expected a filed, not yet authorized request named to its filer: {filed:?}"
    );
    filed
}

/// Art. 7(2): the filer may not approve their own request even holding the
/// approver role, nor under a second subject (two-person rule, by personnel
/// id), and the request stays filed; another person's approval authorizes
/// it.
async fn approved_by_another(audit: &AuditLog, id: &str) {
    let approve = || audit::ApproveLegalRequestRequest {
        legal_request_id: id.to_owned(),
        expires_at: None,
        note: "法令に基づく照会であること、対象と期間が必要最小限であることを確認".into(),
        ..Default::default()
    };
    let result = audit
        .client
        .clone()
        .approve_legal_request(audit.request(approve(), LEGAL_OFFICER, Role::Approver))
        .await;
    refused(
        "approval by the filer",
        result,
        Code::PermissionDenied,
        "7(2)",
    );
    let mut second_subject = tonic::Request::new(approve());
    second_subject.metadata_mut().insert(
        "authorization",
        audit
            .env
            .token_as(
                "legal-officer-1-as-approver",
                &[Role::Approver],
                Some(LEGAL_OFFICER_PERSONNEL_ID),
            )
            .parse()
            .expect("a token is valid metadata"),
    );
    let result = audit
        .client
        .clone()
        .approve_legal_request(second_subject)
        .await;
    refused(
        "approval by the filer under another subject",
        result,
        Code::PermissionDenied,
        "7(2)",
    );
    let unchanged = legal_request(audit, id).await;
    assert_eq!(
        unchanged.state(),
        audit::LegalRequestState::Filed,
        "expected the refused approval to change nothing"
    );
    let approved = audit
        .client
        .clone()
        .approve_legal_request(audit.request(approve(), APPROVER, Role::Approver))
        .await
        .expect("another approver approves")
        .into_inner()
        .legal_request
        .expect("the legal request");
    assert!(
        approved.state() == audit::LegalRequestState::Approved
            && approved.authorized_legal_request
            && approved.decided_by == APPROVER
            && approved.approvals.len() == 1
            && approved.approvals[0].personnel_id == APPROVER_PERSONNEL_ID
            && approved.expires_at == approved.requested_expires_at,
        "expected approval by {APPROVER} until the requested expiry: {approved:?}"
    );
}

async fn legal_request(audit: &AuditLog, id: &str) -> audit::LegalRequest {
    let request = audit::GetLegalRequestRequest {
        legal_request_id: id.to_owned(),
    };
    audit
        .client
        .clone()
        .get_legal_request(audit.request(request, AUDITOR, Role::Auditor))
        .await
        .expect("GetLegalRequest answers the auditor")
        .into_inner()
        .legal_request
        .expect("the legal request")
}

async fn disclose(
    audit: &AuditLog,
    id: &str,
    subject: &str,
    role: Role,
) -> Result<Response<audit::DiscloseDeviceRecordsResponse>, Status> {
    let request = audit::DiscloseDeviceRecordsRequest {
        legal_request_id: id.to_owned(),
        page_size: 100,
        page_token: String::new(),
    };
    audit
        .client
        .clone()
        .disclose_device_records(audit.request(request, subject, role))
        .await
}

/// Art. 7(2) proviso: the whole legal request. Before approval even the
/// named officer is refused; after it the named officer receives the raw
/// records of the person in scope — every usage record of theirs, nobody
/// else's; another officer and an approver are refused. The filing, the
/// approval, the disclosure (with its count) and the legal officers' two
/// refused attempts are on the log; the approver, not a legal officer, is
/// turned away before anything is written.
async fn legal_request_disclosed_in_scope_only(
    audit: &AuditLog,
    people: &[Person],
    subject: usize,
    records_of_subject: usize,
    since: DateTime<Utc>,
) {
    audit
        .env
        .assign_personnel_id(LEGAL_OFFICER, LEGAL_OFFICER_PERSONNEL_ID);
    audit
        .env
        .assign_personnel_id(APPROVER, APPROVER_PERSONNEL_ID);
    let filed = filed(audit, &people[subject], since).await;
    let id = filed.legal_request_id.as_str();
    let early = disclose(audit, id, LEGAL_OFFICER, Role::LegalOfficer).await;
    refused(
        "disclosure before approval",
        early,
        Code::FailedPrecondition,
        "7(2)",
    );
    approved_by_another(audit, id).await;

    let disclosed = disclose(audit, id, LEGAL_OFFICER, Role::LegalOfficer)
        .await
        .expect("the named officer receives the records")
        .into_inner();
    assert_eq!(
        disclosed.records.len(),
        records_of_subject,
        "expected every usage record of the person in scope"
    );
    let expected_device = Some(people[subject].audit_device());
    for record in &disclosed.records {
        assert!(
            record.job_seeker_id == people[subject].id && record.device == expected_device,
            "expected only {}'s raw records: {record:?}",
            people[subject].label
        );
    }
    let printed = format!("{disclosed:?}");
    for other in people.iter().filter(|p| p.id != people[subject].id) {
        assert_no_raw_identifier(other, "DiscloseDeviceRecords", &printed);
    }

    let result = disclose(audit, id, OTHER_OFFICER, Role::LegalOfficer).await;
    refused(
        &format!("disclosure to {OTHER_OFFICER}"),
        result,
        Code::PermissionDenied,
        "7(2)",
    );
    let status = disclose(audit, id, APPROVER, Role::Approver)
        .await
        .expect_err("no disclosure to an approver");
    assert_eq!(
        status.code(),
        Code::PermissionDenied,
        "expected the approver turned away: {status:?}"
    );
    let after = legal_request(audit, id).await;
    assert_eq!(
        after.disclosed_record_count, records_of_subject as u64,
        "expected the request to count the records disclosed"
    );
    legal_request_logged(audit, id, records_of_subject).await;
}

/// The legal request on the access log: filed, approved (with the
/// approver's personnel id), one disclosure of `records` records, the legal
/// officers' two refused attempts; the refused self-approvals are not
/// decisions and leave no entry, nor is anything denied, nor the approver's
/// attempt.
async fn legal_request_logged(audit: &AuditLog, id: &str, records: usize) {
    let listing = audit
        .until("the legal request's entries", |l| {
            l.legal(id)
                .get(&(EntryKind::DeviceDisclosureRefused as i32))
                .is_some_and(|refusals| refusals.len() >= 2)
        })
        .await;
    let counts: BTreeMap<i32, usize> = listing
        .legal(id)
        .iter()
        .map(|(kind, entries)| (*kind, entries.len()))
        .collect();
    let expected = BTreeMap::from([
        (EntryKind::LegalRequestFiled as i32, 1),
        (EntryKind::LegalRequestApproved as i32, 1),
        (EntryKind::DeviceRecordsDisclosed as i32, 1),
        (EntryKind::DeviceDisclosureRefused as i32, 2),
    ]);
    assert_eq!(
        counts, expected,
        "expected the request's entries, each once, by kind"
    );
    let approval = listing.legal(id)[&(EntryKind::LegalRequestApproved as i32)][0];
    assert_eq!(
        approval.reference, APPROVER_PERSONNEL_ID,
        "expected the approval entry to name the approver's personnel id"
    );
    let disclosure = listing.legal(id)[&(EntryKind::DeviceRecordsDisclosed as i32)][0];
    assert_eq!(
        disclosure.record_count, records as u64,
        "expected the disclosure entry to count the records"
    );
}

// ---------------------------------------------------------------------------
// 10. An Art. 13(2) revision.

/// The office's text with one clarification, as a revised version.
fn revised_text(seed: &str, version: &str) -> String {
    format!(
        "{}\n（{version} 改定）本規約の表現の一部を明確化しました。\n",
        seed.trim_end()
    )
}

/// Announces `document` as an Art. 13(2) reasonable change, retrying while
/// the consent service's documents have not caught up with its publication.
async fn announce(
    stack: &Stack,
    document: &consent::TermsDocument,
) -> Result<Response<consent::AnnounceRevisionResponse>, Status> {
    let announcement = consent::AnnounceRevisionRequest {
        request_id: request_id(),
        terms_document_id: document.terms_document_id.clone(),
        ground: consent::RevisionGround::ReasonableChange.into(),
        reasons: "表現の明確化であり、本規約の目的に反せず、内容も合理的であるため（第13条第2号）"
            .into(),
        change_summary: "本規約の表現の一部を明確化しました。".into(),
    };
    let announcement = &announcement;
    eventually("the revision answered", || async move {
        let request = stack
            .consent_env
            .request(announcement.clone(), "operator-1", Role::Operator);
        match stack.consents.clone().announce_revision(request).await {
            Err(status) if status.code() == Code::NotFound => None,
            answer => Some(answer),
        }
    })
    .await
}

/// Art. 13(2) (Civil Code Art. 548-4): a version effective today, announced
/// now, after 00:00 Tokyo, is refused citing Art. 13(2); it has no effect.
async fn late_revision_refused(stack: &Stack, seed: &str) {
    let today = tokyo_today();
    let version = format!("{today}-late");
    let document = stack
        .publish_terms_version(&revised_text(seed, &version), &version, today)
        .await;
    let result = announce(stack, &document).await;
    refused(
        "a revision announced on its effective date",
        result,
        Code::FailedPrecondition,
        "13(2)",
    );
}

/// Art. 13(2): a revision effective in 30 days, announced now, with its
/// reasons; it replaces the version in force.
async fn revision_announced(stack: &Stack, seed: &str) -> consent::TermsRevision {
    let effective = tokyo_today()
        .checked_add_days(Days::new(30))
        .expect("a date");
    let version = effective.to_string();
    let document = stack
        .publish_terms_version(&revised_text(seed, &version), &version, effective)
        .await;
    let revision = announce(stack, &document)
        .await
        .expect("the revision is announced")
        .into_inner()
        .revision
        .expect("the revision");
    assert!(
        revision.ground() == consent::RevisionGround::ReasonableChange
            && !revision.reasons.is_empty()
            && revision.new_terms.as_ref().map(|t| t.version.as_str()) == Some(version.as_str())
            && revision.previous_terms.as_ref().map(|t| t.version.as_str()) == Some(FIRST_VERSION)
            && revision.effective_date == Some(date(effective))
            && revision.announced_at.map(|t| t.seconds) < revision.effective_at.map(|t| t.seconds),
        "expected a 13(2) revision from {FIRST_VERSION} to {version}, announced before it takes effect: {revision:?}"
    );
    revision
}

/// Art. 13: every registered person receives one notice of the revision —
/// its ground, the change, the new version and its effective date — and
/// none of the refused late one.
async fn everyone_notified(stack: &Stack, people: &[Person], revision: &consent::TermsRevision) {
    for person in people {
        let what = format!("a notice to {}", person.label);
        let notices = eventually(&what, || notices_of(stack, person)).await;
        let notice = &notices[0];
        assert!(
            notices.len() == 1
                && notice.revision_id == revision.revision_id
                && notice.job_seeker_id == person.id
                && notice.ground() == consent::RevisionGround::ReasonableChange
                && notice.change_summary == revision.change_summary
                && notice.new_terms == revision.new_terms
                && notice.effective_date == revision.effective_date
                && notice.notified_at.is_some(),
            "{}: expected exactly one notice, of the revision: {notices:?}",
            person.label
        );
    }
}

/// The person's notices as they list them; `None` while there are none.
async fn notices_of(stack: &Stack, person: &Person) -> Option<Vec<consent::Notice>> {
    let request = consent::ListNoticesRequest {
        job_seeker_id: person.id.clone(),
        page_size: 50,
        page_token: String::new(),
    };
    let request = stack
        .consent_env
        .request(request, &person.id, Role::JobSeeker);
    let answer = stack.consents.clone().list_notices(request).await.ok()?;
    Some(answer.into_inner().notices).filter(|notices| !notices.is_empty())
}

/// Art. 13: until the effective date each person stays bound by the version
/// they consented to; from it, by the revision, without re-consent, noting
/// when they were notified; the terms in force then are the new version.
async fn bound_by_the_revision_once_effective(
    stack: &Stack,
    people: &[Person],
    revision: &consent::TermsRevision,
) {
    let effective_at = revision.effective_at.expect("effective_at").seconds;
    let effective_at = DateTime::from_timestamp(effective_at, 0).expect("an instant");
    let new_version = revision.new_terms.as_ref().map(|t| t.version.clone());
    for person in people {
        let before = consent_status(
            stack,
            &person.id,
            Some(effective_at - chrono::Duration::hours(1)),
            |_| true,
        )
        .await;
        assert!(
            before.binding_basis() == consent::BindingBasis::Consent
                && before.bound_terms.as_ref().map(|t| t.version.as_str()) == Some(FIRST_VERSION),
            "{}: expected {FIRST_VERSION} by consent before the effective date: {before:?}",
            person.label
        );
        let after = consent_status(
            stack,
            &person.id,
            Some(effective_at + chrono::Duration::hours(1)),
            |_| true,
        )
        .await;
        assert!(
            after.status() == consent::ConsentStatus::Consented
                && after.binding_basis() == consent::BindingBasis::Art13Revision
                && after.bound_terms.as_ref().map(|t| t.version.clone()) == new_version
                && after.revision_id == revision.revision_id
                && after.notified_at.is_some(),
            "{}: expected the revision to bind once effective, without re-consent: {after:?}",
            person.label
        );
    }
    let request = consent::GetTermsInForceRequest {
        kind: consent::TermsKind::OnlineServices.into(),
        language: "ja".into(),
        at: Some(timestamp(effective_at + chrono::Duration::hours(1))),
    };
    let in_force = stack
        .consents
        .clone()
        .get_terms_in_force(
            stack
                .consent_env
                .request(request, "operator-1", Role::Operator),
        )
        .await
        .expect("GetTermsInForce answers")
        .into_inner();
    assert!(
        in_force.terms_document.map(|d| d.version) == new_version
            && in_force.revision_id == revision.revision_id,
        "expected the revised version in force from its effective date"
    );
}

// ---------------------------------------------------------------------------
// 9. Everything on the log once, and the chain intact.

/// How many events registration, consent and scheduling have published:
/// JetStream keeps each once (its id is the `Nats-Msg-Id`).
async fn events_published(stack: &Stack) -> Option<u64> {
    let client = async_nats::connect(nats_url()).await.ok()?;
    let jetstream = async_nats::jetstream::new(client);
    let mut count = 0;
    for peer in [
        &stack.registration_env,
        &stack.consent_env,
        &stack.scheduling_env,
    ] {
        let mut stream = jetstream.get_stream(&peer.stream_name).await.ok()?;
        count += stream.info().await.ok()?.state.messages;
    }
    Some(count)
}

/// Art. 7(1): every event of the other services is on the log exactly once
/// (none lost, none doubled), beside the page views and the legal entries;
/// and of the events, those the refusals would have written are absent:
/// only the accepted attestations, bookings and checklists are there.
async fn everything_logged_once(
    stack: &Stack,
    audit: &AuditLog,
    expected: &[(&str, usize)],
    others: usize,
) -> Listing {
    eventually("an entry for every published event", || async move {
        let published = events_published(stack).await?;
        (audit.listing().await?.heard_from_peers() >= published).then_some(())
    })
    .await;
    tokio::time::sleep(SETTLE).await;
    let published = events_published(stack).await.expect("the streams' counts");
    let listing = audit.listing().await.expect("the access log");
    assert_eq!(
        listing.heard_from_peers(),
        published,
        "expected one entry per published event"
    );
    assert_eq!(
        listing.entries.len() as u64,
        published + others as u64,
        "expected nothing on the log but the events, page views and legal entries"
    );
    for &(event_type, count) in expected {
        assert_eq!(
            listing.heard(event_type),
            count,
            "expected {count} {event_type} on the log (refusals write nothing)"
        );
    }
    listing
}

/// The auditor verifies the whole hash chain: intact over exactly the
/// entries listed, numbered 1..=n without a gap; an operator may not.
async fn chain_intact(audit: &AuditLog, listing: &Listing) {
    let sequences: Vec<u64> = listing.entries.iter().map(|e| e.sequence).collect();
    let numbered: Vec<u64> = (1..=sequences.len() as u64).collect();
    assert_eq!(sequences, numbered, "expected positions 1..=n in order");
    let verdict = audit
        .client
        .clone()
        .verify_log(audit.request(audit::VerifyLogRequest::default(), AUDITOR, Role::Auditor))
        .await
        .expect("VerifyLog answers the auditor")
        .into_inner();
    assert!(
        verdict.intact
            && verdict.checked_count == numbered.len() as u64
            && verdict.to_sequence == numbered.len() as u64
            && verdict.first_bad_sequence == 0
            && verdict.head_hash.len() == 32,
        "expected the chain intact over all {} entries: {verdict:?}",
        numbered.len()
    );
    let result = audit
        .client
        .clone()
        .verify_log(audit.request(
            audit::VerifyLogRequest::default(),
            "operator-1",
            Role::Operator,
        ))
        .await;
    assert_eq!(
        result.map(|_| ()).map_err(|s| s.code()),
        Err(Code::PermissionDenied),
        "expected VerifyLog refused to an operator (auditors only)"
    );
}

// ---------------------------------------------------------------------------

#[tokio::test]
async fn four_job_seekers_live_through_all_four_services_and_every_step_is_checked() {
    // Whole seconds, as the requests carry them.
    let since = DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now");
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let mut stack = Stack::start().await;
    let mut audit = stack.take_audit_log();
    let seed = hellowork_testing::terms::terms_of_use().text;
    let in_force = stack.publish_terms_of_use(&seed).await;
    assert_eq!(
        (in_force[0].version.as_str(), in_force[0].full_text.as_str()),
        (FIRST_VERSION, seed.as_str()),
        "expected the text in force as published"
    );

    // 1. Registration (Art. 2(2)).
    let mut people = people(&run);
    for person in &mut people {
        person.id = registered_online(&stack, person).await;
    }
    assert_eq!(
        stack.register(&people[HANAKO].email).await,
        people[HANAKO].id,
        "expected registering the same person again to return them"
    );

    // 2-3. Attestation (Art. 2(3), 5), application, deemed consent (Art. 4,
    // 6) for the three who do things in order.
    for who in [HANAKO, TARO, MISAKI] {
        enrolled(&stack, &audit, &people[who], &in_force).await;
    }

    // 4. Slots: a counsellor each for counselling, one seminar of ten seats
    // a day later (Art. 1).
    let in_two_days = Utc::now() + chrono::Duration::days(2);
    let mut counselling = Vec::new();
    for who in [HANAKO, TARO, MISAKI] {
        let counsellor = format!("counsellor-{}", people[who].label);
        counselling.push(
            stack
                .publish_slot(
                    &counsellor,
                    scheduling::Offering::Counselling,
                    in_two_days,
                    1,
                )
                .await,
        );
    }
    let seminar = stack
        .publish_slot(
            "counsellor-seminar",
            scheduling::Offering::Seminar,
            in_two_days + chrono::Duration::days(1),
            10,
        )
        .await;

    // 2, 4. Ken: booking before applying, an environment for a device
    // without a webcam, file-sharing software — each refused; then a clean
    // environment makes him eligible.
    enrolled_after_refusals(&stack, &audit, &people[KEN], &in_force, &seminar).await;

    // 4. Bookings: Hanako with an interpreter (Art. 12(3)); Hanako, Taro and
    // Ken share the seminar.
    let interpreter = [scheduling::AttendantKind::Interpreter];
    let mut bookings: Vec<(usize, scheduling::Booking)> = Vec::new();
    for (who, slot) in [HANAKO, TARO, MISAKI].into_iter().zip(&counselling) {
        let attendants: &[_] = if who == HANAKO { &interpreter } else { &[] };
        bookings.push((who, booked(&stack, &people[who], slot, attendants).await));
    }
    for who in [HANAKO, TARO, KEN] {
        bookings.push((who, booked(&stack, &people[who], &seminar, &[]).await));
    }
    seminar_seats_taken(&stack, &seminar).await;

    // 5. Checklist (Art. 12(4)), acknowledgements, join, leave.
    for (who, booking) in &bookings {
        attended(&stack, &people[*who], &booking.booking_id).await;
    }
    for (who, person) in people.iter().enumerate() {
        let own: Vec<&str> = bookings
            .iter()
            .filter(|(w, _)| *w == who)
            .map(|(_, b)| b.booking_id.as_str())
            .collect();
        bookings_listed_completed(&stack, person, &own).await;
    }

    // 6. The access log, device-anonymized (Art. 7(1), 7(2)).
    let sessions: Vec<(usize, scheduling::Offering)> = bookings
        .iter()
        .map(|(who, b)| (*who, b.offering()))
        .collect();
    access_log_anonymized(&audit, &people, &sessions).await;

    // 7. Statistics, k-anonymous (Art. 7(2)).
    statistics_suppressed(&audit, &people, since).await;

    // 8. A legal request for Taro's records: his page view and his
    // sessions' joins and leaves (Art. 7(2) proviso).
    let taro_records = 1 + 2 * sessions.iter().filter(|(who, _)| *who == TARO).count();
    legal_request_disclosed_in_scope_only(&audit, &people, TARO, taro_records, since).await;

    // 10. An Art. 13(2) revision: a late one refused, a timely one notified
    // to everyone and binding them once effective.
    late_revision_refused(&stack, &seed).await;
    let revision = revision_announced(&stack, &seed).await;
    everyone_notified(&stack, &people, &revision).await;
    bound_by_the_revision_once_effective(&stack, &people, &revision).await;

    // 9. Every event on the log once, what the refusals would have written
    // absent, and the chain intact.
    let expected = [
        ("JobSeekerRegistered", people.len()),
        ("OnlineServicesApplied", people.len()),
        ("ConsentRecorded", people.len()),
        // Three people once each; Ken a device without a webcam and one with.
        ("DeviceCapabilityAttested", 5),
        // Not the one for the device without a webcam.
        ("EnvironmentAttested", 5),
        ("SlotPublished", counselling.len() + 1),
        // Not Ken's two refused bookings.
        ("SessionBooked", bookings.len()),
        // Each booking's seat, on its counsellor's schedule.
        ("SeatTaken", bookings.len()),
        ("AttendantDeclared", interpreter.len()),
        // Not the six incomplete checklists.
        ("PreSessionChecklistCompleted", bookings.len()),
        // The first version, the late one and the timely one.
        ("TermsDocumentPublished", 3),
        // Not the late one.
        ("TermsRevisionAnnounced", 1),
    ];
    // Four page views; filed, approved, disclosed and the legal officers'
    // two refusals (the approver's attempt writes nothing).
    let page_views_and_legal_entries = people.len() + 5;
    let listing =
        everything_logged_once(&stack, &audit, &expected, page_views_and_legal_entries).await;
    chain_intact(&audit, &listing).await;

    assert!(
        audit.process.terminate().await,
        "expected audit-log to stop cleanly"
    );
    stack.terminate().await;
}
