//! The data subject's view (Art. 7(2), 8): `ListMyDisclosures`. A job
//! seeker sees each disclosure that gave any of their records, once the
//! request's notification deferral has passed ([`notice::due`]), with how
//! many of their records it gave and the inclusion proof of the
//! disclosure's own log entry against a witnessed checkpoint. Legal
//! requests are few (each is filed by hand), so every one is looked at;
//! the person's records are counted in the database by their lookup tags,
//! never by a clear id.

use chrono::Utc;
use hellowork_eventstore::DomainEvent;
use hellowork_platform::{Role, ServiceError, caller, require_any};
use hellowork_proto::auditlog::v1 as proto;

use super::{AuditLogApi, database, legal_errors::status, transparency::inclusion};
use crate::{
    domain::{event::Event, notice, subject::KeyPeriod, time::to_datetime},
    service::stream_of,
    store,
};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;

impl AuditLogApi {
    pub(super) async fn my_disclosures(
        &self,
        request: tonic::Request<proto::ListMyDisclosuresRequest>,
    ) -> Result<proto::ListMyDisclosuresResponse, tonic::Status> {
        let caller = caller(&request)?;
        require_any(caller, &[Role::JobSeeker])?;
        let person = caller.subject().to_owned();
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
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT legal_request_id FROM legal_requests ORDER BY filed_at, legal_request_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(database)?;
        let now = Utc::now();
        let mut items = Vec::new();
        for id in ids {
            let Some(legal) = self.service.legal_request(&id).await.map_err(status)? else {
                continue;
            };
            if legal.disclosed_record_count == 0 || !notice::due(&legal, now) {
                continue;
            }
            let range = legal
                .scope
                .as_ref()
                .and_then(|scope| scope.time_range.as_ref());
            let (Some(start), Some(end)) = (
                to_datetime(range.and_then(|r| r.start_time.as_ref())),
                to_datetime(range.and_then(|r| r.end_time.as_ref())),
            ) else {
                continue;
            };
            let tags: Vec<Vec<u8>> = KeyPeriod::overlapping(start, end)
                .iter()
                .map(|period| self.ingestor.subjects.tag(*period, &person).0.to_vec())
                .collect();
            for recorded in self
                .store
                .read_stream(&stream_of(&id), 0)
                .await
                .map_err(ServiceError::from)?
            {
                let Ok(Event::DeviceRecordsDisclosed(disclosed)) =
                    Event::decode(&recorded.event_type, &recorded.payload)
                else {
                    continue;
                };
                let mine = store::count_of_subject(&self.pool, &disclosed.record_sequences, &tags)
                    .await
                    .map_err(database)?;
                if mine == 0 {
                    continue;
                }
                let proof = self
                    .log
                    .inclusion_of_record(&recorded.event_id.to_string())
                    .await
                    .map_err(ServiceError::internal)?;
                items.push(proto::SubjectDisclosure {
                    legal_request_id: id.clone(),
                    agency: legal.agency.clone(),
                    legal_basis: legal.legal_basis,
                    disclosed_at: Some(crate::domain::time::timestamp(recorded.occurred_at)),
                    record_count: mine,
                    inclusion: proof.map(|found| inclusion(found, self.log.origin())),
                });
            }
        }
        let next_page_token = if items.len() > skip + size {
            (skip + size).to_string()
        } else {
            String::new()
        };
        Ok(proto::ListMyDisclosuresResponse {
            disclosures: items.into_iter().skip(skip).take(size).collect(),
            next_page_token,
        })
    }
}
