//! The data subject's view (Art. 7(2), 8): `ListMyDisclosures`. A job
//! seeker's page of the disclosures that gave any of their records, from
//! one call of [`crate::service::AuditLog::subject_disclosures`], each
//! with the inclusion proof of its own log entry.

use hellowork_platform::{Role, ServiceError, caller, require_any};
use hellowork_proto::auditlog::v1 as proto;

use super::{AuditLogApi, legal_errors::status, transparency::inclusion};
use crate::{domain::time::timestamp, service::SubjectDisclosure};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

impl AuditLogApi {
    pub(super) async fn my_disclosures(
        &self,
        request: tonic::Request<proto::ListMyDisclosuresRequest>,
    ) -> Result<proto::ListMyDisclosuresResponse, tonic::Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::JobSeeker])?;
        let message = request.get_ref();
        let size = match message.page_size {
            0 => DEFAULT_PAGE,
            n if n < 0 || n as usize > MAX_PAGE => {
                return Err(ServiceError::invalid(
                    "page_size",
                    format!("must be between 0 and {MAX_PAGE}"),
                )
                .into());
            }
            n => n as usize,
        };
        let skip: usize = match message.page_token.as_str() {
            "" => 0,
            token => token.parse().map_err(|_| {
                ServiceError::invalid("page_token", "is not a token this call gave")
            })?,
        };
        let (disclosures, more) = self
            .service
            .subject_disclosures(caller.subject(), skip, size)
            .await
            .map_err(status)?;
        let origin = self.service.log_origin();
        Ok(proto::ListMyDisclosuresResponse {
            disclosures: disclosures
                .into_iter()
                .map(|disclosure| shown(disclosure, origin))
                .collect(),
            next_page_token: if more {
                (skip + size).to_string()
            } else {
                String::new()
            },
        })
    }
}

fn shown(disclosure: SubjectDisclosure, origin: &str) -> proto::SubjectDisclosure {
    proto::SubjectDisclosure {
        legal_request_id: disclosure.legal_request_id,
        agency: disclosure.agency,
        legal_basis: disclosure.legal_basis.map_or(0, i32::from),
        disclosed_at: Some(timestamp(disclosure.disclosed_at)),
        record_count: disclosure.record_count,
        inclusion: disclosure.inclusion.map(|found| inclusion(found, origin)),
    }
}
