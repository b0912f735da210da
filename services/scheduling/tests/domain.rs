//! Given/when/then for the pure aggregates: every rule with its article,
//! no database. A counsellor's schedule and its bookings are given one
//! history (each aggregate folds what is its own) and asked through
//! [`Both`], which decides as the service does: publishing on the schedule,
//! booking, cancelling and rescheduling on both ([`placement`]), a
//! booking's life on its own stream.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_platform::ServiceError;
use hellowork_proto::scheduling::v1::{
    AttendantDeclared, BookingCancelled, BookingCarriedOver, BookingRescheduled, CarriedEvent,
    NoRecordingAcknowledged, OnlineServicesRefused, PreSessionChecklistCompleted,
    PrivateRoomAcknowledged, RefusalLifted, SeatMoved, SeatReleased, SeatTaken, SessionBooked,
    SessionJoined, SessionLeft, SessionStopped, SlotPublished,
};
use hellowork_proto::sealing::v1::HpkeSealed;
use hellowork_scheduling::domain::{
    AttendantId, AttendantKind, Book, Booking, BookingCommand, BookingId, BookingState, Cancel,
    CancellationReason, ChecklistItem, CompleteChecklist, ConductReason, ConfirmationNotice,
    CounsellorId, Decision, DeclareAttendant, DomainError, Event, JobSeekerId, Join, Leave,
    NewSlot, NotReady, Offering, Person, PersonCommand, Publish, REQUIRED_CHECKLIST, RefusalId,
    Refuse, Reschedule, Schedule, SlotId, Stop, confirmation_notices, placement, timestamp,
};
use hellowork_testing::Scenario;
use tonic::Code;
use uuid::Uuid;

const COUNSELLOR: &str = "counsellor-1";
const SEEKER: &str = "0190a0b0-0000-7000-8000-000000000001";
const OTHER: &str = "0190a0b0-0000-7000-8000-000000000002";

/// The id a test names `name` (a booking "b1", a slot "s1"), as events
/// carry it: the same name, the same id.
fn id(name: &str) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, name.as_bytes()).to_string()
}

fn booking_id(name: &str) -> BookingId {
    BookingId::new(&id(name)).unwrap()
}

fn slot_id(name: &str) -> SlotId {
    SlotId::new(&id(name)).unwrap()
}

fn attendant_id(name: &str) -> AttendantId {
    AttendantId::new(&id(name)).unwrap()
}

fn refusal_id(name: &str) -> RefusalId {
    RefusalId::new(&id(name)).unwrap()
}

fn seeker_id(seeker: &str) -> JobSeekerId {
    JobSeekerId::new(seeker).unwrap()
}

fn counsellor_id(counsellor: &str) -> CounsellorId {
    CounsellorId::new(counsellor).unwrap()
}

/// What the tests ask of a schedule and its bookings.
#[derive(Debug, Clone)]
enum Cmd {
    Publish(Publish),
    Book(Book),
    Cancel(Cancel),
    Reschedule(Reschedule),
    DeclareAttendant(DeclareAttendant),
    CompleteChecklist(CompleteChecklist),
    Join(Join),
    Leave(Leave),
    Stop(Stop),
}

/// A schedule and the bookings of its history, each folded from what is
/// its own; a decision's events come schedule first.
#[derive(Debug, Clone, Default)]
struct Both {
    schedule: Schedule,
    bookings: BTreeMap<BookingId, Booking>,
}

impl Both {
    fn booking(&self, id: BookingId) -> Booking {
        self.bookings.get(&id).cloned().unwrap_or_default()
    }

    fn life(&self, command: BookingCommand) -> Result<Vec<Event>, DomainError> {
        self.booking(command.booking_id()).decide(&command)
    }
}

impl Aggregate for Both {
    type Command = Cmd;
    type Event = Event;
    type Error = DomainError;

    fn decide(&self, command: &Cmd) -> Result<Vec<Event>, DomainError> {
        let both = |decision: Decision| [decision.schedule, decision.booking].concat();
        match command {
            Cmd::Publish(c) => self.schedule.decide(c),
            Cmd::Book(c) => {
                placement::book(&self.schedule, &self.booking(c.booking_id), c).map(both)
            }
            Cmd::Cancel(c) => placement::cancel(&self.booking(c.booking_id), c).map(both),
            Cmd::Reschedule(c) => {
                placement::reschedule(&self.schedule, &self.booking(c.booking_id), c).map(both)
            }
            Cmd::DeclareAttendant(c) => self.life(BookingCommand::DeclareAttendant(c.clone())),
            Cmd::CompleteChecklist(c) => self.life(BookingCommand::CompleteChecklist(c.clone())),
            Cmd::Join(c) => self.life(BookingCommand::Join(c.clone())),
            Cmd::Leave(c) => self.life(BookingCommand::Leave(c.clone())),
            Cmd::Stop(c) => self.life(BookingCommand::Stop(c.clone())),
        }
    }

    fn apply(mut self, event: &Event) -> Self {
        if let Some(id) = event.booking_id() {
            let id = BookingId::new(id).unwrap();
            let booking = self.booking(id).apply(event);
            self.bookings.insert(id, booking);
        }
        self.schedule = self.schedule.apply(event);
        self
    }
}

fn seat_taken(booking: &str, slot: &str, seeker: &str) -> Event {
    Event::SeatTaken(SeatTaken {
        booking_id: id(booking),
        slot_id: id(slot),
        job_seeker_id: seeker.into(),
    })
}

fn seat_released(booking: &str, slot: &str) -> Event {
    Event::SeatReleased(SeatReleased {
        booking_id: id(booking),
        slot_id: id(slot),
        job_seeker_id: SEEKER.into(),
    })
}

fn start() -> DateTime<Utc> {
    "2026-12-01T01:00:00Z".parse().unwrap()
}

fn cutoff() -> Duration {
    Duration::hours(24)
}

fn published(slot: &str, offering: Offering, hours_after: i64, capacity: u32) -> Event {
    let s = start() + Duration::hours(hours_after);
    Event::SlotPublished(SlotPublished {
        slot_id: id(slot),
        counsellor_id: COUNSELLOR.into(),
        offering: offering.into(),
        start_time: Some(timestamp(s)),
        end_time: Some(timestamp(s + Duration::hours(1))),
        capacity,
    })
}

fn booked(booking: &str, slot: &str, seeker: &str, hours_after: i64) -> Event {
    let s = start() + Duration::hours(hours_after);
    Event::SessionBooked(SessionBooked {
        booking_id: id(booking),
        slot_id: id(slot),
        job_seeker_id: seeker.into(),
        counsellor_id: COUNSELLOR.into(),
        offering: Offering::Counselling.into(),
        start_time: Some(timestamp(s)),
        end_time: Some(timestamp(s + Duration::hours(1))),
        attendant_cutoff: Some(timestamp(s - cutoff())),
    })
}

fn book(booking: &str, slot: &str, seeker: &str, at: DateTime<Utc>) -> Cmd {
    Cmd::Book(Book {
        booking_id: booking_id(booking),
        slot_id: slot_id(slot),
        job_seeker_id: seeker_id(seeker),
        attendants: Vec::new(),
        at,
        attendant_cutoff: cutoff(),
    })
}

fn early() -> DateTime<Utc> {
    start() - Duration::days(3)
}

/// Identifiers sealed to the audit-log: opaque to the domain, carried as is.
fn device() -> HpkeSealed {
    HpkeSealed {
        format: 1,
        key_id: "k1".into(),
        encapsulated_key: vec![7; 32],
        ciphertext: vec![9; 48],
    }
}

fn ready(booking: &str) -> Vec<Event> {
    vec![
        Event::ChecklistCompleted(PreSessionChecklistCompleted {
            booking_id: id(booking),
            job_seeker_id: SEEKER.into(),
            confirmed_items: REQUIRED_CHECKLIST.into_iter().map(i32::from).collect(),
        }),
        Event::PrivateRoomAcknowledged(PrivateRoomAcknowledged {
            booking_id: id(booking),
            job_seeker_id: SEEKER.into(),
        }),
        Event::NoRecordingAcknowledged(NoRecordingAcknowledged {
            booking_id: id(booking),
            job_seeker_id: SEEKER.into(),
        }),
    ]
}

fn joined(booking: &str) -> Event {
    Event::SessionJoined(SessionJoined {
        booking_id: id(booking),
        slot_id: id("s1"),
        job_seeker_id: SEEKER.into(),
        offering: Offering::Counselling.into(),
        device: None,
        sealed_device: Some(device()),
    })
}

fn articles(error: DomainError) -> Vec<String> {
    match ServiceError::from(error) {
        ServiceError::Forbidden(violations) => {
            violations.iter().map(|v| v.article.label()).collect()
        }
        other => panic!("expected a refusal citing articles, got {other:?}"),
    }
}

// Art. 1: offerings and availability.

#[test]
fn art_1_a_counsellor_publishes_consecutive_slots() {
    let s = start();
    Scenario::<Both>::given([])
        .when(Cmd::Publish(Publish {
            counsellor_id: counsellor_id(COUNSELLOR),
            offering: Offering::Interview,
            slots: vec![
                NewSlot {
                    slot_id: slot_id("a"),
                    start: s,
                    end: s + Duration::minutes(30),
                },
                NewSlot {
                    slot_id: slot_id("b"),
                    start: s + Duration::minutes(30),
                    end: s + Duration::hours(1),
                },
            ],
            capacity: 1,
        }))
        .then_events([
            Event::SlotPublished(SlotPublished {
                slot_id: id("a"),
                counsellor_id: COUNSELLOR.into(),
                offering: Offering::Interview.into(),
                start_time: Some(timestamp(s)),
                end_time: Some(timestamp(s + Duration::minutes(30))),
                capacity: 1,
            }),
            Event::SlotPublished(SlotPublished {
                slot_id: id("b"),
                counsellor_id: COUNSELLOR.into(),
                offering: Offering::Interview.into(),
                start_time: Some(timestamp(s + Duration::minutes(30))),
                end_time: Some(timestamp(s + Duration::hours(1))),
                capacity: 1,
            }),
        ]);
}

#[test]
fn art_1_a_counsellor_is_never_double_booked_by_overlapping_slots() {
    let s = start() + Duration::minutes(30);
    let error = Scenario::<Both>::given([published("s1", Offering::Counselling, 0, 1)])
        .when(Cmd::Publish(Publish {
            counsellor_id: counsellor_id(COUNSELLOR),
            offering: Offering::JobReferral,
            slots: vec![NewSlot {
                slot_id: slot_id("s2"),
                start: s,
                end: s + Duration::hours(1),
            }],
            capacity: 1,
        }))
        .then_error();
    assert_eq!(error, DomainError::CounsellorDoubleBooked(slot_id("s1")));
    assert_eq!(ServiceError::from(error).code(), Code::FailedPrecondition);
}

#[test]
fn art_1_only_a_seminar_has_more_than_one_seat() {
    let publish = |offering| {
        Cmd::Publish(Publish {
            counsellor_id: counsellor_id(COUNSELLOR),
            offering,
            slots: vec![NewSlot {
                slot_id: slot_id("x"),
                start: start(),
                end: start() + Duration::hours(1),
            }],
            capacity: 30,
        })
    };
    let error = Scenario::<Both>::given([])
        .when(publish(Offering::ManagedSelection))
        .then_error();
    assert_eq!(error, DomainError::CapacityNotForOffering);
    assert_eq!(ServiceError::from(error).code(), Code::InvalidArgument);
    let Ok(events) =
        hellowork_eventstore::Aggregate::decide(&Both::default(), &publish(Offering::Seminar))
    else {
        panic!("a seminar has many seats");
    };
    assert_eq!(events.len(), 1);
}

#[test]
fn publishing_the_same_slots_again_changes_nothing() {
    let s = start();
    Scenario::<Both>::given([published("s1", Offering::Counselling, 0, 1)])
        .when(Cmd::Publish(Publish {
            counsellor_id: counsellor_id(COUNSELLOR),
            offering: Offering::Counselling,
            slots: vec![NewSlot {
                slot_id: slot_id("s1"),
                start: s,
                end: s + Duration::hours(1),
            }],
            capacity: 1,
        }))
        .then_events([]);
}

// Art. 2, 3: booking.

#[test]
fn art_2_3_a_person_books_a_seat_with_attendants_before_the_cutoff() {
    Scenario::<Both>::given([published("s1", Offering::Counselling, 0, 1)])
        .when(Cmd::Book(Book {
            booking_id: booking_id("b1"),
            slot_id: slot_id("s1"),
            job_seeker_id: seeker_id(SEEKER),
            attendants: vec![(attendant_id("a1"), AttendantKind::Interpreter)],
            at: early(),
            attendant_cutoff: cutoff(),
        }))
        .then_events([
            seat_taken("b1", "s1", SEEKER),
            booked("b1", "s1", SEEKER, 0),
            Event::AttendantDeclared(AttendantDeclared {
                booking_id: id("b1"),
                attendant_id: id("a1"),
                kind: AttendantKind::Interpreter.into(),
            }),
        ]);
}

#[test]
fn art_3_every_confirmation_states_free_of_charge_and_costs_borne_by_the_user() {
    let notices = confirmation_notices();
    assert!(notices.contains(&ConfirmationNotice::FreeOfCharge));
    assert!(notices.contains(&ConfirmationNotice::DeviceAndDataCostsBorneByUser));
}

#[test]
fn a_slot_is_never_booked_beyond_its_capacity() {
    let error = Scenario::<Both>::given([
        published("s1", Offering::Seminar, 0, 2),
        booked("b1", "s1", SEEKER, 0),
        booked("b2", "s1", OTHER, 0),
    ])
    .when(book(
        "b3",
        "s1",
        "0190a0b0-0000-7000-8000-000000000003",
        early(),
    ))
    .then_error();
    assert_eq!(error, DomainError::SlotFull(slot_id("s1")));
    assert_eq!(ServiceError::from(error).code(), Code::FailedPrecondition);
}

#[test]
fn a_cancelled_seat_can_be_booked_again() {
    Scenario::<Both>::given([
        published("s1", Offering::Counselling, 0, 1),
        booked("b1", "s1", SEEKER, 0),
        Event::BookingCancelled(BookingCancelled {
            booking_id: id("b1"),
            slot_id: id("s1"),
            job_seeker_id: SEEKER.into(),
            reason: CancellationReason::ByJobSeeker.into(),
            refusal_id: String::new(),
        }),
    ])
    .when(book("b2", "s1", OTHER, early()))
    .then_events([
        seat_taken("b2", "s1", OTHER),
        Event::SessionBooked(SessionBooked {
            booking_id: id("b2"),
            job_seeker_id: OTHER.into(),
            ..match booked("b2", "s1", OTHER, 0) {
                Event::SessionBooked(e) => e,
                _ => unreachable!(),
            }
        }),
    ]);
}

#[test]
fn a_person_never_holds_two_overlapping_bookings() {
    let error = Scenario::<Both>::given([
        published("s1", Offering::Seminar, 0, 5),
        booked("b1", "s1", SEEKER, 0),
    ])
    .when(book("b2", "s1", SEEKER, early()))
    .then_error();
    assert_eq!(error, DomainError::PersonDoubleBooked(slot_id("s1")));
}

#[test]
fn a_started_session_is_not_booked_and_a_repeated_booking_changes_nothing() {
    let error = Scenario::<Both>::given([published("s1", Offering::Counselling, 0, 1)])
        .when(book("b1", "s1", SEEKER, start()))
        .then_error();
    assert_eq!(error, DomainError::SessionStarted(slot_id("s1")));
    Scenario::<Both>::given([
        published("s1", Offering::Counselling, 0, 1),
        booked("b1", "s1", SEEKER, 0),
    ])
    .when(book("b1", "s1", SEEKER, early()))
    .then_events([]);
    let error = Scenario::<Both>::given([])
        .when(book("b1", "nope", SEEKER, early()))
        .then_error();
    assert_eq!(ServiceError::from(error).code(), Code::NotFound);
}

// Cancel and reschedule.

#[test]
fn cancelling_before_the_session_frees_the_seat_and_is_idempotent() {
    let cancel = |at| {
        Cmd::Cancel(Cancel {
            booking_id: booking_id("b1"),
            reason: CancellationReason::ByJobSeeker,
            refusal_id: None,
            at,
        })
    };
    let cancelled = Event::BookingCancelled(BookingCancelled {
        booking_id: id("b1"),
        slot_id: id("s1"),
        job_seeker_id: SEEKER.into(),
        reason: CancellationReason::ByJobSeeker.into(),
        refusal_id: String::new(),
    });
    let history = [
        published("s1", Offering::Counselling, 0, 1),
        booked("b1", "s1", SEEKER, 0),
    ];
    Scenario::<Both>::given(history.clone())
        .when(cancel(early()))
        .then_events([seat_released("b1", "s1"), cancelled.clone()]);
    let mut after = history.to_vec();
    after.push(cancelled);
    Scenario::<Both>::given(after)
        .when(cancel(early()))
        .then_events([]);
    let error = Scenario::<Both>::given(history)
        .when(cancel(start()))
        .then_error();
    assert_eq!(error, DomainError::SessionStarted(slot_id("s1")));
}

#[test]
fn rescheduling_moves_the_seat_atomically_within_the_offering() {
    let to = start() + Duration::hours(2);
    let given = [
        published("s1", Offering::Counselling, 0, 1),
        published("s2", Offering::Counselling, 2, 1),
        published("s3", Offering::Seminar, 4, 10),
        booked("b1", "s1", SEEKER, 0),
    ];
    let reschedule = |slot: &str| {
        Cmd::Reschedule(Reschedule {
            booking_id: booking_id("b1"),
            new_slot_id: slot_id(slot),
            at: early(),
            attendant_cutoff: cutoff(),
        })
    };
    Scenario::<Both>::given(given.clone())
        .when(reschedule("s2"))
        .then_events([
            Event::SeatMoved(SeatMoved {
                booking_id: id("b1"),
                job_seeker_id: SEEKER.into(),
                from_slot_id: id("s1"),
                to_slot_id: id("s2"),
            }),
            Event::BookingRescheduled(BookingRescheduled {
                booking_id: id("b1"),
                job_seeker_id: SEEKER.into(),
                from_slot_id: id("s1"),
                to_slot_id: id("s2"),
                counsellor_id: COUNSELLOR.into(),
                start_time: Some(timestamp(to)),
                end_time: Some(timestamp(to + Duration::hours(1))),
                attendant_cutoff: Some(timestamp(to - cutoff())),
            }),
        ]);
    let error = Scenario::<Both>::given(given.clone())
        .when(reschedule("s3"))
        .then_error();
    assert_eq!(error, DomainError::DifferentOffering(slot_id("s3")));
    let mut full = given.to_vec();
    full.push(booked("b2", "s2", OTHER, 2));
    let error = Scenario::<Both>::given(full)
        .when(reschedule("s2"))
        .then_error();
    assert_eq!(error, DomainError::SlotFull(slot_id("s2")));
}

// Art. 12(3): attendants.

#[test]
fn art_12_3_attendants_after_the_cutoff_are_refused_citing_the_article() {
    let given = [
        published("s1", Offering::Counselling, 0, 1),
        booked("b1", "s1", SEEKER, 0),
    ];
    let declare = |at| {
        Cmd::DeclareAttendant(DeclareAttendant {
            booking_id: booking_id("b1"),
            attendant_id: attendant_id("a1"),
            kind: AttendantKind::Caregiver,
            at,
        })
    };
    Scenario::<Both>::given(given.clone())
        .when(declare(start() - cutoff()))
        .then_events([Event::AttendantDeclared(AttendantDeclared {
            booking_id: id("b1"),
            attendant_id: id("a1"),
            kind: AttendantKind::Caregiver.into(),
        })]);
    let error = Scenario::<Both>::given(given)
        .when(declare(start() - cutoff() + Duration::seconds(1)))
        .then_error();
    assert_eq!(error, DomainError::AttendantCutoffPassed);
    assert_eq!(articles(error), ["12(3)"]);
    // Declared with a late booking: refused too.
    let error = Scenario::<Both>::given([published("s1", Offering::Counselling, 0, 1)])
        .when(Cmd::Book(Book {
            booking_id: booking_id("b1"),
            slot_id: slot_id("s1"),
            job_seeker_id: seeker_id(SEEKER),
            attendants: vec![(attendant_id("a1"), AttendantKind::Interpreter)],
            at: start() - Duration::hours(1),
            attendant_cutoff: cutoff(),
        }))
        .then_error();
    assert_eq!(articles(error), ["12(3)"]);
}

// Art. 12(2)-(4): before joining.

#[test]
fn art_12_4_the_checklist_needs_every_item() {
    let given = [
        published("s1", Offering::Counselling, 0, 1),
        booked("b1", "s1", SEEKER, 0),
    ];
    let error = Scenario::<Both>::given(given.clone())
        .when(Cmd::CompleteChecklist(CompleteChecklist {
            booking_id: booking_id("b1"),
            confirmed: vec![
                ChecklistItem::MeetingAppReady,
                ChecklistItem::ConnectionChecked,
            ],
        }))
        .then_error();
    assert_eq!(
        error,
        DomainError::ChecklistIncomplete(vec![
            ChecklistItem::OsUpToDate,
            ChecklistItem::FirewallEnabled,
            ChecklistItem::BrowserUpToDate,
            ChecklistItem::UnneededSoftwareClosed,
        ])
    );
    assert_eq!(articles(error), ["12(4)"; 4]);
    Scenario::<Both>::given(given)
        .when(Cmd::CompleteChecklist(CompleteChecklist {
            booking_id: booking_id("b1"),
            confirmed: REQUIRED_CHECKLIST.to_vec(),
        }))
        .then_events([ready("b1")[0].clone()]);
}

#[test]
fn art_12_2_3_4_joining_without_checklist_and_acknowledgements_is_refused_listing_each() {
    let join = |refused| {
        Cmd::Join(Join {
            booking_id: booking_id("b1"),
            device: device(),
            refused,
        })
    };
    let given = vec![
        published("s1", Offering::Counselling, 0, 1),
        booked("b1", "s1", SEEKER, 0),
    ];
    let error = Scenario::<Both>::given(given.clone())
        .when(join(false))
        .then_error();
    assert_eq!(
        error,
        DomainError::NotReadyToJoin(vec![
            NotReady::Checklist,
            NotReady::PrivateRoom,
            NotReady::NoRecording
        ])
    );
    assert_eq!(articles(error), ["12(4)", "12(3)", "12(2)"]);
    let mut only_checklist = given.clone();
    only_checklist.push(ready("b1")[0].clone());
    let error = Scenario::<Both>::given(only_checklist)
        .when(join(false))
        .then_error();
    assert_eq!(articles(error), ["12(3)", "12(2)"]);
    let mut all = given.clone();
    all.extend(ready("b1"));
    Scenario::<Both>::given(all.clone())
        .when(join(false))
        .then_events([joined("b1")]);
    // Art. 12(1): a refused person does not join.
    let error = Scenario::<Both>::given(all).when(join(true)).then_error();
    assert_eq!(articles(error), ["12(1)"]);
}

#[test]
fn art_7_joining_and_leaving_carry_the_sealed_device_identifiers_and_never_clear_ones() {
    let mut given = vec![
        published("s1", Offering::Counselling, 0, 1),
        booked("b1", "s1", SEEKER, 0),
    ];
    given.extend(ready("b1"));
    given.push(joined("b1"));
    Scenario::<Both>::given(given.clone())
        .when(Cmd::Leave(Leave {
            booking_id: booking_id("b1"),
            device: device(),
        }))
        .then_events([Event::SessionLeft(SessionLeft {
            booking_id: id("b1"),
            slot_id: id("s1"),
            job_seeker_id: SEEKER.into(),
            offering: Offering::Counselling.into(),
            device: None,
            sealed_device: Some(device()),
        })]);
    // Leaving without having joined is refused.
    let error = Scenario::<Both>::given(given[..2].to_vec())
        .when(Cmd::Leave(Leave {
            booking_id: booking_id("b1"),
            device: device(),
        }))
        .then_error();
    assert_eq!(error, DomainError::NotInSession(booking_id("b1")));
}

// Art. 12(1), 12(2): stopping and refusal.

#[test]
fn art_12_1_a_session_in_progress_is_stopped_with_a_reason() {
    let mut given = vec![
        published("s1", Offering::Counselling, 0, 1),
        booked("b1", "s1", SEEKER, 0),
    ];
    let stop = Cmd::Stop(Stop {
        booking_id: booking_id("b1"),
        reason: ConductReason::RecordingDetected,
        note: "screen recorder seen".into(),
    });
    let error = Scenario::<Both>::given(given.clone())
        .when(stop.clone())
        .then_error();
    assert_eq!(error, DomainError::NotInSession(booking_id("b1")));
    given.extend(ready("b1"));
    given.push(joined("b1"));
    Scenario::<Both>::given(given)
        .when(stop)
        .then_events([Event::SessionStopped(SessionStopped {
            booking_id: id("b1"),
            slot_id: id("s1"),
            job_seeker_id: SEEKER.into(),
            reason: ConductReason::RecordingDetected.into(),
            note: "screen recorder seen".into(),
            sealed_note: None,
        })]);
}

#[test]
fn art_12_1_a_supervisor_refuses_and_lifts_and_the_refusal_cancels_even_a_late_booking() {
    let refused = Event::OnlineServicesRefused(OnlineServicesRefused {
        refusal_id: id("r1"),
        job_seeker_id: SEEKER.into(),
        reason: ConductReason::AbusiveLanguage.into(),
        note: String::new(),
        booking_id: String::new(),
        sealed_note: None,
    });
    let refuse = PersonCommand::Refuse(Refuse {
        refusal_id: refusal_id("r1"),
        job_seeker_id: seeker_id(SEEKER),
        reason: ConductReason::AbusiveLanguage,
        note: String::new(),
        booking_id: None,
    });
    Scenario::<Person>::given([])
        .when(refuse.clone())
        .then_events([refused.clone()]);
    Scenario::<Person>::given([refused.clone()])
        .when(refuse)
        .then_events([]);
    let lifted = Event::RefusalLifted(RefusalLifted {
        refusal_id: id("r1"),
        job_seeker_id: SEEKER.into(),
        note: "apologised".into(),
        sealed_note: None,
    });
    let lift = PersonCommand::Lift {
        refusal_id: refusal_id("r1"),
        note: "apologised".into(),
    };
    Scenario::<Person>::given([refused.clone()])
        .when(lift.clone())
        .then_events([lifted.clone()]);
    let error = Scenario::<Person>::given([refused.clone(), lifted.clone()])
        .when(lift)
        .then_error();
    assert_eq!(error, DomainError::RefusalNotActive(refusal_id("r1")));
    let person = [refused.clone()].iter().fold(Person::default(), |p, e| {
        hellowork_eventstore::Aggregate::apply(p, e)
    });
    assert!(person.is_refused());
    let person = hellowork_eventstore::Aggregate::apply(person, &lifted);
    assert!(!person.is_refused());
    // The refusal cancels an open booking even after its session started.
    Scenario::<Both>::given([
        published("s1", Offering::Counselling, 0, 1),
        booked("b1", "s1", SEEKER, 0),
    ])
    .when(Cmd::Cancel(Cancel {
        booking_id: booking_id("b1"),
        reason: CancellationReason::OnlineServicesRefused,
        refusal_id: Some(refusal_id("r1")),
        at: start(),
    }))
    .then_events([
        seat_released("b1", "s1"),
        Event::BookingCancelled(BookingCancelled {
            booking_id: id("b1"),
            slot_id: id("s1"),
            job_seeker_id: SEEKER.into(),
            reason: CancellationReason::OnlineServicesRefused.into(),
            refusal_id: id("r1"),
        }),
    ]);
    assert_eq!(articles(DomainError::Refused), ["12(1)"]);
}

#[test]
fn art_8_commands_never_print_an_officers_note() {
    let note = "Yamada Taro shouted about his illness";
    let stop = Cmd::Stop(Stop {
        booking_id: booking_id("b1"),
        reason: ConductReason::OtherObstruction,
        note: note.into(),
    });
    let refuse = PersonCommand::Refuse(Refuse {
        refusal_id: refusal_id("r1"),
        job_seeker_id: seeker_id(SEEKER),
        reason: ConductReason::OtherObstruction,
        note: note.into(),
        booking_id: None,
    });
    let lift = PersonCommand::Lift {
        refusal_id: refusal_id("r1"),
        note: note.into(),
    };
    for printed in [
        format!("{stop:?}"),
        format!("{refuse:?}"),
        format!("{lift:?}"),
    ] {
        assert!(!printed.contains("Yamada"), "{printed}");
        assert!(
            printed.contains(&id("r1")) || printed.contains(&id("b1")),
            "{printed}"
        );
    }
}

// The schedule keeps seats; each booking its own life.

#[test]
fn seats_taken_and_released_on_the_schedule_bound_a_slot() {
    let given = vec![
        published("s1", Offering::Seminar, 0, 2),
        seat_taken("b1", "s1", SEEKER),
        seat_taken("b2", "s1", OTHER),
    ];
    let third = "0190a0b0-0000-7000-8000-000000000003";
    let error = Scenario::<Both>::given(given.clone())
        .when(book("b3", "s1", third, early()))
        .then_error();
    assert_eq!(error, DomainError::SlotFull(slot_id("s1")));
    let mut freed = given;
    freed.push(seat_released("b1", "s1"));
    let Ok(events) = Both::default()
        .apply(&freed[0])
        .apply(&freed[1])
        .apply(&freed[2])
        .apply(&freed[3])
        .decide(&book("b3", "s1", third, early()))
    else {
        panic!("a released seat is free again");
    };
    assert_eq!(events[0], seat_taken("b3", "s1", third));
}

#[test]
fn a_booking_s_life_is_decided_on_its_own_stream_alone() {
    // The booking's stream alone: no schedule given, the checklist decides.
    let booking = Booking::default().apply(&booked("b1", "s1", SEEKER, 0));
    let checklist = BookingCommand::CompleteChecklist(CompleteChecklist {
        booking_id: booking_id("b1"),
        confirmed: REQUIRED_CHECKLIST.to_vec(),
    });
    assert_eq!(
        booking.decide(&checklist).unwrap(),
        [ready("b1")[0].clone()]
    );
    // A stream never booked knows no booking.
    let error = Booking::default().decide(&checklist).unwrap_err();
    assert_eq!(error, DomainError::BookingNotFound(booking_id("b1")));
    // The schedule takes no part in it.
    let schedule = Schedule::default().apply(&ready("b1")[0]);
    assert_eq!(schedule, Schedule::default());
}

#[test]
fn a_refused_booking_decision_names_nothing_for_either_stream() {
    let given = [published("s1", Offering::Counselling, 0, 1)];
    let schedule = given.iter().fold(Schedule::default(), |s, e| s.apply(e));
    let late = book("b1", "s1", SEEKER, start());
    let Cmd::Book(late) = late else {
        unreachable!()
    };
    assert_eq!(
        placement::book(&schedule, &Booking::default(), &late),
        Err(DomainError::SessionStarted(slot_id("s1")))
    );
    // Booked already: nothing, on either stream.
    let booking = Booking::default().apply(&booked("b1", "s1", SEEKER, 0));
    let Cmd::Book(again) = book("b1", "s1", SEEKER, early()) else {
        unreachable!()
    };
    assert!(
        placement::book(&schedule, &booking, &again)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_carried_over_booking_folds_as_its_original_events_did() {
    let originals = [
        booked("b1", "s1", SEEKER, 0),
        ready("b1")[0].clone(),
        joined("b1"),
    ];
    let copy = |event: &Event| CarriedEvent {
        event_id: "0190a0b0-0000-7000-8000-0000000000ff".into(),
        event_type: hellowork_eventstore::DomainEvent::event_type(event).into(),
        schema_version: 1,
        payload: hellowork_eventstore::DomainEvent::encode(event),
        occurred_at: Some(timestamp(early())),
        actor: SEEKER.into(),
    };
    let carried = Event::BookingCarriedOver(BookingCarriedOver {
        booking_id: id("b1"),
        events: originals.iter().map(copy).collect(),
    });
    let folded = originals.iter().fold(Booking::default(), |b, e| b.apply(e));
    let carried_over = Booking::default().apply(&carried);
    assert_eq!(carried_over, folded);
    assert_eq!(
        carried_over.record().map(|r| r.state),
        Some(BookingState::InSession)
    );
    // The schedule counts the originals as the seat, never the copy.
    assert_eq!(Schedule::default().apply(&carried), Schedule::default());
    // A copy this release cannot read makes the carry-over unreadable, so
    // it is reported where it is read, never folded half.
    let mut broken = copy(&originals[0]);
    broken.event_type = "Nope".into();
    let unreadable = Event::BookingCarriedOver(BookingCarriedOver {
        booking_id: id("b1"),
        events: vec![broken],
    });
    let encoded = hellowork_eventstore::DomainEvent::encode(&unreadable);
    assert!(
        <Event as hellowork_eventstore::DomainEvent>::decode("BookingCarriedOver", &encoded)
            .is_err()
    );
}

#[test]
fn a_cancellation_frees_the_seat_its_booking_holds_even_where_a_kept_schedule_lags() {
    // The booking's own stream alone: a schedule kept behind the booking's
    // seat must still be told to free it, so the append is checked on it.
    let booking = Booking::default().apply(&booked("b1", "s1", SEEKER, 0));
    let Cmd::Cancel(cancel) = Cmd::Cancel(Cancel {
        booking_id: booking_id("b1"),
        reason: CancellationReason::ByJobSeeker,
        refusal_id: None,
        at: early(),
    }) else {
        unreachable!()
    };
    let decision = placement::cancel(&booking, &cancel).unwrap();
    assert_eq!(decision.schedule, [seat_released("b1", "s1")]);
    assert_eq!(decision.booking.len(), 1);
}
