//! The slot grid's unit tests: the configured slot and the chain of
//! lengths, day and week alignment, and which statistics requests are
//! valid (on the grid, bounded, at the ends of time).

use super::*;
use chrono::TimeZone;

fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
}

fn hourly() -> SlotLengths {
    SlotLengths::new(SlotLength::configured(3600).unwrap())
}

#[test]
fn the_configured_slot_divides_a_day() {
    for seconds in [60, 80, 900, 1800, 3600, 5400, 7200, 86_400] {
        assert!(SlotLength::configured(seconds).is_some(), "{seconds}");
    }
    for seconds in [0, -3600, 59, 7 * 60, 5000, 2 * 86_400, 604_800] {
        assert!(SlotLength::configured(seconds).is_none(), "{seconds}");
    }
}

#[test]
fn the_chain_holds_the_configured_slot_and_the_fixed_lengths_it_divides() {
    let names = |finest: i64| {
        SlotLengths::new(SlotLength::configured(finest).unwrap())
            .all()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(3600), ["1h", "1d", "7d"]);
    assert_eq!(names(1800), ["30min", "1h", "1d", "7d"]);
    assert_eq!(names(5400), ["90min", "1d", "7d"]);
    assert_eq!(names(7200), ["2h", "1d", "7d"]);
    assert_eq!(names(86_400), ["1d", "7d"]);
    assert_eq!(names(80), ["80s", "1h", "1d", "7d"]);
    assert_eq!(hourly().to_string(), "1h, 1d or 7d");
}

#[test]
fn days_start_at_midnight_utc_and_weeks_on_mondays() {
    let wednesday = at(2026, 12, 2, 4, 29, 16);
    assert_eq!(
        SlotLength::DAY.start(SlotLength::DAY.slot_of(wednesday)),
        at(2026, 12, 2, 0, 0, 0)
    );
    let monday = SlotLength::WEEK.start(SlotLength::WEEK.slot_of(wednesday));
    assert_eq!(monday, at(2026, 11, 30, 0, 0, 0));
    assert_eq!(monday.format("%A").to_string(), "Monday");
    assert!(SlotLength::WEEK.on_grid(monday));
    assert!(!SlotLength::WEEK.on_grid(at(2026, 12, 3, 0, 0, 0)));
    assert!(SlotLength::HOUR.on_grid(at(2026, 12, 2, 4, 0, 0)));
    assert!(!SlotLength::HOUR.on_grid(at(2026, 12, 2, 4, 0, 1)));
    let nanos = at(2026, 12, 2, 4, 0, 0) + chrono::Duration::nanoseconds(1);
    assert!(!SlotLength::HOUR.on_grid(nanos));
    // Before the epoch too.
    assert!(SlotLength::HOUR.on_grid(at(1969, 12, 31, 23, 0, 0)));
    assert_eq!(SlotLength::HOUR.slot_of(at(1969, 12, 31, 23, 30, 0)), -1);
}

#[test]
fn only_offered_lengths_in_whole_seconds_resolve() {
    let lengths = hourly();
    assert_eq!(lengths.resolve(None), Ok(SlotLength::HOUR));
    assert_eq!(lengths.resolve(Some((86_400, 0))), Ok(SlotLength::DAY));
    assert_eq!(lengths.resolve(Some((604_800, 0))), Ok(SlotLength::WEEK));
    for requested in [(1800, 0), (3600, 1), (3601, 0), (-3600, 0), (i64::MAX, 0)] {
        let error = lengths.resolve(Some(requested)).unwrap_err();
        assert_eq!(error.field(), "slot_length");
        assert!(error.to_string().contains("1h, 1d or 7d"), "{error}");
        assert_eq!(error.article(), Some(ART_7_2));
    }
}

#[test]
fn a_range_off_the_grid_is_refused_naming_the_edge_and_the_grid() {
    let lengths = hourly();
    let start = at(2026, 12, 2, 4, 0, 0);
    let errors = Query::new(
        &lengths,
        start + chrono::Duration::seconds(1),
        start + chrono::Duration::hours(2) - chrono::Duration::seconds(1),
        SlotLength::HOUR,
    )
    .unwrap_err();
    let fields: Vec<_> = errors.iter().map(QueryError::field).collect();
    assert_eq!(fields, ["time_range.start_time", "time_range.end_time"]);
    let message = errors[0].to_string();
    assert!(message.contains("1h slot grid"), "{message}");
    assert!(message.contains("Art. 7(2)"), "{message}");
    assert!(
        message.contains("2026-12-02T04:00:00Z or 2026-12-02T05:00:00Z"),
        "{message}"
    );
    let week = Query::new(
        &lengths,
        start,
        start + chrono::Duration::days(7),
        SlotLength::WEEK,
    )
    .unwrap_err();
    assert!(week[0].to_string().contains("Monday"), "{}", week[0]);
    assert!(
        Query::new(
            &lengths,
            start,
            start + chrono::Duration::hours(2),
            SlotLength::HOUR
        )
        .is_ok()
    );
    assert_eq!(
        Query::new(&lengths, start, start, SlotLength::HOUR).unwrap_err(),
        [QueryError::Empty]
    );
}

#[test]
fn ranges_at_the_ends_of_time_are_answered_or_refused_without_panicking() {
    let lengths = hourly();
    let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
    for length in lengths.all() {
        for (start, end) in [
            (min, min + chrono::Duration::days(1)),
            (min + chrono::Duration::seconds(1), max),
            (max - chrono::Duration::days(8), max),
        ] {
            match Query::new(&lengths, start, end, *length) {
                Ok(query) => {
                    let slots = query.slots(*length);
                    assert!(length.start(slots.start) >= start);
                    assert!(length.start(slots.end - 1) < end);
                }
                Err(errors) => {
                    assert!(errors.iter().all(|e| e.article() == Some(ART_7_2)));
                    assert!(errors.iter().all(|e| !e.to_string().is_empty()));
                }
            }
        }
    }
}

#[test]
fn a_request_covers_a_bounded_number_of_slots() {
    let lengths = hourly();
    assert_eq!(lengths.max_slots(SlotLength::HOUR), 2000);
    assert_eq!(lengths.max_slots(SlotLength::DAY), 420);
    assert_eq!(lengths.max_slots(SlotLength::WEEK), 60);
    let start = at(2026, 11, 30, 0, 0, 0);
    for (length, max) in [
        (SlotLength::HOUR, 2000),
        (SlotLength::DAY, 420),
        (SlotLength::WEEK, 60),
    ] {
        let end = |n: i64| start + chrono::Duration::seconds(n * length.seconds());
        let query = Query::new(&lengths, start, end(max), length).unwrap();
        assert_eq!(query.slots(length).count() as i64, max);
        let errors = Query::new(&lengths, start, end(max + 1), length).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field(), "time_range");
        assert!(
            errors[0]
                .to_string()
                .contains(&format!("more than the {max}"))
        );
    }
    // A one-minute slot still offers a week, one at a time.
    let minutes = SlotLengths::new(SlotLength::configured(60).unwrap());
    assert_eq!(minutes.max_slots(SlotLength::WEEK), 1);
}

#[test]
fn a_query_decides_every_length_up_to_its_own() {
    let lengths = SlotLengths::new(SlotLength::configured(1800).unwrap());
    let start = at(2026, 11, 30, 0, 0, 0);
    let query = Query::new(
        &lengths,
        start,
        start + chrono::Duration::days(14),
        SlotLength::DAY,
    )
    .unwrap();
    assert_eq!(query.length(), SlotLength::DAY);
    assert_eq!(
        query.levels(),
        [
            SlotLength::configured(1800).unwrap(),
            SlotLength::HOUR,
            SlotLength::DAY
        ]
    );
    assert_eq!(query.slots(SlotLength::DAY).count(), 14);
    assert_eq!(query.slots(SlotLength::HOUR).count(), 14 * 24);
}
