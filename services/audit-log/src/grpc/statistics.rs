//! `GetUsageStatistics` (Art. 7(2)): the request parsed into a [`Query`]
//! of whole slots (every violation with its field), the cells counted and
//! decided by [`crate::statistics`], and encoded.

use hellowork_platform::{FieldViolation, Role, caller, require_any};
use hellowork_proto::auditlog::v1::{self as proto, CellSuppression};
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use super::{AuditLogApi, database, invalid, parse, view};
use crate::{
    domain::{
        grid::Query,
        kanon::{Cell, Suppression},
    },
    settings::AuditLogSettings,
};

impl AuditLogApi {
    pub(super) async fn usage_statistics(
        &self,
        request: Request<proto::GetUsageStatisticsRequest>,
    ) -> Result<Response<proto::GetUsageStatisticsResponse>, Status> {
        let caller = caller(&request)?;
        require_any(
            caller,
            &[
                Role::Operator,
                Role::Counsellor,
                Role::Supervisor,
                Role::Auditor,
            ],
        )?;
        get(&self.pool, &self.settings, request.get_ref())
            .await
            .map(Response::new)
    }
}

pub(super) async fn get(
    pool: &PgPool,
    settings: &AuditLogSettings,
    message: &proto::GetUsageStatisticsRequest,
) -> Result<proto::GetUsageStatisticsResponse, Status> {
    let mut violations = Vec::new();
    let range = parse::range(&mut violations, "time_range", message.time_range.as_ref());
    let requested = message.slot_length.as_ref().map(|d| (d.seconds, d.nanos));
    let query = match (settings.lengths.resolve(requested), range) {
        (Err(error), _) => {
            violations.push(FieldViolation::new(error.field(), error.to_string()));
            None
        }
        (Ok(_), None) => None,
        (Ok(length), Some((start, end))) => {
            match Query::new(&settings.lengths, start, end, length) {
                Ok(query) => Some(query),
                Err(errors) => {
                    violations.extend(
                        errors
                            .iter()
                            .map(|e| FieldViolation::new(e.field(), e.to_string())),
                    );
                    None
                }
            }
        }
    };
    invalid(violations)?;
    let query = query.expect("checked");
    let cells = crate::statistics::usage_statistics(pool, &query, settings.k)
        .await
        .map_err(database)?;
    Ok(proto::GetUsageStatisticsResponse {
        k: settings.k,
        slot_length: Some(view::duration(query.length().seconds())),
        cells: cells.iter().map(cell).collect(),
    })
}

fn cell(cell: &Cell) -> proto::UsageStatisticsCell {
    let key = cell.key;
    let start = key.length.start(key.slot);
    let published = cell.published();
    proto::UsageStatisticsCell {
        time_slot: Some(view::range(start, start + key.length.duration())),
        offering: key.offering,
        device_class: key.class,
        person_count: published.then_some(cell.counts.persons),
        record_count: published.then_some(cell.counts.records),
        suppression: match cell.suppression {
            Suppression::None => CellSuppression::None,
            Suppression::BelowK => CellSuppression::BelowK,
            Suppression::Complementary => CellSuppression::Complementary,
        } as i32,
    }
}
