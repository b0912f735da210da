//! Art. 7(2): the usage statistics counted in Postgres and decided by
//! [`Plan`]. Both queries GROUP BY in the database, so a request
//! holds its grid's cells in memory (bounded by [`crate::domain::grid`]),
//! never a row per record:
//!
//! - one count per slot of every length of the query, offering and device
//!   class: records (`count(*)`) and distinct persons
//!   (`count(DISTINCT subject_tag)`), over whole slots;
//! - per longer length, the distinct persons of what the published shorter
//!   cells leave over ([`Remainders`]).
//!
//! **Persons across key periods.** The log keeps no clear job seeker id,
//! only the person's lookup tag of the key period, a UTC calendar month: one
//! person has a different tag each month. Within one month distinct tags
//! are distinct persons. Slots of a day or less are on a UTC grid and never
//! cross a month, so they are counted exactly. A 7d slot may span two
//! months; there a person seen in both has two tags, and counting tags would
//! count them twice — a cell of 6 persons could read 12 and be published
//! with k = 10. So persons are counted per month and the larger month's
//! count is taken: a lower bound, never above the truth, so a cell that
//! reaches k really holds k persons (the published count of such a week may
//! be below its true count). Records without a person (no tag) are records,
//! not persons; records of erased persons keep their tags and still count.
//!
//! The queries read usage rows by time only, through the partial index
//! `access_log_usage_statistics` (kind = usage), which also holds the
//! counted columns.

use std::collections::HashMap;

use hellowork_proto::auditlog::v1::EntryKind;
use sqlx::PgPool;

use crate::domain::{
    grid::Query,
    kanon::{CLASSES, Cell, CellKey, Counts, OFFERINGS, Plan, Remainders},
};

/// The kind the partial index `access_log_usage_statistics` is built for,
/// written into the queries as a literal so the planner can use it.
const USAGE: i32 = EntryKind::Usage as i32;

/// Art. 7(2): the decided cells of `query`'s length.
pub async fn usage_statistics(
    pool: &PgPool,
    query: &Query,
    k: u32,
) -> Result<Vec<Cell>, sqlx::Error> {
    let mut plan = Plan::new(query, k, count(pool, query).await?);
    while let Some(asked) = plan.pending() {
        let persons = if asked.cells.is_empty() {
            HashMap::new()
        } else {
            remainder_persons(pool, query, &asked).await?
        };
        plan.settle(&persons);
    }
    Ok(plan.into_cells())
}

/// The counts of every cell holding records, for every length of `query`.
async fn count(pool: &PgPool, query: &Query) -> Result<Vec<(CellKey, Counts)>, sqlx::Error> {
    let levels = query.levels();
    let lengths: Vec<i64> = levels.iter().map(|l| l.seconds()).collect();
    let origins: Vec<i64> = levels.iter().map(|l| l.origin()).collect();
    let sql = format!(
        "SELECT length, slot, offering, device_class, max(persons), sum(records)::bigint \
         FROM ( \
           SELECT l.length, \
                  floor((extract(epoch FROM a.occurred_at) - l.origin) / l.length)::bigint AS slot, \
                  a.offering, a.device_class, \
                  count(DISTINCT a.subject_tag) FILTER (WHERE a.subject_tag <> '') AS persons, \
                  count(*) AS records \
           FROM access_log a \
           CROSS JOIN unnest($3::bigint[], $4::bigint[]) AS l(length, origin) \
           WHERE a.kind = {USAGE} AND a.occurred_at >= $1 AND a.occurred_at < $2 \
             AND a.offering = ANY($5) AND a.device_class = ANY($6) \
           GROUP BY 1, 2, 3, 4, date_trunc('month', a.occurred_at AT TIME ZONE 'UTC') \
         ) per_month \
         GROUP BY 1, 2, 3, 4"
    );
    let rows: Vec<(i64, i64, i32, i32, i64, i64)> = sqlx::query_as(&sql)
        .bind(query.start())
        .bind(query.end())
        .bind(&lengths)
        .bind(&origins)
        .bind(&OFFERINGS[..])
        .bind(&CLASSES[..])
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(length, slot, offering, class, persons, records)| {
            let length = *levels.iter().find(|l| l.seconds() == length)?;
            let key = CellKey {
                length,
                slot,
                offering,
                class,
            };
            let counts = Counts {
                persons: u64::try_from(persons).unwrap_or(0),
                records: u64::try_from(records).unwrap_or(0),
            };
            Some((key, counts))
        })
        .collect())
}

/// The distinct persons of the records in `asked.cells`, per slot of
/// `asked.length`, offering and class.
async fn remainder_persons(
    pool: &PgPool,
    query: &Query,
    asked: &Remainders,
) -> Result<HashMap<(i64, i32, i32), u64>, sqlx::Error> {
    let (fine, (offerings, classes)): (Vec<i64>, (Vec<i32>, Vec<i32>)) = asked
        .cells
        .iter()
        .map(|&(slot, offering, class)| (slot, (offering, class)))
        .unzip();
    let sql = format!(
        "SELECT slot, offering, device_class, max(persons) \
         FROM ( \
           SELECT floor((extract(epoch FROM a.occurred_at) - $3::bigint) / $4::bigint)::bigint AS slot, \
                  a.offering, a.device_class, \
                  count(DISTINCT a.subject_tag) FILTER (WHERE a.subject_tag <> '') AS persons \
           FROM access_log a \
           JOIN unnest($5::bigint[], $6::int[], $7::int[]) AS u(fine, offering, device_class) \
             ON a.offering = u.offering AND a.device_class = u.device_class \
            AND floor((extract(epoch FROM a.occurred_at) - $8::bigint) / $9::bigint)::bigint = u.fine \
           WHERE a.kind = {USAGE} AND a.occurred_at >= $1 AND a.occurred_at < $2 \
           GROUP BY 1, 2, 3, date_trunc('month', a.occurred_at AT TIME ZONE 'UTC') \
         ) per_month \
         GROUP BY 1, 2, 3"
    );
    let rows: Vec<(i64, i32, i32, i64)> = sqlx::query_as(&sql)
        .bind(query.start())
        .bind(query.end())
        .bind(asked.length.origin())
        .bind(asked.length.seconds())
        .bind(&fine)
        .bind(&offerings)
        .bind(&classes)
        .bind(asked.finest.origin())
        .bind(asked.finest.seconds())
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(slot, offering, class, persons)| {
            ((slot, offering, class), u64::try_from(persons).unwrap_or(0))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_index_is_built_for_usage_rows() {
        let migration = include_str!("../migrations/20261220400001_auditlog_usage_statistics.sql");
        assert!(
            migration.contains(&format!("WHERE kind = {}", super::USAGE)),
            "the partial index and the queries name the same kind"
        );
    }
}
