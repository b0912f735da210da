//! The registration service's Prometheus metrics, recorded by the service
//! layer from the events a command actually appended (a repeated request
//! appends nothing and counts nothing) and from the eligibility answers it
//! gives. Labels are closed enumerations of the contract and article
//! numbers, never a person's id or anything they entered (Art. 8).

use hellowork_proto::registration::v1 as proto;

use crate::domain::{Event, UnmetCondition};

/// Art. 2(2): job seekers registered, by `channel` (`ONLINE`, `COUNTER`).
pub const REGISTRATIONS: &str = "registration_job_seekers_registered_total";
/// Art. 2(1), 6: applications for online services.
pub const APPLICATIONS: &str = "registration_applications_total";
/// Art. 2(2): online registrants who became Hello Work user registrants.
pub const CONVERSIONS: &str = "registration_conversions_total";
/// Art. 2(3): device attestations, by `capable` (`true`, `false`).
pub const DEVICE_ATTESTATIONS: &str = "registration_device_attestations_total";
/// Art. 5, 12(4): environment attestations, by `passed` (`true`, `false`).
pub const ENVIRONMENT_ATTESTATIONS: &str = "registration_environment_attestations_total";
/// Art. 5(1)-(6), 12(4): failing items of environment attestations, by the
/// `article` of the item (e.g. `5(3)`).
pub const ENVIRONMENT_FAILURES: &str = "registration_environment_item_failures_total";
/// Art. 2: eligibility answers (`CheckEligibility`), by `eligible`.
pub const ELIGIBILITY_ANSWERS: &str = "registration_eligibility_answers_total";
/// Art. 2, 5, 6, 12: unmet conditions in eligibility answers, by `reason`
/// (e.g. `CONSENT_MISSING`) and `article` (e.g. `2(1)`, or `5, 12(4)` for a
/// condition of two); an answer with three unmet conditions counts three.
pub const UNMET_CONDITIONS: &str = "registration_eligibility_unmet_conditions_total";
/// Art. 8: job seekers erased, by `reason` (`APPI_REQUEST`, `RETENTION_ENDED`).
pub const ERASURES: &str = "registration_job_seekers_erased_total";

/// Counts what `events`, just appended, record.
pub fn record(events: &[Event]) {
    for event in events {
        match event {
            Event::Registered(e) => {
                let channel = label(e.channel.as_str_name(), "REGISTRATION_CHANNEL_");
                metrics::counter!(REGISTRATIONS, "channel" => channel).increment(1);
            }
            Event::OnlineServicesApplied(_) => metrics::counter!(APPLICATIONS).increment(1),
            Event::ConvertedToHelloWorkUser(_) => metrics::counter!(CONVERSIONS).increment(1),
            Event::DeviceCapabilityAttested(e) => {
                metrics::counter!(DEVICE_ATTESTATIONS, "capable" => flag(e.capable)).increment(1);
            }
            Event::EnvironmentAttested(e) => {
                metrics::counter!(ENVIRONMENT_ATTESTATIONS, "passed" => flag(e.passed))
                    .increment(1);
                for item in e.items.iter().filter(|item| !item.passed) {
                    metrics::counter!(ENVIRONMENT_FAILURES, "article" => article(&item.article))
                        .increment(1);
                }
            }
            Event::Erased(e) => {
                let reason = label(e.reason().as_str_name(), "ERASURE_REASON_");
                metrics::counter!(ERASURES, "reason" => reason).increment(1);
            }
            Event::RegistrationCompleted(_) => {}
        }
    }
}

/// Counts one eligibility answer and each of its unmet conditions.
pub fn record_eligibility(unmet: &[UnmetCondition]) {
    metrics::counter!(ELIGIBILITY_ANSWERS, "eligible" => flag(unmet.is_empty())).increment(1);
    for condition in unmet {
        let reason = proto::EligibilityReason::from(condition.reason).as_str_name();
        metrics::counter!(
            UNMET_CONDITIONS,
            "reason" => label(reason, "ELIGIBILITY_REASON_"),
            "article" => article(&condition.article()),
        )
        .increment(1);
    }
}

/// `Art. 5(3)` → `5(3)`, as scheduling labels articles.
fn article(text: &str) -> String {
    text.trim_start_matches("Art.").trim().to_owned()
}

fn flag(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// A contract enum value's name without its type prefix: `ONLINE`.
fn label(name: &'static str, prefix: &str) -> &'static str {
    name.strip_prefix(prefix).unwrap_or(name)
}
