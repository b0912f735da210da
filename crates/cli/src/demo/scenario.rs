//! The demo's scenario, step by step, returning what the operator sees.
//! People act one after another: each booking or join changes its
//! counsellor's schedule, and a person at a time keeps those changes
//! free of needless conflicts (and the log in a readable order).

use std::path::Path;

use chrono::{DateTime, Utc};
use hellowork_proto::{auditlog::v1::EntryKind, scheduling::v1 as scheduling};

use super::{
    clients::Clients,
    journey::{self, Enrolled},
    legal, people, progress,
    report::{Person, Report},
    slots, terms_of_use, time, views,
};

/// Whose access the legal request concerns (the third person, who also
/// attends the seminar).
const LEGAL_SUBJECT: usize = 2;

/// The access-log entries a legal request leaves: filed, approved,
/// disclosed, and the other officer's refused attempt.
const LEGAL_KINDS: [EntryKind; 4] = [
    EntryKind::LegalRequestFiled,
    EntryKind::LegalRequestApproved,
    EntryKind::DeviceRecordsDisclosed,
    EntryKind::DeviceDisclosureRefused,
];

/// Runs the scenario against the running stack.
pub async fn run(terms_path: Option<&Path>, data_dir: &Path) -> Result<Report, String> {
    let run = uuid::Uuid::new_v4().simple().to_string()[..6].to_owned();
    let clients = Clients::connect(data_dir).await?;
    // Whole seconds, as the requests carry them, so the run's first
    // entries fall inside every range asked about later.
    let since = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_else(Utc::now);

    progress("the terms in force (published first on a fresh stack)");
    let terms = terms_of_use::ensure_terms(&clients, terms_path).await?;

    let personas = people::personas(&run);
    progress(&format!(
        "{} job seekers register, view the terms, attest device and environment, apply",
        personas.len()
    ));
    let mut enrolled = Vec::new();
    for persona in personas {
        enrolled.push(journey::enrol(&clients, persona, &terms).await?);
    }

    progress("counsellors offer counselling slots and a seminar");
    let slots = slots::publish_slots(&clients, &run, enrolled.len()).await?;
    if slots.counselling.len() < enrolled.len() {
        return Err(format!(
            "{} counselling slots for {} job seekers",
            slots.counselling.len(),
            enrolled.len()
        ));
    }

    progress("each books counselling once eligible; four also book the seminar");
    let mut bookings = Vec::new();
    for (seeker, slot) in enrolled.iter().zip(&slots.counselling) {
        bookings.push(book(&clients, seeker, slot, &slots.seminar).await?);
    }
    let refused_join = match (enrolled.first(), bookings.first()) {
        (Some(seeker), Some((counselling, _))) => {
            journey::join_unprepared(&clients, seeker, &counselling.booking_id).await?
        }
        _ => return Err("nobody booked".into()),
    };

    progress("each completes the checklist, joins and leaves");
    let mut report_people = Vec::new();
    for (seeker, (counselling, seminar)) in enrolled.iter().zip(&bookings) {
        let counselling = journey::attend(&clients, seeker, &counselling.booking_id).await?;
        let seminar = match seminar {
            Some(booking) => Some(journey::attend(&clients, seeker, &booking.booking_id).await?),
            None => None,
        };
        report_people.push(person(seeker, &counselling, seminar.as_ref()));
    }

    progress("the audit log hears of every access");
    let seminar_seats = bookings.iter().filter(|(_, s)| s.is_some()).count();
    // A page view per person, and a join and a leave per session.
    let usage = enrolled.len() + 2 * (enrolled.len() + seminar_seats);
    views::wait_for(
        &clients,
        since,
        &[EntryKind::Usage],
        usage,
        "usage records in the access log",
    )
    .await?;

    progress("the office announces a revision of the terms (Art. 13(2))");
    let ids: Vec<String> = enrolled.iter().map(|s| s.job_seeker_id.clone()).collect();
    let revision = terms_of_use::revise_terms(&clients, &ids).await?;

    progress("the police ask for one person's device records (Art. 7(2) proviso)");
    let subject = enrolled
        .get(LEGAL_SUBJECT)
        .ok_or("too few job seekers for the legal request")?;
    let legal = legal::legal_request(&clients, &subject.job_seeker_id, since, &run).await?;
    views::wait_for(
        &clients,
        since,
        &LEGAL_KINDS,
        LEGAL_KINDS.len(),
        "the legal request in the access log",
    )
    .await?;

    progress("what the operator and the auditor see");
    let access_log = views::access_log(&clients, since).await?;
    let statistics = views::statistics(&clients, since, access_log.slot_seconds).await?;
    Ok(Report {
        run,
        terms: terms.report,
        people: report_people,
        refused_join,
        revision,
        legal,
        access_log,
        statistics,
        verification: views::verify(&clients).await?,
    })
}

/// Books counselling (with the attendants of Art. 12(3) some persons
/// need) and, for the first few, the seminar.
async fn book(
    clients: &Clients,
    seeker: &Enrolled,
    counselling: &scheduling::Slot,
    seminar: &scheduling::Slot,
) -> Result<(scheduling::Booking, Option<scheduling::Booking>), String> {
    let index = seeker.persona.index;
    let attendants = if index == people::WITH_INTERPRETER {
        vec![scheduling::AttendantKind::Interpreter]
    } else {
        Vec::new()
    };
    let booked = journey::book(clients, seeker, &counselling.slot_id, &attendants).await?;
    if index == people::WITH_CAREGIVER {
        journey::declare_caregiver(clients, seeker, &booked.booking_id).await?;
    }
    let seminar = if index < people::SEMINAR_SEATS {
        Some(journey::book(clients, seeker, &seminar.slot_id, &[]).await?)
    } else {
        None
    };
    Ok((booked, seminar))
}

fn state(booking: &scheduling::Booking) -> String {
    booking
        .state()
        .as_str_name()
        .trim_start_matches("BOOKING_STATE_")
        .to_lowercase()
}

fn person(
    seeker: &Enrolled,
    counselling: &scheduling::Booking,
    seminar: Option<&scheduling::Booking>,
) -> Person {
    let model = &seeker.persona.model;
    Person {
        job_seeker_id: seeker.job_seeker_id.clone(),
        device: format!("{} ({})", model.class, model.os_name),
        counselling_at: time(counselling.start_time.as_ref()),
        counselling: state(counselling),
        seminar: seminar.map(state),
        attendants: counselling
            .attendants
            .iter()
            .map(|a| {
                a.kind()
                    .as_str_name()
                    .trim_start_matches("ATTENDANT_KIND_")
                    .to_lowercase()
            })
            .collect(),
    }
}
