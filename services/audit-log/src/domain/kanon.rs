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
mod tests;
