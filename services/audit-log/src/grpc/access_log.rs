//! `ListAccessLog` (Art. 7(2)): a page of the hash-chained access log in a
//! time range, each entry device-anonymized and its instant coarsened to
//! the configured slot.

use hellowork_platform::{Role, caller, require_any};
use hellowork_proto::auditlog::v1 as proto;
use tonic::{Request, Response, Status};

use super::{AuditLogApi, invalid, parse, view};

impl AuditLogApi {
    pub(super) async fn access_log(
        &self,
        request: Request<proto::ListAccessLogRequest>,
    ) -> Result<Response<proto::ListAccessLogResponse>, Status> {
        let caller = caller(&request)?;
        require_any(
            caller,
            &[
                Role::Operator,
                Role::Counsellor,
                Role::Supervisor,
                Role::Auditor,
                Role::LegalOfficer,
            ],
        )?;
        let message = request.get_ref();
        let mut violations = Vec::new();
        let range = parse::range(&mut violations, "time_range", message.time_range.as_ref());
        let size = parse::page_size(&mut violations, message.page_size, 100, 1000);
        let after = parse::page_token(&mut violations, &message.page_token);
        invalid(violations)?;
        let range = range.expect("checked");
        let (rows, more) = self
            .service
            .access_log(range, &message.kinds, after, size)
            .await?;
        let slot = self.settings.slot.num_seconds();
        let entries: Vec<_> = rows.iter().map(|row| view::entry(row, slot)).collect();
        let next_page_token = if more {
            entries
                .last()
                .map(|e| e.sequence.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(proto::ListAccessLogResponse {
            entries,
            next_page_token,
            slot_length: Some(view::duration(slot)),
        }))
    }
}
