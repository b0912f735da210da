//! k-anonymity on given cells: below k, complementary suppression along a
//! row and a column, the remainders longer slots leave over their published
//! shorter ones, and a cell decided alike in every query that holds it.

use super::*;
use crate::domain::grid::SlotLengths;
use chrono::{DateTime, TimeZone, Utc};

const K: u32 = 10;
const PC: i32 = 3;

fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
}

fn query(length: SlotLength, slots: i64) -> Query {
    let lengths = SlotLengths::new(SlotLength::HOUR);
    let end = monday() + chrono::Duration::seconds(slots * length.seconds());
    Query::new(&lengths, monday(), end, length).unwrap()
}

fn key(length: SlotLength, at: DateTime<Utc>, offering: i32, class: i32) -> CellKey {
    CellKey {
        length,
        slot: length.slot_of(at),
        offering,
        class,
    }
}

fn counts(persons: u64) -> Counts {
    Counts {
        persons,
        records: persons * 2,
    }
}

/// One slot's table from a 5 × 4 grid of person counts.
fn table(persons: [[u64; 4]; 5]) -> Vec<Cell> {
    let mut cells = Vec::new();
    for (row, line) in persons.iter().enumerate() {
        for (column, &p) in line.iter().enumerate() {
            let published = p >= u64::from(K);
            cells.push(Cell {
                key: key(SlotLength::HOUR, monday(), OFFERINGS[row], CLASSES[column]),
                counts: counts(p),
                suppression: if published {
                    Suppression::None
                } else {
                    Suppression::BelowK
                },
            });
        }
    }
    cells
}

fn the(cells: &[Cell], at: DateTime<Utc>, length: SlotLength) -> Cell {
    *cells
        .iter()
        .find(|c| c.key == key(length, at, 1, PC))
        .unwrap()
}

#[test]
fn a_lone_small_cell_takes_the_next_smallest_of_its_row_and_column_with_it() {
    let mut cells = table([
        [20, 3, 30, 40],
        [40, 50, 60, 70],
        [70, 80, 90, 95],
        [11, 12, 13, 14],
        [21, 22, 23, 24],
    ]);
    complement(&mut cells);
    assert_eq!(cells[1].suppression, Suppression::BelowK);
    assert!(!derivable(&cells));
    // Row 0 took its smallest other cell (20), column 1 its smallest (12).
    assert_eq!(cells[0].suppression, Suppression::Complementary);
    assert_eq!(cells[13].suppression, Suppression::Complementary);
    assert!(
        cells
            .iter()
            .all(|c| !c.published() || c.counts.persons >= 10)
    );
}

#[test]
fn nothing_is_suppressed_when_every_cell_reaches_k() {
    let mut cells = table([[10, 11, 12, 13]; 5]);
    complement(&mut cells);
    assert!(cells.iter().all(Cell::published));
}

#[test]
fn the_finest_cells_are_decided_at_once_every_other_cell_suppressed() {
    let hour = monday() + chrono::Duration::hours(10);
    let plan = Plan::new(
        &query(SlotLength::HOUR, 24),
        K,
        [(key(SlotLength::HOUR, hour, 1, PC), counts(12))],
    );
    assert!(plan.pending().is_none());
    let cells = plan.into_cells();
    assert_eq!(cells.len(), 24 * 20);
    assert_eq!(
        the(&cells, hour, SlotLength::HOUR).suppression,
        Suppression::None
    );
    // Zero is below k; the rest of its row and column are empty too.
    assert_eq!(cells.iter().filter(|c| c.published()).count(), 1);
    assert!(!derivable(&cells));
}

/// The brief's case: a day minus 23 published hours is the 24th hour.
#[test]
fn a_day_is_not_published_when_its_hours_leave_fewer_than_k_persons_over() {
    let day = monday();
    let mut counted = vec![(key(SlotLength::DAY, day, 1, PC), counts(40))];
    for h in 0..23 {
        let at = day + chrono::Duration::hours(h);
        counted.push((key(SlotLength::HOUR, at, 1, PC), counts(10)));
    }
    let last = day + chrono::Duration::hours(23);
    counted.push((key(SlotLength::HOUR, last, 1, PC), counts(2)));
    let mut plan = Plan::new(&query(SlotLength::DAY, 1), K, counted);
    let pending = plan.pending().unwrap();
    assert_eq!(pending.length, SlotLength::DAY);
    // Only the 24th hour is left over.
    assert_eq!(pending.cells, [(SlotLength::HOUR.slot_of(last), 1, PC)]);
    plan.settle(&HashMap::from([((SlotLength::DAY.slot_of(day), 1, PC), 2)]));
    let hours: Vec<Cell> = plan.all_cells().copied().collect();
    assert_eq!(
        the(&hours, last, SlotLength::HOUR).suppression,
        Suppression::BelowK
    );
    let cells = plan.into_cells();
    assert_eq!(
        the(&cells, day, SlotLength::DAY).suppression,
        Suppression::Complementary
    );
}

#[test]
fn a_day_is_published_when_what_its_published_hours_leave_over_holds_k_persons() {
    let day = monday();
    let ten = day + chrono::Duration::hours(10);
    let counted = vec![
        (key(SlotLength::DAY, day, 1, PC), counts(25)),
        (key(SlotLength::HOUR, ten, 1, PC), counts(12)),
        (
            key(SlotLength::HOUR, ten + chrono::Duration::hours(1), 1, PC),
            counts(7),
        ),
        (
            key(SlotLength::HOUR, ten + chrono::Duration::hours(2), 1, PC),
            counts(8),
        ),
    ];
    let mut plan = Plan::new(&query(SlotLength::DAY, 1), K, counted);
    assert_eq!(plan.pending().unwrap().cells.len(), 2);
    plan.settle(&HashMap::from([(
        (SlotLength::DAY.slot_of(day), 1, PC),
        13,
    )]));
    let cells = plan.into_cells();
    let cell = the(&cells, day, SlotLength::DAY);
    assert_eq!(cell.suppression, Suppression::None);
    assert_eq!(cell.counts.persons, 25);
}

#[test]
fn a_day_of_small_hours_only_is_its_own_remainder() {
    let day = monday();
    let mut counted = vec![(key(SlotLength::DAY, day, 1, PC), counts(15))];
    for h in 9..14 {
        let at = day + chrono::Duration::hours(h);
        counted.push((key(SlotLength::HOUR, at, 1, PC), counts(3)));
    }
    let mut plan = Plan::new(&query(SlotLength::DAY, 1), K, counted);
    assert_eq!(plan.pending().unwrap().cells.len(), 5);
    plan.settle(&HashMap::from([(
        (SlotLength::DAY.slot_of(day), 1, PC),
        15,
    )]));
    assert!(the(&plan.into_cells(), day, SlotLength::DAY).published());
}

#[test]
fn a_day_whose_published_hours_leave_only_empty_ones_is_suppressed() {
    let day = monday();
    let mut counted = vec![(key(SlotLength::DAY, day, 1, PC), counts(30))];
    for h in 9..17 {
        let at = day + chrono::Duration::hours(h);
        counted.push((key(SlotLength::HOUR, at, 1, PC), counts(10)));
    }
    let mut plan = Plan::new(&query(SlotLength::DAY, 1), K, counted);
    // Nothing with records is left over; the empty hours are.
    assert!(plan.pending().unwrap().cells.is_empty());
    plan.settle(&HashMap::new());
    assert_eq!(
        the(&plan.into_cells(), day, SlotLength::DAY).suppression,
        Suppression::Complementary
    );
}

#[test]
fn a_day_tiled_by_published_hours_is_published() {
    let day = monday();
    let mut counted = vec![(key(SlotLength::DAY, day, 1, PC), counts(30))];
    for h in 0..24 {
        let at = day + chrono::Duration::hours(h);
        counted.push((key(SlotLength::HOUR, at, 1, PC), counts(10)));
    }
    let mut plan = Plan::new(&query(SlotLength::DAY, 1), K, counted);
    plan.settle(&HashMap::new());
    assert!(the(&plan.into_cells(), day, SlotLength::DAY).published());
}

#[test]
fn a_week_looks_through_its_days_to_the_hours_they_do_not_cover() {
    let week = monday();
    let tuesday = week + chrono::Duration::days(1);
    let hour =
        |day: DateTime<Utc>, h: i64| key(SlotLength::HOUR, day + chrono::Duration::hours(h), 1, PC);
    let counted = vec![
        (key(SlotLength::WEEK, week, 1, PC), counts(40)),
        // Monday: a published hour, and enough persons left over for
        // the day.
        (hour(week, 10), counts(20)),
        (hour(week, 11), counts(4)),
        (hour(week, 12), counts(8)),
        (key(SlotLength::DAY, week, 1, PC), counts(30)),
        // Tuesday: a published hour, and too few left over for the day.
        (hour(tuesday, 10), counts(10)),
        (hour(tuesday, 11), counts(4)),
        (key(SlotLength::DAY, tuesday, 1, PC), counts(14)),
    ];
    let mut plan = Plan::new(&query(SlotLength::WEEK, 1), K, counted);
    let days = plan.pending().unwrap();
    assert_eq!(days.length, SlotLength::DAY);
    assert_eq!(days.cells.len(), 3);
    plan.settle(&HashMap::from([
        ((SlotLength::DAY.slot_of(week), 1, PC), 12),
        ((SlotLength::DAY.slot_of(tuesday), 1, PC), 4),
    ]));
    let weeks = plan.pending().unwrap();
    assert_eq!(weeks.length, SlotLength::WEEK);
    // Only Tuesday 11:00 is left over: Monday is covered by its day,
    // Tuesday 10:00 by its hour.
    let eleven = hour(tuesday, 11).slot;
    assert_eq!(weeks.cells, [(eleven, 1, PC)]);
    plan.settle(&HashMap::from([(
        (SlotLength::WEEK.slot_of(week), 1, PC),
        4,
    )]));
    let decided: Vec<Cell> = plan.all_cells().copied().collect();
    assert!(the(&decided, week, SlotLength::DAY).published());
    assert_eq!(
        the(&decided, tuesday, SlotLength::DAY).suppression,
        Suppression::Complementary
    );
    assert_eq!(
        the(&plan.into_cells(), week, SlotLength::WEEK).suppression,
        Suppression::Complementary
    );
}

#[test]
fn a_cell_is_decided_alike_in_every_query_that_holds_it() {
    let day = monday() + chrono::Duration::days(1);
    let counted = |q: &Query| {
        let mut counted = Vec::new();
        for length in q.levels() {
            for slot in q.slots(*length) {
                let at = length.start(slot);
                let n = if at >= day && at < day + chrono::Duration::days(1) {
                    11
                } else {
                    3
                };
                counted.push((key(*length, at, 1, PC), counts(n)));
            }
        }
        counted
    };
    let short = Query::new(
        &SlotLengths::new(SlotLength::HOUR),
        day,
        day + chrono::Duration::days(1),
        SlotLength::DAY,
    )
    .unwrap();
    let long = query(SlotLength::DAY, 3);
    let decide = |q: &Query| {
        let mut plan = Plan::new(q, K, counted(q));
        while plan.pending().is_some() {
            plan.settle(&HashMap::new());
        }
        plan.into_cells()
    };
    let (a, b) = (decide(&short), decide(&long));
    assert_eq!(the(&a, day, SlotLength::DAY), the(&b, day, SlotLength::DAY));
    for cell in &a {
        assert_eq!(Some(cell), b.iter().find(|c| c.key == cell.key));
    }
}
