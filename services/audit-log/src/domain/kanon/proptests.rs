//! Art. 7(2), property: for random usage data and random valid queries —
//! pairs among them differing by one slot edge — every cell two answers
//! share is identical, no published cell counts fewer than k persons, and
//! no count below k follows from subtracting published cells of the same,
//! shorter or longer slot lengths. The database is stood in for by an
//! oracle counting as `crate::statistics` does: persons by a tag per person
//! and calendar month, the larger month's count where a slot spans two.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::domain::grid::{Query, SlotLength, SlotLengths};

const K: u32 = MIN_K;

/// Three weeks from Monday 2026-11-23; the second crosses into December.
fn window_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap()
}
const WINDOW_DAYS: i64 = 21;

#[derive(Debug, Clone, Copy)]
struct Record {
    at: DateTime<Utc>,
    person: Option<u8>,
    offering: i32,
    class: i32,
}

fn month(at: DateTime<Utc>) -> (i32, u32) {
    (at.year(), at.month())
}

fn records() -> impl Strategy<Value = Vec<Record>> {
    // Dense around the month's end, so that cells reach k and slots cross
    // the month boundary; sparse elsewhere.
    let day = prop_oneof![3 => 6..10i64, 1 => 0..WINDOW_DAYS];
    let hour = prop_oneof![3 => 9..12i64, 1 => 0..24i64];
    let record = (
        day,
        hour,
        0..3600i64,
        prop::option::weighted(0.95, 0..24u8),
        prop_oneof![3 => Just(1), 1 => Just(2)],
        prop_oneof![3 => Just(3), 1 => Just(1)],
    )
        .prop_map(|(day, hour, second, person, offering, class)| Record {
            at: window_start()
                + chrono::Duration::days(day)
                + chrono::Duration::hours(hour)
                + chrono::Duration::seconds(second),
            person,
            offering,
            class,
        });
    prop::collection::vec(record, 0..500)
}

/// What the database would count: persons per calendar month, the larger
/// month taken.
#[derive(Default)]
struct Tally {
    per_month: BTreeMap<(i32, u32), BTreeSet<u8>>,
    records: u64,
}

impl Tally {
    fn add(&mut self, record: &Record) {
        let persons = self.per_month.entry(month(record.at)).or_default();
        if let Some(person) = record.person {
            persons.insert(person);
        }
        self.records += 1;
    }

    fn persons(&self) -> u64 {
        self.per_month
            .values()
            .map(|s| s.len() as u64)
            .max()
            .unwrap_or(0)
    }
}

fn in_query(query: &Query, at: DateTime<Utc>) -> bool {
    at >= query.start() && at < query.end()
}

fn counted(query: &Query, data: &[Record]) -> Vec<(CellKey, Counts)> {
    let mut tallies: BTreeMap<CellKey, Tally> = BTreeMap::new();
    for record in data.iter().filter(|r| in_query(query, r.at)) {
        for &length in query.levels() {
            let key = CellKey {
                length,
                slot: length.slot_of(record.at),
                offering: record.offering,
                class: record.class,
            };
            tallies.entry(key).or_default().add(record);
        }
    }
    tallies
        .into_iter()
        .map(|(key, t)| {
            let counts = Counts {
                persons: t.persons(),
                records: t.records,
            };
            (key, counts)
        })
        .collect()
}

fn remainder_persons(
    query: &Query,
    data: &[Record],
    asked: &Remainders,
) -> HashMap<(i64, i32, i32), u64> {
    let wanted: BTreeSet<(i64, i32, i32)> = asked.cells.iter().copied().collect();
    let mut tallies: BTreeMap<(i64, i32, i32), Tally> = BTreeMap::new();
    for record in data.iter().filter(|r| in_query(query, r.at)) {
        let fine = (
            asked.finest.slot_of(record.at),
            record.offering,
            record.class,
        );
        if wanted.contains(&fine) {
            let parent = (
                asked.length.slot_of(record.at),
                record.offering,
                record.class,
            );
            tallies.entry(parent).or_default().add(record);
        }
    }
    tallies.into_iter().map(|(k, t)| (k, t.persons())).collect()
}

/// Every cell of every length `query` decides.
fn decide(query: &Query, data: &[Record]) -> Vec<Cell> {
    let mut plan = Plan::new(query, K, counted(query, data));
    while let Some(asked) = plan.pending() {
        plan.settle(&remainder_persons(query, data, &asked));
    }
    plan.all_cells().copied().collect()
}

fn span(cell: &Cell) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = cell.key.length.start(cell.key.slot);
    (start, start + cell.key.length.duration())
}

fn inside(inner: &Cell, outer: &Cell) -> bool {
    let ((a, b), (c, d)) = (span(inner), span(outer));
    inner.key.offering == outer.key.offering
        && inner.key.class == outer.key.class
        && c <= a
        && b <= d
}

/// The true distinct persons and the records of `data` in `cell`'s
/// offering and class, at instants `keep` accepts.
fn truth(data: &[Record], cell: &Cell, keep: impl Fn(DateTime<Utc>) -> bool) -> (u64, u64) {
    let (start, end) = span(cell);
    let mut persons = BTreeSet::new();
    let mut records = 0;
    for r in data {
        if r.offering == cell.key.offering
            && r.class == cell.key.class
            && r.at >= start
            && r.at < end
            && keep(r.at)
        {
            records += 1;
            if let Some(p) = r.person {
                persons.insert(p);
            }
        }
    }
    (persons.len() as u64, records)
}

/// `cell` minus the cells of `subtracted` (disjoint, inside it): nothing
/// left over and a difference of 0, or a difference that counts the
/// records of at least k persons.
fn check_difference(
    data: &[Record],
    cell: &Cell,
    subtracted: &[&Cell],
    finest: SlotLength,
) -> Result<(), TestCaseError> {
    let (start, end) = span(cell);
    let covered = |at: DateTime<Utc>| {
        subtracted.iter().any(|s| {
            let (a, b) = span(s);
            at >= a && at < b
        })
    };
    let mut leftover_slots = false;
    let mut at = start;
    while at < end {
        if !covered(at) {
            leftover_slots = true;
            break;
        }
        at += finest.duration();
    }
    let difference = cell.counts.records - subtracted.iter().map(|s| s.counts.records).sum::<u64>();
    let (persons, records) = truth(data, cell, |at| !covered(at));
    prop_assert_eq!(difference, records, "records add up");
    if leftover_slots {
        prop_assert!(
            persons >= u64::from(K),
            "{:?} minus {} published cells leaves {} records of {} persons",
            cell.key,
            subtracted.len(),
            records,
            persons
        );
    } else {
        prop_assert_eq!(difference, 0);
    }
    Ok(())
}

/// A valid query of `length` over slots `[first, first + count)` of the
/// window, if the grid allows it.
fn query(lengths: &SlotLengths, length: SlotLength, first: i64, count: i64) -> Option<Query> {
    let base = length.slot_of(window_start());
    let start = length.start(base + first);
    let end = length.start(base + first + count.max(1));
    Query::new(lengths, start, end, length).ok()
}

proptest! {
    #[test]
    fn shared_cells_agree_and_no_count_below_k_is_published_or_derivable(
        data in records(),
        finest in prop::sample::select(vec![1800i64, 3600, 7200, 86_400]),
        picks in prop::collection::vec((0usize..4, 0i64..600, 1i64..60, 0usize..4), 1..4),
    ) {
        let lengths = SlotLengths::new(SlotLength::configured(finest).unwrap());
        let week = SlotLength::WEEK;
        let whole = query(&lengths, week, 0, WINDOW_DAYS / 7).unwrap();
        let universe = decide(&whole, &data);
        let by_key: HashMap<CellKey, Cell> = universe.iter().map(|c| (c.key, *c)).collect();

        // No published cell of any length counts fewer than k persons.
        for cell in universe.iter().filter(|c| c.published()) {
            let (persons, _) = truth(&data, cell, |_| true);
            prop_assert!(cell.counts.persons >= u64::from(K) && persons >= u64::from(K), "{:?}", cell);
        }
        // No row or column of a slot's table holds one suppressed cell.
        prop_assert!(!derivable(&universe));

        // Random queries and their neighbours one slot edge away decide
        // every cell as the whole window does, so any two agree.
        for (which, first, count, edge) in picks {
            let length = lengths.all()[which % lengths.all().len()];
            let slots = whole.slots(length).count() as i64;
            let first = first % slots;
            let count = count.min(slots - first);
            let Some(asked) = query(&lengths, length, first, count) else { continue };
            let (a, b) = match edge {
                0 => (first - 1, count + 1),
                1 => (first + 1, count - 1),
                2 => (first, count + 1),
                _ => (first, count - 1),
            };
            let neighbour = (a >= 0 && b >= 1 && a + b <= slots)
                .then(|| query(&lengths, length, a, b))
                .flatten();
            let one = decide(&asked, &data);
            for cell in &one {
                prop_assert_eq!(Some(cell), by_key.get(&cell.key));
            }
            if let Some(neighbour) = neighbour {
                let other: HashMap<CellKey, Cell> =
                    decide(&neighbour, &data).into_iter().map(|c| (c.key, c)).collect();
                for cell in one.iter().filter(|c| c.key.length == length) {
                    if let Some(shared) = other.get(&cell.key) {
                        prop_assert_eq!(cell, shared);
                    }
                }
            }
        }

        // Subtracting published cells of shorter lengths — of one length,
        // or the longest published ones inside — leaves nothing or a group
        // of at least k persons.
        let published: Vec<&Cell> = universe.iter().filter(|c| c.published()).collect();
        for cell in published.iter().filter(|c| c.key.length > lengths.finest()) {
            let within: Vec<&Cell> = published
                .iter()
                .copied()
                .filter(|c| c.key.length < cell.key.length && inside(c, cell))
                .collect();
            for &length in lengths.all().iter().filter(|l| **l < cell.key.length) {
                let one_length: Vec<&Cell> =
                    within.iter().copied().filter(|c| c.key.length == length).collect();
                check_difference(&data, cell, &one_length, lengths.finest())?;
            }
            let maximal: Vec<&Cell> = within
                .iter()
                .copied()
                .filter(|c| !within.iter().any(|o| o.key.length > c.key.length && inside(c, o)))
                .collect();
            check_difference(&data, cell, &maximal, lengths.finest())?;
        }
    }
}
