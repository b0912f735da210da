//! The scheduling service's Prometheus metrics, recorded by the gRPC
//! adapter from the events a command actually appended (a repeated request
//! appends nothing and counts nothing) and from the eligibility refusals it
//! answers. Labels are closed enumerations of the contract (offering,
//! reason, attendant kind) and article numbers, never a person's,
//! counsellor's or booking's id (Art. 8).

use hellowork_platform::ArticleViolation;
use hellowork_proto::{registration::v1::EligibilityReason, scheduling::v1 as proto};

use crate::domain::{Event, Offering};

/// Art. 1: slots published, by `offering` (`COUNSELLING`, `JOB_REFERRAL`,
/// `SEMINAR`, `INTERVIEW`, `MANAGED_SELECTION`).
pub const SLOTS_PUBLISHED: &str = "scheduling_slots_published_total";
/// Art. 2, 3: sessions booked, by `offering`.
pub const BOOKINGS: &str = "scheduling_bookings_total";
/// Art. 2, 5, 6, 12(1): bookings and reschedulings refused for an unmet
/// condition of eligibility, by `offering`, `article` (e.g. `2(1)`) and
/// `reason` (e.g. `CONSENT_MISSING`); one refusal counts once per unmet
/// condition.
pub const ELIGIBILITY_REFUSALS: &str = "scheduling_eligibility_refusals_total";
/// Bookings cancelled, by `offering` and `reason` (`BY_JOB_SEEKER`,
/// `BY_OFFICE`, `ONLINE_SERVICES_REFUSED` for Art. 12(1)).
pub const CANCELLATIONS: &str = "scheduling_cancellations_total";
/// Bookings moved to another slot, by `offering`.
pub const RESCHEDULES: &str = "scheduling_reschedules_total";
/// Art. 12(3): interpreters and caregivers declared, by `kind`.
pub const ATTENDANTS: &str = "scheduling_attendants_declared_total";
/// Art. 7(1), 12: sessions joined, by `offering`.
pub const JOINS: &str = "scheduling_sessions_joined_total";
/// Art. 7(1): sessions left, by `offering`.
pub const LEAVES: &str = "scheduling_sessions_left_total";
/// Art. 12(1), 12(2): sessions stopped by the office, by `offering` and
/// `reason` (`THREAT`, `ABUSIVE_LANGUAGE`, `NON_JOB_PURPOSE`,
/// `RECORDING_DETECTED`, `OTHER_OBSTRUCTION`).
pub const STOPS: &str = "scheduling_sessions_stopped_total";
/// Art. 12(1): persons refused future online services, by `reason`.
pub const REFUSALS: &str = "scheduling_online_services_refusals_total";
/// Art. 12(1): refusals lifted by a supervisor.
pub const REFUSALS_LIFTED: &str = "scheduling_refusals_lifted_total";

/// Art. 8: people's scheduling data keys destroyed on their erasure (a
/// repeated erasure, or one of a person scheduling holds no key of, counts
/// under `destroyed="false"`).
pub const ERASURES: &str = "scheduling_erasures_total";
/// Art. 7(2), 8: stored events and published messages resealed by the
/// start-up upgrade, by `what` (`devices`, `notes`) and `place` (`store`,
/// `stream`).
pub const RESEALED: &str = "scheduling_resealed_total";
/// Art. 7(2), 8: start-up upgrade attempts that failed and will be retried
/// (e.g. the audit-log not answering yet); alert if it keeps growing.
pub const UPGRADE_FAILURES: &str = "scheduling_upgrade_failures_total";

/// Counts what `events`, just appended, record. `offering` is that of the
/// slot or booking the command concerned, for the events that do not carry
/// their own (cancellation, rescheduling, stop); person events ignore it.
pub fn record(events: &[Event], offering: Option<Offering>) {
    let concerned = offering_label(offering.map_or(proto::Offering::Unspecified, Into::into));
    for event in events {
        match event {
            Event::SlotPublished(e) => {
                metrics::counter!(SLOTS_PUBLISHED, "offering" => offering_label(e.offering()))
                    .increment(1);
            }
            Event::SessionBooked(e) => {
                metrics::counter!(BOOKINGS, "offering" => offering_label(e.offering()))
                    .increment(1);
            }
            Event::BookingCancelled(e) => {
                let reason = label(e.reason().as_str_name(), "CANCELLATION_REASON_");
                metrics::counter!(CANCELLATIONS, "offering" => concerned, "reason" => reason)
                    .increment(1);
            }
            Event::BookingRescheduled(_) => {
                metrics::counter!(RESCHEDULES, "offering" => concerned).increment(1);
            }
            Event::AttendantDeclared(e) => {
                let kind = label(e.kind().as_str_name(), "ATTENDANT_KIND_");
                metrics::counter!(ATTENDANTS, "kind" => kind).increment(1);
            }
            Event::SessionJoined(e) => {
                metrics::counter!(JOINS, "offering" => offering_label(e.offering())).increment(1);
            }
            Event::SessionLeft(e) => {
                metrics::counter!(LEAVES, "offering" => offering_label(e.offering())).increment(1);
            }
            Event::SessionStopped(e) => {
                let reason = label(e.reason().as_str_name(), "CONDUCT_REASON_");
                metrics::counter!(STOPS, "offering" => concerned, "reason" => reason).increment(1);
            }
            Event::OnlineServicesRefused(e) => {
                let reason = label(e.reason().as_str_name(), "CONDUCT_REASON_");
                metrics::counter!(REFUSALS, "reason" => reason).increment(1);
            }
            Event::RefusalLifted(_) => metrics::counter!(REFUSALS_LIFTED).increment(1),
            // Seats move with the bookings counted above; a carry-over is
            // no new fact.
            Event::SeatTaken(_)
            | Event::SeatReleased(_)
            | Event::SeatMoved(_)
            | Event::BookingCarriedOver(_)
            | Event::ChecklistCompleted(_)
            | Event::PrivateRoomAcknowledged(_)
            | Event::NoRecordingAcknowledged(_) => {}
        }
    }
}

/// Counts one erasure applied.
pub fn record_erasure(destroyed: bool) {
    metrics::counter!(ERASURES, "destroyed" => if destroyed { "true" } else { "false" })
        .increment(1);
}

/// Counts what one step of the start-up upgrade rewrote.
pub fn record_resealed(what: &'static str, stored: u64, published: u64) {
    metrics::counter!(RESEALED, "what" => what, "place" => "store").increment(stored);
    metrics::counter!(RESEALED, "what" => what, "place" => "stream").increment(published);
}

/// Counts a failed attempt of the start-up upgrade.
pub fn record_upgrade_failure() {
    metrics::counter!(UPGRADE_FAILURES).increment(1);
}

/// Counts a booking or rescheduling for `offering` refused for `unmet`.
pub fn record_refusal(offering: Offering, unmet: &[ArticleViolation]) {
    for violation in unmet {
        // The subject names an `EligibilityReason`; anything else (never
        // expected) is `OTHER` rather than a label of unknown content.
        let reason = EligibilityReason::from_str_name(&violation.subject)
            .map_or("OTHER", |r| label(r.as_str_name(), "ELIGIBILITY_REASON_"));
        metrics::counter!(
            ELIGIBILITY_REFUSALS,
            "offering" => offering_label(offering.into()),
            "article" => violation.article.label(),
            "reason" => reason,
        )
        .increment(1);
    }
}

fn offering_label(offering: proto::Offering) -> &'static str {
    label(offering.as_str_name(), "OFFERING_")
}

/// A contract enum value's name without its type prefix: `COUNSELLING`.
fn label(name: &'static str, prefix: &str) -> &'static str {
    name.strip_prefix(prefix).unwrap_or(name)
}
