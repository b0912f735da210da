//! The eligibility decision (Art. 2(1)-(3), 5, 6, 12(1), 12(4)) as a pure
//! function: each condition, and the property that no sequence of commands,
//! consents, refusals and passing time leaves a person eligible unless every
//! condition holds.

mod support;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hellowork_eventstore::Aggregate;
use hellowork_registration::domain::{
    EligibilityReason as Reason, EnvironmentFailure as Failure, EnvironmentItem, *,
};
use proptest::prelude::*;
use support::domain::*;

fn eligible_history() -> Vec<Event> {
    let mut events = vec![
        registered(Channel::Online, false),
        applied(1),
        converted(1),
        device_attested(1, true),
    ];
    events.push(decide_one(&events, attest_environment(1, 1, good_report())));
    events
}

fn consent() -> Vec<ConsentRecord> {
    vec![ConsentRecord {
        consented_at: Some(at()),
        withdrawn_at: None,
    }]
}

fn reasons(
    events: &[Event],
    consents: &[ConsentRecord],
    refusals: &[RefusalRecord],
    when: DateTime<Utc>,
) -> Vec<(Reason, String)> {
    eligibility(&fold(events), consents, refusals, when)
        .into_iter()
        .map(|c| (c.reason, c.article()))
        .collect()
}

fn one(reason: Reason, article: &str) -> Vec<(Reason, String)> {
    vec![(reason, article.to_owned())]
}

#[test]
fn a_person_meeting_every_condition_is_eligible() {
    assert_eq!(reasons(&eligible_history(), &consent(), &[], at()), vec![]);
}

#[test]
fn an_unknown_person_misses_every_condition_at_once() {
    let all: Vec<Reason> = reasons(&[], &[], &[], at())
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(
        all,
        [
            Reason::RegistrationIncomplete,
            Reason::NotApplied,
            Reason::ConsentMissing,
            Reason::NoCapableDevice,
            Reason::EnvironmentNotAttested
        ]
    );
}

#[test]
fn art_2_2_a_provisional_registration_is_not_eligible() {
    let mut events = eligible_history();
    events[0] = registered(Channel::Online, true);
    assert_eq!(
        reasons(&events, &consent(), &[], at()),
        one(Reason::RegistrationIncomplete, "Art. 2(2)")
    );
}

#[test]
fn art_2_1_6_without_an_application_the_person_is_not_eligible() {
    let events: Vec<Event> = eligible_history()
        .into_iter()
        .filter(|e| {
            !matches!(
                e,
                Event::OnlineServicesApplied(_) | Event::ConvertedToHelloWorkUser(_)
            )
        })
        .collect();
    assert_eq!(
        reasons(&events, &consent(), &[], at()),
        one(Reason::NotApplied, "Art. 2(1), 6")
    );
}

#[test]
fn art_2_1_consent_missing_or_withdrawn_ends_eligibility() {
    assert_eq!(
        reasons(&eligible_history(), &[], &[], at()),
        one(Reason::ConsentMissing, "Art. 2(1)")
    );
    let withdrawn = [ConsentRecord {
        consented_at: Some(at()),
        withdrawn_at: Some(at() + Duration::hours(1)),
    }];
    assert_eq!(
        reasons(&eligible_history(), &withdrawn, &[], at()),
        vec![],
        "not yet withdrawn"
    );
    assert_eq!(
        reasons(
            &eligible_history(),
            &withdrawn,
            &[],
            at() + Duration::hours(2)
        ),
        one(Reason::ConsentWithdrawn, "Art. 2(1)")
    );
    let renewed = [
        withdrawn[0],
        ConsentRecord {
            consented_at: Some(at() + Duration::hours(3)),
            withdrawn_at: None,
        },
    ];
    assert_eq!(
        reasons(
            &eligible_history(),
            &renewed,
            &[],
            at() + Duration::hours(4)
        ),
        vec![]
    );
    let only_withdrawal_seen = [ConsentRecord {
        consented_at: None,
        withdrawn_at: Some(at()),
    }];
    assert_eq!(
        reasons(&eligible_history(), &only_withdrawal_seen, &[], at()),
        one(Reason::ConsentMissing, "Art. 2(1)")
    );
}

#[test]
fn art_2_3_without_a_capable_device_the_person_is_not_eligible() {
    let events = vec![
        registered(Channel::Online, false),
        applied(1),
        converted(1),
        device_attested(1, false),
    ];
    assert_eq!(
        reasons(&events, &consent(), &[], at()),
        vec![
            (Reason::NoCapableDevice, "Art. 2(3)".to_owned()),
            (Reason::EnvironmentNotAttested, "Art. 5, 12(4)".to_owned())
        ]
    );
}

#[test]
fn art_5_each_failing_environment_item_is_listed_with_its_clause() {
    let mut events = eligible_history();
    events.pop();
    let mut report = good_report();
    report.connection = ConnectionType::FreePublicWifi;
    report.antivirus.grade = AntivirusGrade::Free;
    report.browser_up_to_date = false;
    events.push(decide_one(&events, attest_environment(1, 1, report)));
    let unmet = eligibility(&fold(&events), &consent(), &[], at());
    let listed: Vec<(Reason, EnvironmentItem, Failure, String)> = unmet
        .iter()
        .map(|c| {
            let (item, failure) = c.environment.expect("an item failed");
            (c.reason, item, failure, c.article())
        })
        .collect();
    let listed: Vec<_> = listed
        .iter()
        .map(|(reason, item, failure, article)| (*reason, *item, *failure, article.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                Reason::EnvironmentItemFailed,
                EnvironmentItem::InternetConnection,
                Failure::UnsafePublicNetwork,
                "Art. 5(2)"
            ),
            (
                Reason::EnvironmentItemFailed,
                EnvironmentItem::Antivirus,
                Failure::AntivirusNotPaidGrade,
                "Art. 5(6)"
            ),
            (
                Reason::EnvironmentItemFailed,
                EnvironmentItem::Browser,
                Failure::BrowserOutdated,
                "Art. 12(4)"
            ),
        ]
    );
}

#[test]
fn art_5_a_later_passing_attestation_replaces_a_failing_one() {
    let mut events = eligible_history();
    events.pop();
    let mut failing = good_report();
    failing.firewall_enabled = false;
    events.push(decide_one(&events, attest_environment(1, 1, failing)));
    assert_eq!(reasons(&events, &consent(), &[], at()).len(), 1);
    events.push(decide_one(&events, attest_environment(2, 1, good_report())));
    assert_eq!(reasons(&events, &consent(), &[], at()), vec![]);
}

#[test]
fn art_5_an_attestation_expires_after_its_validity() {
    let expires = at() + Duration::days(30);
    assert_eq!(
        reasons(&eligible_history(), &consent(), &[], expires),
        vec![]
    );
    assert_eq!(
        reasons(
            &eligible_history(),
            &consent(),
            &[],
            expires + Duration::seconds(1)
        ),
        one(Reason::EnvironmentAttestationExpired, "Art. 5, 12(4)")
    );
}

#[test]
fn art_5_3_an_os_whose_support_ends_before_the_session_fails_at_the_session() {
    let attested_at: DateTime<Utc> = "2026-10-01T00:00:00Z".parse().unwrap();
    let mut report = good_report();
    report.operating_system.version = "11 24H2".into(); // support ends 2026-10-13
    report.antivirus.patterns_updated_at = Some(attested_at);
    let mut events = eligible_history();
    events.pop();
    events.push(decide_one(
        &events,
        attest_environment_at(1, 1, report, attested_at),
    ));
    let consents = [ConsentRecord {
        consented_at: Some(attested_at),
        withdrawn_at: None,
    }];
    assert_eq!(reasons(&events, &consents, &[], attested_at), vec![]);
    let session: DateTime<Utc> = "2026-10-20T01:00:00Z".parse().unwrap();
    let unmet = eligibility(&fold(&events), &consents, &[], session);
    assert_eq!(unmet.len(), 1);
    assert_eq!(
        unmet[0].environment.map(|(_, failure)| failure),
        Some(Failure::OsSupportEnded)
    );
    assert_eq!(unmet[0].article(), "Art. 5(3)");
}

#[test]
fn art_12_1_a_refusal_ends_eligibility_until_lifted() {
    let refused = [RefusalRecord {
        refused_at: Some(at()),
        lifted_at: None,
    }];
    assert_eq!(
        reasons(&eligible_history(), &consent(), &refused, at()),
        one(Reason::Refused, "Art. 12(1)")
    );
    let lifted = [RefusalRecord {
        refused_at: Some(at()),
        lifted_at: Some(at() + Duration::hours(1)),
    }];
    assert_eq!(
        reasons(
            &eligible_history(),
            &consent(),
            &lifted,
            at() + Duration::hours(2)
        ),
        vec![]
    );
}

// ---- the property ----------------------------------------------------------

#[derive(Debug, Clone)]
enum Step {
    Register(bool, bool),
    Complete,
    Apply(u128),
    AttestDevice(u128, bool, bool, bool),
    AttestEnvironment(u128, u128, Box<EnvironmentReport>),
    Pass(i64),
    Consent,
    Withdraw,
    Refuse,
    Lift,
}

/// Mostly a passing report, otherwise one that fails one item (or an OS
/// whose support ends while time passes), so eligible people are common
/// enough for the property to bite.
fn report() -> impl Strategy<Value = EnvironmentReport> {
    prop_oneof![
        3 => Just(good_report()),
        4 => (0..14usize).prop_map(|flaw| {
            let mut r = good_report();
            match flaw {
                0 => r.compromise_detected = true,
                1 => r.connection = ConnectionType::FreePublicWifi,
                2 => r.connection = ConnectionType::None,
                3 => r.operating_system.version = "10 22H2".into(),
                4 => r.operating_system.name = "BeOS".into(),
                5 => r.operating_system.latest_security_patches_applied = false,
                6 => r.firewall_enabled = false,
                7 => r.firewall_minimal_allowed_services = false,
                8 => r.installed_software.push("Winny2".into()),
                9 => r.antivirus.grade = AntivirusGrade::Free,
                10 => r.antivirus.patterns_updated_at = Some(at() - Duration::days(9)),
                11 => r.meeting_app_ready = false,
                12 => r.browser_up_to_date = false,
                // Supported now, unsupported after 2027-03-31.
                _ => {
                    r.operating_system.name = "Android".into();
                    r.operating_system.version = "14".into();
                }
            }
            r
        }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        2 => (any::<bool>(), any::<bool>()).prop_map(|(online, provisional)| Step::Register(online, provisional)),
        2 => Just(Step::Complete),
        2 => (0..3u128).prop_map(Step::Apply),
        3 => (0..3u128, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(n, a, b, c)| Step::AttestDevice(n, a || c, b || a, c || b)),
        4 => (0..4u128, 0..3u128, report()).prop_map(|(n, d, r)| Step::AttestEnvironment(n, d, Box::new(r))),
        3 => (0..2000i64).prop_map(Step::Pass),
        2 => Just(Step::Consent),
        1 => Just(Step::Withdraw),
        1 => Just(Step::Refuse),
        1 => Just(Step::Lift),
    ]
}

/// What every condition says, computed from the events directly rather than
/// through the aggregate's accessors.
fn every_condition_holds(
    events: &[Event],
    consents: &[ConsentRecord],
    refusals: &[RefusalRecord],
    when: DateTime<Utc>,
) -> bool {
    let mut complete = false;
    let mut applied = false;
    let mut capable = std::collections::HashSet::new();
    let mut environment = None;
    for event in events {
        match event {
            Event::Registered(e) => {
                complete =
                    e.status == hellowork_proto::registration::v1::RegistrationStatus::Complete
            }
            Event::RegistrationCompleted(_) => complete = true,
            Event::OnlineServicesApplied(_) => applied = true,
            Event::DeviceCapabilityAttested(e) if e.capable => {
                capable.insert(e.device_attestation_id.clone());
            }
            Event::EnvironmentAttested(e) if capable.contains(&e.device_attestation_id) => {
                environment = Some(e)
            }
            _ => {}
        }
    }
    let consent = consents.iter().any(|c| {
        c.consented_at.is_some_and(|t| t <= when) && c.withdrawn_at.is_none_or(|w| w > when)
    });
    let refused = refusals
        .iter()
        .any(|r| r.refused_at.is_some_and(|t| t <= when) && r.lifted_at.is_none_or(|l| l > when));
    let environment_ok = environment.is_some_and(|e| {
        let expires = DateTime::from_timestamp(e.expires_at.unwrap().seconds, 0).unwrap();
        let support = e.os_support.as_ref().unwrap().support_ends_on.as_ref();
        let supported = support.is_some_and(|d| {
            NaiveDate::from_ymd_opt(d.year, d.month as u32, d.day as u32).unwrap()
                >= tokyo_date(when)
        });
        e.passed && when <= expires && supported
    });
    complete && applied && consent && !capable.is_empty() && environment_ok && !refused
}

/// How often the property saw an eligible person: the property must not
/// hold vacuously.
static ELIGIBLE_SEEN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[test]
fn the_property_reaches_eligible_states() {
    nobody_is_eligible_without_every_condition();
    let seen = ELIGIBLE_SEEN.load(std::sync::atomic::Ordering::Relaxed);
    assert!(seen > 0, "eligible states seen: {seen}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Issue 4: random command sequences (with time passing) never leave a
    /// person eligible unless registration is complete, they applied, consent
    /// is present and not withdrawn, a device is capable, every environment
    /// item passes unexpired, and they are not refused.
    #[test]
    fn nobody_is_eligible_without_every_condition(steps in proptest::collection::vec(step(), 0..40), probe in 0..1000i64) {
        let mut events: Vec<Event> = Vec::new();
        let mut consents: Vec<ConsentRecord> = Vec::new();
        let mut refusals: Vec<RefusalRecord> = Vec::new();
        let mut now = at();
        for step in steps {
            let command = match step {
                Step::Register(online, provisional) => {
                    Some(register(if online { Channel::Online } else { Channel::Counter }, provisional && online))
                }
                Step::Complete => Some(Command::CompleteRegistration { job_seeker_id: id() }),
                Step::Apply(n) => Some(apply(n)),
                Step::AttestDevice(n, owned, webcam, app) => Some(device_command(n, owned, webcam, app)),
                Step::AttestEnvironment(n, d, mut report) => {
                    report.antivirus.patterns_updated_at = report.antivirus.patterns_updated_at.map(|p| p + (now - at()));
                    Some(attest_environment_at(n + 10 * events.len() as u128, d, *report, now))
                }
                Step::Pass(hours) => { now += Duration::hours(hours); None }
                Step::Consent => { consents.push(ConsentRecord { consented_at: Some(now), withdrawn_at: None }); None }
                Step::Withdraw => {
                    for c in consents.iter_mut().filter(|c| c.withdrawn_at.is_none()) { c.withdrawn_at = Some(now); }
                    None
                }
                Step::Refuse => { refusals.push(RefusalRecord { refused_at: Some(now), lifted_at: None }); None }
                Step::Lift => {
                    for r in refusals.iter_mut().filter(|r| r.lifted_at.is_none()) { r.lifted_at = Some(now); }
                    None
                }
            };
            if let Some(command) = command
                && let Ok(new) = fold(&events).decide(&command)
            {
                events.extend(new);
            }
            let state = fold(&events);
            for when in [now, now + Duration::hours(probe)] {
                let unmet = eligibility(&state, &consents, &refusals, when);
                // Never eligible without every condition, and never refused
                // when every condition holds.
                prop_assert_eq!(
                    unmet.is_empty(),
                    every_condition_holds(&events, &consents, &refusals, when),
                    "at {}: {:?} after {:?}", when, unmet, events
                );
                if unmet.is_empty() {
                    ELIGIBLE_SEEN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                prop_assert!(unmet.iter().all(|c| c.article().starts_with("Art. ")));
            }
        }
    }
}
