//! Art. 7(2): k-anonymous usage statistics that cannot be differenced.
//!
//! A cell is one slot of the grid ([`super::grid`]), one offering and one
//! device class; it counts records and distinct persons. Three rules, each
//! decided from the data of the cell's own slot only:
//!
//! 1. **Below k** (`BelowK`): a cell of fewer than k distinct persons is
//!    suppressed — zero included: "nobody at 02:00" is as much a statement
//!    about a person as "one at 02:00".
//! 2. **Remainder** (`Complementary`, slots longer than the finest): a slot
//!    is the union of the shorter slots inside it, so a published coarse
//!    cell minus the published finer cells of its offering and class inside
//!    it gives the records of the rest exactly (records add up). A day's
//!    count minus 23 published hours would be the 24th hour. So a coarse
//!    cell is published only if its *remainder* — the finest cells under it
//!    not covered by a published cell of a shorter length — is empty or
//!    holds at least k distinct persons (counted in the database over the
//!    remainder's records, never estimated from the cells).
//! 3. **Table** (`Complementary`): within one slot's table (offerings ×
//!    device classes) no row and no column may hold exactly one suppressed
//!    cell, or a row or column total known from elsewhere would give it
//!    away; the smallest other published cell of such a line is suppressed
//!    too, until none is left alone. No totals are published.
//!
//! The lengths are decided finest first: a cell's decision needs those of
//! the shorter slots inside it, and nothing else.
//!
//! **Why two queries agree on every cell they share.** Counts are of whole
//! slots (the range is on the grid and never clips a slot), and rules 1-3
//! read only the counts of the cell's own slot and of the shorter slots
//! inside it. Nothing depends on the query's range or on its other slots,
//! so a cell is the same in every answer that holds it.
//!
//! **Why no count below k can be derived.** Fix an offering and a class.
//! For a published cell C let U(C) be its remainder (rule 2; for a finest
//! cell, C itself). Because the lengths nest, two slots are either nested
//! or disjoint, and every finest cell under a published C lies in U(E) of
//! exactly one published E ⊆ C: the shortest published cell containing it.
//! Hence records(C) = Σ records(U(E)) over the published E ⊆ C: every
//! published record count is a sum of remainder counts over disjoint
//! remainders, and conversely each remainder count is C minus its maximal
//! published sub-cells. What published record counts reveal by adding and
//! subtracting is therefore exactly the remainder counts and their sums,
//! and each remainder is empty or a group of at least k persons (rules 1
//! and 2). In particular, for any published C and any published cells S
//! inside it (of one length or several), C minus the union of S is empty or
//! contains a whole non-empty U(E) (E being the shortest published cell
//! around any finest cell left over, which no member of S can overlap), so
//! `records(C) − Σ records(S)` is 0 with nothing left over, or counts the
//! records of at least k persons. Person counts are distinct counts and do
//! not add up: a difference of them is not a count of anyone, only a lower
//! bound on the persons of the rest, which rule 2 makes at least k.
//!
//! What remains: published distinct counts of nested cells bound how many
//! persons appear in more than one of the shorter cells (an hour's and the
//! next hour's 10 persons against a day's 19 say that at least one person
//! came in both). That is a fact about an intersection of two groups of at
//! least k, not a count of a cell or of a union of cells; publishing one
//! length only would be the remedy.
//!
//! **The price.** A coarse cell whose shorter cells are all published
//! except empty ones is suppressed (its remainder holds no one, and the
//! difference would say so): a day whose every non-empty hour reaches k is
//! published by the hour, not the day. A remainder of at least k persons
//! makes the day publishable again.

use std::collections::HashMap;

use super::grid::{Query, SlotLength};

/// The smallest k the service accepts.
pub const MIN_K: u32 = 5;

/// The offerings of a table (mirrors `hellowork.scheduling.v1.Offering`).
pub const OFFERINGS: [i32; 5] = [1, 2, 3, 4, 5];
/// The device classes of a table (mirrors `DeviceClass` of the contract).
pub const CLASSES: [i32; 4] = [1, 2, 3, 4];
const ROWS: usize = OFFERINGS.len();
const COLUMNS: usize = CLASSES.len();
/// Cells of one slot's table.
const TABLE: usize = ROWS * COLUMNS;

/// Why a cell is not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    None,
    BelowK,
    Complementary,
}

/// What the database counted for one cell, over its whole slot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Distinct persons (a lower bound where a slot spans key periods).
    pub persons: u64,
    pub records: u64,
}

/// Where a cell is: a slot of a length, an offering and a device class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellKey {
    pub length: SlotLength,
    pub slot: i64,
    pub offering: i32,
    pub class: i32,
}

/// One decided cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub key: CellKey,
    pub counts: Counts,
    pub suppression: Suppression,
}

impl Cell {
    pub fn published(&self) -> bool {
        self.suppression == Suppression::None
    }
}

/// What the next length's rule 2 needs counted: the distinct persons, per
/// slot of `length`, offering and class, of the records in `cells`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remainders {
    /// The length being decided; persons are counted per slot of it.
    pub length: SlotLength,
    /// The finest length, the grid of `cells`.
    pub finest: SlotLength,
    /// Finest cells (slot, offering, class) holding records and covered by
    /// no published cell of a shorter length.
    pub cells: Vec<(i64, i32, i32)>,
}

/// Art. 7(2): the decision of one query's cells, length by length, finest
/// first. Pure: the caller counts ([`Plan::new`], [`Plan::pending`]) and
/// hands the counts in.
#[derive(Debug, Clone)]
pub struct Plan {
    k: u64,
    /// One per length of the query, finest first.
    levels: Vec<Level>,
    /// How many levels are decided.
    decided: usize,
    /// Per finest cell (same order as `levels[0].cells`): inside a
    /// published cell of a decided level.
    covered: Vec<bool>,
}

#[derive(Debug, Clone)]
struct Level {
    length: SlotLength,
    first: i64,
    /// Slot-major, then offering, then class: `TABLE` per slot.
    cells: Vec<Cell>,
}

fn position(offering: i32, class: i32) -> Option<usize> {
    let row = OFFERINGS.iter().position(|o| *o == offering)?;
    let column = CLASSES.iter().position(|c| *c == class)?;
    Some(row * COLUMNS + column)
}

impl Plan {
    /// The cells of every length of `query`, with the counts of `counted`
    /// (cells not counted hold nothing), and the finest length decided.
    pub fn new(
        query: &Query,
        k: u32,
        counted: impl IntoIterator<Item = (CellKey, Counts)>,
    ) -> Self {
        debug_assert!(k >= MIN_K);
        let levels: Vec<Level> = query
            .levels()
            .iter()
            .map(|&length| {
                let slots = query.slots(length);
                let mut cells = Vec::with_capacity(slots.clone().count() * TABLE);
                for slot in slots.clone() {
                    for offering in OFFERINGS {
                        for class in CLASSES {
                            cells.push(Cell {
                                key: CellKey {
                                    length,
                                    slot,
                                    offering,
                                    class,
                                },
                                counts: Counts::default(),
                                suppression: Suppression::None,
                            });
                        }
                    }
                }
                Level {
                    length,
                    first: slots.start,
                    cells,
                }
            })
            .collect();
        let covered = vec![false; levels[0].cells.len()];
        let mut plan = Self {
            k: u64::from(k),
            levels,
            decided: 0,
            covered,
        };
        for (key, counts) in counted {
            let index = plan.index(&key);
            debug_assert!(index.is_some(), "counted outside the query: {key:?}");
            if let Some((level, i)) = index {
                plan.levels[level].cells[i].counts = counts;
            }
        }
        plan.decide(&HashMap::new());
        plan
    }

    fn index(&self, key: &CellKey) -> Option<(usize, usize)> {
        let level = self.levels.iter().position(|l| l.length == key.length)?;
        let relative = usize::try_from(key.slot - self.levels[level].first).ok()?;
        let i = relative * TABLE + position(key.offering, key.class)?;
        (i < self.levels[level].cells.len()).then_some((level, i))
    }

    /// What must be counted before the next length can be decided; `None`
    /// once every length is.
    pub fn pending(&self) -> Option<Remainders> {
        let level = self.levels.get(self.decided)?;
        let finest = &self.levels[0];
        let cells = finest
            .cells
            .iter()
            .zip(&self.covered)
            .filter(|(cell, covered)| !**covered && cell.counts.records > 0)
            .map(|(cell, _)| (cell.key.slot, cell.key.offering, cell.key.class))
            .collect();
        Some(Remainders {
            length: level.length,
            finest: finest.length,
            cells,
        })
    }

    /// Decides the next length, given the persons of the remainders asked
    /// for by [`Plan::pending`], by (slot, offering, class); absent means
    /// none.
    pub fn settle(&mut self, persons: &HashMap<(i64, i32, i32), u64>) {
        assert!(self.decided < self.levels.len(), "every length is decided");
        self.decide(persons);
    }

    fn decide(&mut self, remainders: &HashMap<(i64, i32, i32), u64>) {
        let k = self.k;
        let level = self.decided;
        let ratio =
            (self.levels[level].length.seconds() / self.levels[0].length.seconds()) as usize;
        let covered = &mut self.covered;
        let cells = &mut self.levels[level].cells;
        // Finest cells under the cell at `i` of this level.
        let under = |i: usize| {
            let (slot, place) = (i / TABLE, i % TABLE);
            (slot * ratio..(slot + 1) * ratio).map(move |fine| fine * TABLE + place)
        };
        for (i, cell) in cells.iter_mut().enumerate() {
            cell.suppression = if cell.counts.persons < k {
                Suppression::BelowK
            } else if level > 0
                && under(i).any(|fine| !covered[fine])
                && remainders
                    .get(&(cell.key.slot, cell.key.offering, cell.key.class))
                    .copied()
                    .unwrap_or(0)
                    < k
            {
                Suppression::Complementary
            } else {
                Suppression::None
            };
        }
        for table in cells.chunks_mut(TABLE) {
            complement(table);
        }
        for (i, cell) in cells.iter().enumerate() {
            if cell.published() {
                for fine in under(i) {
                    covered[fine] = true;
                }
            }
        }
        self.decided += 1;
    }

    /// The cells of the requested length, once every length is decided.
    pub fn into_cells(mut self) -> Vec<Cell> {
        assert_eq!(self.decided, self.levels.len(), "lengths left undecided");
        self.levels.pop().map(|l| l.cells).unwrap_or_default()
    }

    /// Every decided cell of every length (the finer ones a coarse
    /// decision looked at too).
    pub fn all_cells(&self) -> impl Iterator<Item = &Cell> {
        self.levels[..self.decided].iter().flat_map(|l| &l.cells)
    }
}

/// The cells of line `n` of a table: rows first, then columns.
fn line(n: usize) -> Vec<usize> {
    if n < ROWS {
        (0..COLUMNS).map(|c| n * COLUMNS + c).collect()
    } else {
        (0..ROWS).map(|r| r * COLUMNS + (n - ROWS)).collect()
    }
}

/// Rule 3 on one slot's table: no row or column holds exactly one
/// suppressed cell.
fn complement(table: &mut [Cell]) {
    debug_assert_eq!(table.len(), TABLE);
    loop {
        let mut changed = false;
        for n in 0..ROWS + COLUMNS {
            let members = line(n);
            let suppressed = members.iter().filter(|&&i| !table[i].published()).count();
            if suppressed != 1 {
                continue;
            }
            let smallest = members
                .iter()
                .copied()
                .filter(|&i| table[i].published())
                .min_by_key(|&i| (table[i].counts.persons, table[i].counts.records, i));
            if let Some(i) = smallest {
                table[i].suppression = Suppression::Complementary;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Whether some suppressed cell is alone in its row or column of its
/// slot's table (and so derivable from a total); used by tests.
pub fn derivable(cells: &[Cell]) -> bool {
    let mut lines: HashMap<(SlotLength, i64, bool, i32), usize> = HashMap::new();
    for cell in cells {
        let suppressed = usize::from(!cell.published());
        let key = cell.key;
        *lines
            .entry((key.length, key.slot, true, key.offering))
            .or_default() += suppressed;
        *lines
            .entry((key.length, key.slot, false, key.class))
            .or_default() += suppressed;
    }
    lines.values().any(|&n| n == 1)
}

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
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
        let hour = |day: DateTime<Utc>, h: i64| {
            key(SlotLength::HOUR, day + chrono::Duration::hours(h), 1, PC)
        };
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
}
