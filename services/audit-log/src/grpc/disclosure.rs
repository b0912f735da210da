//! `DiscloseDeviceRecords` (Art. 7(2) proviso): the raw device records in
//! the scope of an authorized legal request, only to the legal officer
//! named on it, a page at a time and never past its disclosure limit. The
//! handler checks the role, parses, makes one call of
//! [`crate::service::AuditLog::disclose`] (which records every attempt,
//! granted or refused) and converts its answer with the inclusion proof of
//! the disclosure's own log entry.

use hellowork_platform::{Role, caller, correlation_id, event_metadata, require_any};
use hellowork_proto::auditlog::v1 as proto;
use tonic::{Request, Response, Status};

use super::{
    AuditLogApi, invalid, legal_errors::status, legal_requests::request_id, parse,
    transparency::inclusion,
};
use crate::service::Context;

impl AuditLogApi {
    pub(super) async fn disclose(
        &self,
        request: Request<proto::DiscloseDeviceRecordsRequest>,
    ) -> Result<Response<proto::DiscloseDeviceRecordsResponse>, Status> {
        let caller = caller(&request)?.clone();
        // Art. 7(2): only a legal officer's attempt is on record; anyone else
        // is turned away here and writes nothing, so no caller can fill the
        // log with refusals by holding the wrong role.
        require_any(&caller, &[Role::LegalOfficer])?;
        let metadata = event_metadata(&caller, correlation_id(&request));
        let message = request.into_inner();
        let id = request_id("legal_request_id", &message.legal_request_id)?;
        let mut violations = Vec::new();
        let size = parse::page_size(&mut violations, message.page_size, 100, 1000);
        let after = parse::page_token(&mut violations, &message.page_token);
        invalid(violations)?;
        let cx = Context {
            caller: &caller,
            metadata: &metadata,
        };
        let disclosure = self
            .service
            .disclose(cx, &id, after, size)
            .await
            .map_err(status)?;
        let next_page_token = if disclosure.more {
            disclosure
                .records
                .last()
                .map(|r| r.sequence.to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(proto::DiscloseDeviceRecordsResponse {
            legal_request_id: id,
            records: disclosure.records,
            next_page_token,
            inclusion: disclosure
                .inclusion
                .map(|found| inclusion(found, self.service.log_origin())),
            disclosure_id: disclosure.disclosure_id.to_string(),
        }))
    }
}
