//! Art. 7(2): k-anonymous usage statistics. A cell backed by fewer than k
//! distinct persons is suppressed (`BelowK`); then, within every table (one
//! time slot: offerings × device classes), no row and no column may hold
//! exactly one suppressed cell, or it could be derived from that row's or
//! column's total — so the smallest other published cell of such a row or
//! column is suppressed too (`Complementary`), until none is left alone.
//! No totals are published.

use std::collections::BTreeMap;

/// The smallest k the service accepts.
pub const MIN_K: u32 = 5;

/// Why a cell is not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppression {
    None,
    BelowK,
    Complementary,
}

/// One cell of one table: `row` and `column` index it within its `table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub table: u64,
    pub row: u32,
    pub column: u32,
    pub persons: u64,
    pub records: u64,
    pub suppression: Suppression,
}

/// Applies primary and complementary suppression in place.
pub fn suppress(cells: &mut [Cell], k: u32) {
    debug_assert!(k >= MIN_K);
    for cell in cells.iter_mut() {
        cell.suppression = if cell.persons < u64::from(k) {
            Suppression::BelowK
        } else {
            Suppression::None
        };
    }
    loop {
        // Lines: (table, is_row, index) → cell positions.
        let mut lines: BTreeMap<(u64, bool, u32), Vec<usize>> = BTreeMap::new();
        for (i, cell) in cells.iter().enumerate() {
            lines
                .entry((cell.table, true, cell.row))
                .or_default()
                .push(i);
            lines
                .entry((cell.table, false, cell.column))
                .or_default()
                .push(i);
        }
        let mut changed = false;
        for members in lines.values() {
            let suppressed = members
                .iter()
                .filter(|&&i| cells[i].suppression != Suppression::None)
                .count();
            if suppressed != 1 {
                continue;
            }
            let smallest = members
                .iter()
                .copied()
                .filter(|&i| cells[i].suppression == Suppression::None)
                .min_by_key(|&i| (cells[i].persons, cells[i].records, i));
            if let Some(i) = smallest {
                cells[i].suppression = Suppression::Complementary;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

/// Whether some suppressed cell is alone in its row or column (and so
/// derivable from a total); used by tests.
pub fn derivable(cells: &[Cell]) -> bool {
    let mut lines: BTreeMap<(u64, bool, u32), (usize, usize)> = BTreeMap::new();
    for cell in cells {
        for key in [
            (cell.table, true, cell.row),
            (cell.table, false, cell.column),
        ] {
            let entry = lines.entry(key).or_default();
            entry.0 += 1;
            if cell.suppression != Suppression::None {
                entry.1 += 1;
            }
        }
    }
    lines.values().any(|&(_, suppressed)| suppressed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(counts: &[[u64; 3]]) -> Vec<Cell> {
        let mut cells = Vec::new();
        for (row, line) in counts.iter().enumerate() {
            for (column, &persons) in line.iter().enumerate() {
                cells.push(Cell {
                    table: 0,
                    row: row as u32,
                    column: column as u32,
                    persons,
                    records: persons,
                    suppression: Suppression::None,
                });
            }
        }
        cells
    }

    #[test]
    fn a_lone_small_cell_takes_the_next_smallest_of_its_row_and_column_with_it() {
        let mut cells = grid(&[[20, 3, 30], [40, 50, 60], [70, 80, 90]]);
        suppress(&mut cells, 10);
        assert_eq!(cells[1].suppression, Suppression::BelowK);
        assert!(!derivable(&cells));
        assert!(
            cells
                .iter()
                .all(|c| c.suppression != Suppression::None || c.persons >= 10)
        );
        // Row 0 took its smallest other cell (20), column 1 its smallest (50).
        assert_eq!(cells[0].suppression, Suppression::Complementary);
        assert_eq!(cells[4].suppression, Suppression::Complementary);
    }

    #[test]
    fn nothing_is_suppressed_when_every_cell_reaches_k() {
        let mut cells = grid(&[[10, 11, 12], [13, 14, 15]]);
        suppress(&mut cells, 10);
        assert!(cells.iter().all(|c| c.suppression == Suppression::None));
    }
}
