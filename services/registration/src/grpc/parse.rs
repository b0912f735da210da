//! Requests into domain values: every field checked, every violation
//! reported with its path, nothing written unless all are valid.

use chrono::{DateTime, Utc};
use hellowork_platform::{FieldViolation, ServiceError};
use hellowork_proto::registration::v1 as proto;

use crate::{
    domain::{
        AntivirusGrade, AntivirusReport, Channel, ConnectionType, Contact, DateOfBirth,
        DeviceCapability, DeviceKind, EnvironmentReport, ErasureReason, ErasureReference,
        FieldError, JobSeekerId, OperatingSystemReport, PersonName, TermsShown, tokyo_date,
    },
    service::{
        DeviceReport, EnvironmentAttestationRequest, ErasureRequest, NewApplication,
        NewRegistration,
    },
};

/// Most installed-software names one report may list.
const MAX_SOFTWARE_NAMES: usize = 1000;
/// Longest free-text field of a report (OS, browser, product names).
const MAX_REPORT_TEXT: usize = 200;

/// Collects violations while parsing.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldViolation>);

impl Violations {
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation::new(field, description));
    }

    fn add_all(&mut self, parent: &str, errors: Vec<FieldError>) {
        for error in errors {
            let error = error.under(parent);
            self.add(error.field, error.description);
        }
    }

    /// Keeps `Ok` values; records the error under `field`.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| self.add(field, e)).ok()
    }

    /// `value` if nothing was violated.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ServiceError> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(ServiceError::InvalidArgument(self.0)),
        }
    }
}

pub use hellowork_values::parse_uuid as uuid;

pub fn job_seeker_id(raw: &str) -> Result<JobSeekerId, ServiceError> {
    JobSeekerId::new(raw).map_err(|e| ServiceError::invalid("job_seeker_id", e))
}

pub fn registration(
    request: &proto::RegisterJobSeekerRequest,
    now: DateTime<Utc>,
) -> Result<NewRegistration, ServiceError> {
    let mut v = Violations::default();
    v.check("request_id", uuid(&request.request_id));
    let channel = v.check(
        "channel",
        Channel::try_from(request.channel()).map_err(|_| "must be ONLINE or COUNTER".to_owned()),
    );
    if request.provisional && channel == Some(Channel::Counter) {
        v.add(
            "provisional",
            "only an online registration can be provisional",
        );
    }
    let name = match &request.name {
        None => {
            v.add("name", "is required");
            None
        }
        Some(n) => PersonName::parse(
            &n.family_name,
            &n.given_name,
            &n.family_name_reading,
            &n.given_name_reading,
        )
        .map_err(|errors| v.add_all("name", errors))
        .ok(),
    };
    let date_of_birth = match &request.date_of_birth {
        None => {
            v.add("date_of_birth", "is required");
            None
        }
        Some(d) => v.check(
            "date_of_birth",
            DateOfBirth::parse(d.year, d.month, d.day, tokyo_date(now)),
        ),
    };
    let contact = match &request.contact {
        None => {
            v.add(
                "contact",
                "an e-mail address or a telephone number is required",
            );
            None
        }
        Some(c) => Contact::parse(&c.email, &c.phone_number)
            .map_err(|errors| v.add_all("contact", errors))
            .ok(),
    };
    let parsed = (|| {
        Some(NewRegistration {
            channel: channel?,
            provisional: request.provisional,
            name: name?,
            date_of_birth: date_of_birth?,
            contact: contact?,
        })
    })();
    v.finish(parsed)
}

/// A parsed `ApplyForOnlineServices`.
pub fn application(
    request: &proto::ApplyForOnlineServicesRequest,
) -> Result<NewApplication, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let terms = TermsShown::parse(
        &request.terms_version,
        &request.terms_sha256,
        &request.meeting_app_terms_version,
        &request.meeting_app_terms_sha256,
        &request.language,
    )
    .map_err(|errors| v.add_all("", errors))
    .ok();
    let parsed = (|| {
        Some(NewApplication {
            request_id: request_id?,
            job_seeker_id: id?,
            terms: terms?,
        })
    })();
    v.finish(parsed)
}

/// A parsed `EraseJobSeeker` (Art. 8).
pub fn erasure(request: &proto::EraseJobSeekerRequest) -> Result<ErasureRequest, ServiceError> {
    let mut v = Violations::default();
    let id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let reason = v.check(
        "reason",
        ErasureReason::try_from(request.reason())
            .map_err(|_| "must be APPI_REQUEST or RETENTION_ENDED".to_owned()),
    );
    let reference = v.check("reference", ErasureReference::parse(&request.reference));
    let parsed = (|| {
        Some(ErasureRequest {
            job_seeker_id: id?,
            reason: reason?,
            reference: reference?,
        })
    })();
    v.finish(parsed)
}

/// A parsed `AttestDevice`.
pub fn device(request: &proto::AttestDeviceRequest) -> Result<DeviceReport, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let kind = v.check(
        "device_kind",
        DeviceKind::try_from(request.device_kind())
            .map_err(|_| "must be SMARTPHONE, TABLET or PC".to_owned()),
    );
    let parsed = (|| {
        Some(DeviceReport {
            request_id: request_id?,
            job_seeker_id: id?,
            capability: DeviceCapability {
                kind: kind?,
                owned: request.owned,
                has_webcam: request.has_webcam,
                can_prepare_meeting_app: request.can_prepare_meeting_app,
            },
        })
    })();
    v.finish(parsed)
}

/// A parsed `AttestEnvironment`; `now` bounds the report's instants.
pub fn environment(
    request: &proto::AttestEnvironmentRequest,
    now: DateTime<Utc>,
) -> Result<EnvironmentAttestationRequest, ServiceError> {
    let mut v = Violations::default();
    let request_id = v.check("request_id", uuid(&request.request_id));
    let id = v.check("job_seeker_id", JobSeekerId::new(&request.job_seeker_id));
    let device = v.check(
        "device_attestation_id",
        uuid(&request.device_attestation_id),
    );
    let report = match &request.report {
        None => {
            v.add("report", "is required");
            None
        }
        Some(report) => report_of(report, now, &mut v),
    };
    let parsed = (|| {
        Some(EnvironmentAttestationRequest {
            request_id: request_id?,
            job_seeker_id: id?,
            device_attestation_id: device?,
            report: report?,
        })
    })();
    v.finish(parsed)
}

fn report_of(
    report: &proto::EnvironmentReport,
    now: DateTime<Utc>,
    v: &mut Violations,
) -> Option<EnvironmentReport> {
    let mut required = |field: &str, present: bool| {
        if !present {
            v.add(format!("report.{field}"), "is required");
        }
        present
    };
    let security = required("device_security", report.device_security.is_some());
    let firewall = required("firewall", report.firewall.is_some());
    let antivirus_present = required("antivirus", report.antivirus.is_some());
    let readiness = required("readiness", report.readiness.is_some());
    let os_present = required("operating_system", report.operating_system.is_some());
    let connection = v.check(
        "report.connection_type",
        ConnectionType::try_from(report.connection_type()).map_err(|_| "must be set".to_owned()),
    );
    let os = report.operating_system.clone().unwrap_or_default();
    if os_present {
        text(v, "report.operating_system.name", &os.name, true);
        text(v, "report.operating_system.version", &os.version, true);
    }
    if report.installed_software_names.len() > MAX_SOFTWARE_NAMES {
        v.add(
            "report.installed_software_names",
            format!("must list at most {MAX_SOFTWARE_NAMES} names"),
        );
    }
    for (index, name) in report.installed_software_names.iter().enumerate() {
        text(
            v,
            &format!("report.installed_software_names[{index}]"),
            name,
            true,
        );
    }
    let av = report.antivirus.clone().unwrap_or_default();
    let grade = match AntivirusGrade::try_from(av.grade()) {
        Ok(grade) => Some(grade),
        // Without an antivirus there is no grade to state.
        Err(_) if !av.installed => Some(AntivirusGrade::Free),
        Err(_) => {
            v.add(
                "report.antivirus.grade",
                "must be set when an antivirus is installed",
            );
            None
        }
    };
    text(v, "report.antivirus.product_name", &av.product_name, false);
    let patterns_updated_at = match av.patterns_updated_at {
        None => None,
        Some(t) => {
            match DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(u32::MAX)) {
                Some(at) if at <= now => Some(at),
                Some(_) => {
                    v.add(
                        "report.antivirus.patterns_updated_at",
                        "must not be in the future",
                    );
                    None
                }
                None => {
                    v.add(
                        "report.antivirus.patterns_updated_at",
                        "must be a valid timestamp",
                    );
                    None
                }
            }
        }
    };
    let ready = report.readiness.clone().unwrap_or_default();
    text(
        v,
        "report.readiness.browser_name",
        &ready.browser_name,
        false,
    );
    text(
        v,
        "report.readiness.browser_version",
        &ready.browser_version,
        false,
    );
    if !(security && firewall && antivirus_present && readiness && os_present) {
        return None;
    }
    let security = report.device_security.unwrap_or_default();
    let fw = report.firewall.unwrap_or_default();
    Some(EnvironmentReport {
        compromise_detected: security.compromise_detected,
        connection: connection?,
        operating_system: OperatingSystemReport {
            name: os.name.trim().to_owned(),
            version: os.version.trim().to_owned(),
            latest_security_patches_applied: os.latest_security_patches_applied,
        },
        firewall_enabled: fw.enabled,
        firewall_minimal_allowed_services: fw.minimal_allowed_services,
        installed_software: report.installed_software_names.clone(),
        antivirus: AntivirusReport {
            installed: av.installed,
            grade: grade?,
            patterns_updated_at,
        },
        meeting_app_ready: ready.meeting_app_ready,
        connectivity_checked: ready.connectivity_checked,
        browser_up_to_date: ready.browser_up_to_date,
    })
}

/// A free-text field of a report: bounded, printable, required if asked.
fn text(v: &mut Violations, field: &str, value: &str, required: bool) {
    if required && value.trim().is_empty() {
        v.add(field, "must not be empty");
    } else if value.chars().count() > MAX_REPORT_TEXT {
        v.add(
            field,
            format!("must be at most {MAX_REPORT_TEXT} characters"),
        );
    } else if value.chars().any(char::is_control) {
        v.add(field, "must not contain control characters");
    }
}

/// The instant asked about: `at`, or now.
pub fn instant(
    at: Option<&prost_types::Timestamp>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ServiceError> {
    match at {
        None => Ok(now),
        Some(t) => DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(u32::MAX))
            .ok_or_else(|| ServiceError::invalid("at", "must be a valid timestamp")),
    }
}
