//! `GetUsageStatistics` (Art. 7(2)): the request parsed into a [`Query`]
//! of whole slots (every violation with its field), the cells counted and
//! decided by one call of [`crate::service::AuditLog::usage_statistics`],
//! and encoded.

use hellowork_platform::{FieldViolation, Role, caller, require_any};
use hellowork_proto::auditlog::v1::{self as proto, CellSuppression};
use tonic::{Request, Response, Status};

use super::{AuditLogApi, invalid, parse, view};
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
        let query = query(&self.settings, request.get_ref())?;
        let cells = self.service.usage_statistics(&query).await?;
        Ok(Response::new(proto::GetUsageStatisticsResponse {
            k: self.settings.k,
            slot_length: Some(view::duration(query.length().seconds())),
            cells: cells.iter().map(cell).collect(),
        }))
    }
}

/// The request as a [`Query`] of whole slots of a length the settings
/// allow, or every violation with its field.
fn query(
    settings: &AuditLogSettings,
    message: &proto::GetUsageStatisticsRequest,
) -> Result<Query, Status> {
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
    Ok(query.expect("checked"))
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
