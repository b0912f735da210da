//! Art. 7(2): usage statistics that cannot be differenced, through the gRPC
//! API against real PostgreSQL — ranges on the slot grid of an offered
//! length or refused naming the field; whole slots counted, so overlapping
//! queries agree on every cell they share; a day published only when what
//! its published hours leave over holds k persons; persons of a week across
//! a month boundary counted once; and the differencing test: every pair of
//! queries that differ by a second or a slot edge is refused or yields no
//! cell below k and no difference below k.

mod support;

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, TimeZone, Utc, Weekday};
use hellowork_platform::Role;
use hellowork_proto::auditlog::v1 as proto;
use support::{World, named, range, record};
use tonic_types::StatusExt;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;
const K: u64 = 10;
const PC: i32 = proto::DeviceClass::Pc as i32;
const SUPPRESSED_BELOW_K: i32 = proto::CellSuppression::BelowK as i32;
const COMPLEMENTARY: i32 = proto::CellSuppression::Complementary as i32;
const PUBLISHED: i32 = proto::CellSuppression::None as i32;

fn floor(at: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp().div_euclid(seconds) * seconds, 0).unwrap()
}

fn monday_of(at: DateTime<Utc>) -> DateTime<Utc> {
    let day = floor(at, DAY);
    day - Duration::days(i64::from(day.weekday().num_days_from_monday()))
}

/// `n` persons named `{prefix}{i}` on PCs for counselling, at `at` plus `i`
/// seconds.
fn people(prefix: &str, n: usize, at: DateTime<Utc>) -> Vec<(String, DateTime<Utc>)> {
    (0..n)
        .map(|i| {
            (
                named(&format!("{prefix}{i}")),
                at + Duration::seconds(i as i64),
            )
        })
        .collect()
}

/// Records `usages` (person, time) through `RecordUsageBatch` and waits
/// for the log (empty before) to hold them.
async fn recorded(world: &World, usages: &[(String, DateTime<Utc>)]) {
    let records: Vec<_> = usages
        .iter()
        .map(|(person, at)| record(person, &format!("device-{person}"), "198.51.100.7", *at))
        .collect();
    world
        .client
        .clone()
        .record_usage_batch(world.req(
            futures::stream::iter(vec![proto::RecordUsageBatchRequest { records }]),
            "system:front",
            Role::System,
        ))
        .await
        .unwrap();
    world.settled(usages.len() as i64).await;
}

async fn statistics(
    world: &World,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    length: Option<i64>,
) -> Result<proto::GetUsageStatisticsResponse, tonic::Status> {
    let request = proto::GetUsageStatisticsRequest {
        time_range: Some(range(start, end)),
        slot_length: length.map(|seconds| prost_types::Duration { seconds, nanos: 0 }),
    };
    world
        .client
        .clone()
        .get_usage_statistics(world.req(request, "auditor", Role::Auditor))
        .await
        .map(tonic::Response::into_inner)
}

/// A cell's place: slot start, slot length, offering, device class.
type Place = (i64, i64, i32, i32);

fn place(cell: &proto::UsageStatisticsCell) -> Place {
    let slot = cell.time_slot.as_ref().unwrap();
    let start = slot.start_time.unwrap().seconds;
    (
        start,
        slot.end_time.unwrap().seconds - start,
        cell.offering,
        cell.device_class,
    )
}

/// The counselling-on-a-PC cell of the slot starting at `start`.
fn counselling_pc(
    answer: &proto::GetUsageStatisticsResponse,
    start: DateTime<Utc>,
) -> proto::UsageStatisticsCell {
    answer
        .cells
        .iter()
        .find(|c| {
            c.offering == 1
                && c.device_class == PC
                && c.time_slot.as_ref().unwrap().start_time.unwrap().seconds == start.timestamp()
        })
        .copied()
        .unwrap_or_else(|| panic!("no cell at {start}: {answer:?}"))
}

fn violations(status: &tonic::Status) -> Vec<(String, String)> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    status
        .get_error_details()
        .bad_request()
        .expect("field violations")
        .field_violations
        .iter()
        .map(|v| (v.field.clone(), v.description.clone()))
        .collect()
}

#[tokio::test]
async fn ranges_off_the_grid_lengths_not_offered_and_too_many_slots_are_refused_naming_the_field() {
    let world = World::start().await;
    let hour = floor(Utc::now(), HOUR) - Duration::days(1);
    let second = Duration::seconds(1);
    // Start, end, length, the fields named, what each violation says.
    type Case<'a> = (
        DateTime<Utc>,
        DateTime<Utc>,
        Option<i64>,
        Vec<&'a str>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            hour + second,
            hour + Duration::hours(2),
            None,
            vec!["time_range.start_time"],
            "1h slot grid",
        ),
        (
            hour,
            hour + Duration::hours(2) - second,
            None,
            vec!["time_range.end_time"],
            "1h slot grid",
        ),
        (
            hour + second,
            hour + Duration::hours(2) + second,
            Some(HOUR),
            vec!["time_range.start_time", "time_range.end_time"],
            "Art. 7(2)",
        ),
        (
            hour + Duration::nanoseconds(1),
            hour + Duration::hours(1),
            None,
            vec!["time_range.start_time"],
            "1970-01-01T00:00:00Z",
        ),
        (
            floor(hour, DAY) + Duration::hours(1),
            floor(hour, DAY) + Duration::days(1),
            Some(DAY),
            vec!["time_range.start_time"],
            "1d slot grid",
        ),
        (
            monday_of(hour) + Duration::days(1),
            monday_of(hour) + Duration::days(8),
            Some(WEEK),
            vec!["time_range.start_time", "time_range.end_time"],
            "Monday",
        ),
        (
            hour,
            hour + Duration::hours(2),
            Some(1800),
            vec!["slot_length"],
            "1h, 1d or 7d",
        ),
        (
            hour,
            hour + Duration::hours(2),
            Some(2 * HOUR),
            vec!["slot_length"],
            "1h, 1d or 7d",
        ),
        (
            hour - Duration::hours(2000),
            hour + Duration::hours(1),
            None,
            vec!["time_range"],
            "more than the 2000",
        ),
        (
            monday_of(hour) - Duration::weeks(60),
            monday_of(hour) + Duration::weeks(1),
            Some(WEEK),
            vec!["time_range"],
            "more than the 60",
        ),
    ];
    for (start, end, length, fields, says) in cases {
        let status = statistics(&world, start, end, length).await.unwrap_err();
        let found = violations(&status);
        let named: Vec<&str> = found.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(named, fields, "{start} – {end} in {length:?}: {found:?}");
        assert!(
            found.iter().all(|(_, d)| d.contains(says)),
            "{says:?} in {found:?}"
        );
    }
    // The longest ranges allowed are answered, with every cell of the grid.
    let answer = statistics(
        &world,
        hour - Duration::hours(1999),
        hour + Duration::hours(1),
        None,
    )
    .await
    .unwrap();
    assert_eq!(answer.cells.len(), 2000 * 20);
    assert_eq!(answer.slot_length.unwrap().seconds, HOUR);
    let weeks = statistics(
        &world,
        monday_of(hour) - Duration::weeks(59),
        monday_of(hour) + Duration::weeks(1),
        Some(WEEK),
    )
    .await
    .unwrap();
    assert_eq!(weeks.cells.len(), 60 * 20);
}

#[tokio::test]
async fn whole_slots_are_counted_so_overlapping_queries_agree_on_every_cell_they_share() {
    let world = World::start().await;
    let h = floor(Utc::now(), HOUR) - Duration::hours(3);
    let mut usages = people("early", 12, h + Duration::minutes(10));
    // The last second of the slot and the first of the next.
    usages.extend(people(
        "late",
        1,
        h + Duration::hours(1) - Duration::seconds(1),
    ));
    usages.extend(people("next", 2, h + Duration::hours(1)));
    recorded(&world, &usages).await;
    let mut seen: HashMap<Place, proto::UsageStatisticsCell> = HashMap::new();
    for (from, to) in [(0, 1), (-1, 1), (0, 2), (-2, 3), (1, 2)] {
        let answer = statistics(
            &world,
            h + Duration::hours(from),
            h + Duration::hours(to),
            None,
        )
        .await
        .unwrap();
        assert_eq!(answer.cells.len() as i64, (to - from) * 20);
        for cell in answer.cells {
            if let Some(before) = seen.insert(place(&cell), cell) {
                assert_eq!(before, cell, "two answers differ on a shared cell");
            }
        }
    }
    let whole = &seen[&(h.timestamp(), HOUR, 1, PC)];
    assert_eq!(whole.suppression, PUBLISHED);
    assert_eq!(
        (whole.person_count, whole.record_count),
        (Some(13), Some(13))
    );
    let next = &seen[&(h.timestamp() + HOUR, HOUR, 1, PC)];
    assert_eq!(next.suppression, SUPPRESSED_BELOW_K);
    assert_eq!((next.person_count, next.record_count), (None, None));
}

#[tokio::test]
async fn a_day_is_published_only_when_what_its_published_hours_leave_over_holds_k_persons() {
    let world = World::start().await;
    let small = floor(Utc::now(), DAY) - Duration::days(2);
    let large = small - Duration::days(1);
    // A published hour and two persons beside it: day minus hour would
    // count them.
    let mut usages = people("a", 10, small + Duration::hours(10));
    usages.extend(people("b", 2, small + Duration::hours(14)));
    // A published hour and twelve persons over three small hours.
    usages.extend(people("c", 10, large + Duration::hours(10)));
    for h in 13..16 {
        usages.extend(people(&format!("d{h}-"), 4, large + Duration::hours(h)));
    }
    recorded(&world, &usages).await;
    let hours = statistics(&world, large, small + Duration::days(1), None)
        .await
        .unwrap();
    for day in [small, large] {
        let ten = counselling_pc(&hours, day + Duration::hours(10));
        assert_eq!((ten.suppression, ten.person_count), (PUBLISHED, Some(10)));
    }
    assert_eq!(
        counselling_pc(&hours, small + Duration::hours(14)).suppression,
        SUPPRESSED_BELOW_K
    );
    let days = statistics(&world, large, small + Duration::days(1), Some(DAY))
        .await
        .unwrap();
    assert_eq!(days.slot_length.unwrap().seconds, DAY);
    let cell = counselling_pc(&days, small);
    assert_eq!(cell.suppression, COMPLEMENTARY, "{cell:?}");
    assert_eq!((cell.person_count, cell.record_count), (None, None));
    let cell = counselling_pc(&days, large);
    assert_eq!(cell.suppression, PUBLISHED, "{cell:?}");
    assert_eq!((cell.person_count, cell.record_count), (Some(22), Some(22)));
    // Published day minus published hour: twelve records of twelve persons.
    assert!(cell.record_count.unwrap() - 10 >= K);
}

/// The most recent first of a month, a day or more ago, whose eve and
/// morrow are in its week (Tuesday to Saturday).
fn recent_month_start() -> DateTime<Utc> {
    let now = Utc::now();
    let mut month = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .unwrap();
    loop {
        let in_week = !matches!(month.weekday(), Weekday::Mon | Weekday::Sun);
        if in_week && month + Duration::days(2) < now {
            return month;
        }
        month = Utc
            .with_ymd_and_hms(
                (month - Duration::days(1)).year(),
                (month - Duration::days(1)).month(),
                1,
                0,
                0,
                0,
            )
            .unwrap();
    }
}

#[tokio::test]
async fn persons_of_a_week_across_a_month_boundary_are_counted_once() {
    let world = World::start().await;
    let first = recent_month_start();
    let eve = first - Duration::days(1);
    let morrow = first + Duration::days(1);
    // p0..p5 on the eve and again on the first (a new tag each month);
    // p0..p8 on the first, p9 and p10 on the morrow: eleven persons.
    let mut usages = people("p", 6, eve + Duration::hours(10));
    usages.extend(people("p", 9, first + Duration::hours(10)));
    usages.extend(
        people("q", 2, morrow + Duration::hours(10))
            .into_iter()
            .enumerate()
            .map(|(i, (_, at))| (named(&format!("p{}", 9 + i)), at)),
    );
    recorded(&world, &usages).await;
    let week = monday_of(first);
    let answer = statistics(&world, week, week + Duration::weeks(1), Some(WEEK))
        .await
        .unwrap();
    let cell = counselling_pc(&answer, week);
    // Counting tags would say 6 + 11 = 17 persons; per month and the
    // larger month, 11 — here exactly the truth.
    assert_eq!(cell.suppression, PUBLISHED, "{cell:?}");
    assert_eq!((cell.person_count, cell.record_count), (Some(11), Some(17)));
    let days = statistics(&world, eve, morrow + Duration::days(1), Some(DAY))
        .await
        .unwrap();
    for day in [eve, first, morrow] {
        assert_eq!(counselling_pc(&days, day).suppression, SUPPRESSED_BELOW_K);
    }
}

/// The differencing test. Ten persons in one hour (exactly k), one in the
/// hour's last second before it and one on the first second after it, all
/// counselling on a PC. Every query of every offered length whose edges
/// are on the grid or one second off it: those off the grid are refused;
/// the others publish no cell below k, agree on every cell they share, and
/// no published cell minus the published shorter cells inside it leaves a
/// count between 1 and k − 1.
#[tokio::test]
async fn every_pair_of_queries_differing_by_a_second_or_a_slot_edge_is_refused_or_yields_no_cell_below_k()
 {
    let world = World::start().await;
    let day = floor(Utc::now(), DAY) - Duration::days(2);
    let ten = day + Duration::hours(10);
    let mut usages = people("k", 10, ten + Duration::minutes(5));
    usages.push((named("before"), ten - Duration::seconds(1)));
    usages.push((named("after"), ten + Duration::hours(1)));
    recorded(&world, &usages).await;

    let second = Duration::seconds(1);
    let week = monday_of(day);
    let edges =
        |at: DateTime<Utc>, slot: Duration| [at - slot, at - second, at, at + second, at + slot];
    let mut queries = Vec::new();
    for (length, start, end) in [
        (HOUR, ten, ten + Duration::hours(1)),
        (DAY, day, day + Duration::days(1)),
        (WEEK, week, week + Duration::weeks(1)),
    ] {
        let slot = Duration::seconds(length);
        for a in edges(start, slot) {
            for b in edges(end, slot) {
                queries.push((length, a, b));
            }
        }
    }
    let mut published: HashMap<Place, (u64, u64)> = HashMap::new();
    let mut seen: HashMap<Place, proto::UsageStatisticsCell> = HashMap::new();
    let mut answered = 0;
    for &(length, start, end) in &queries {
        let on_grid = |at: DateTime<Utc>| {
            let origin = if length == WEEK { 4 * DAY } else { 0 };
            (at.timestamp() - origin).rem_euclid(length) == 0
        };
        match statistics(&world, start, end, Some(length)).await {
            Err(status) => {
                let valid = on_grid(start) && on_grid(end) && start < end;
                assert!(!valid, "refused: {status:?}");
                assert!(!violations(&status).is_empty());
            }
            Ok(answer) => {
                assert!(on_grid(start) && on_grid(end), "answered off the grid");
                assert!(start < end);
                answered += 1;
                for cell in answer.cells {
                    if cell.suppression == PUBLISHED {
                        assert!(cell.person_count.unwrap() >= K, "{cell:?}");
                        published.insert(
                            place(&cell),
                            (cell.person_count.unwrap(), cell.record_count.unwrap()),
                        );
                    } else {
                        assert_eq!((cell.person_count, cell.record_count), (None, None));
                    }
                    if let Some(before) = seen.insert(place(&cell), cell) {
                        assert_eq!(before, cell, "two answers differ on a shared cell");
                    }
                }
            }
        }
    }
    // Of the nine on-grid pairs of each length, six have start before end.
    assert_eq!(answered, 3 * 6, "the valid queries of each length");
    // The hour of exactly k persons is published; what lies beside it
    // (one person each) is not, nor the day or the week that would give
    // it away by subtraction.
    assert_eq!(
        published.get(&(ten.timestamp(), HOUR, 1, PC)),
        Some(&(10, 10))
    );
    for (at, length, why) in [
        (ten - Duration::hours(1), HOUR, SUPPRESSED_BELOW_K),
        (ten + Duration::hours(1), HOUR, SUPPRESSED_BELOW_K),
        (day, DAY, COMPLEMENTARY),
        (week, WEEK, COMPLEMENTARY),
    ] {
        let cell = &seen[&(at.timestamp(), length, 1, PC)];
        assert_eq!(cell.suppression, why, "{cell:?}");
    }
    // Differences of published cells: nothing below k.
    for (&(start, length, offering, class), &(_, records)) in &published {
        for shorter in [HOUR, DAY].into_iter().filter(|l| *l < length) {
            let inside: u64 = published
                .iter()
                .filter(|((s, l, o, c), _)| {
                    *l == shorter
                        && *o == offering
                        && *c == class
                        && *s >= start
                        && *s < start + length
                })
                .map(|(_, &(_, r))| r)
                .sum();
            let difference = records - inside;
            assert!(
                difference == 0 || difference >= K,
                "a published {length}s cell minus its published {shorter}s cells leaves {difference}"
            );
        }
    }
}
