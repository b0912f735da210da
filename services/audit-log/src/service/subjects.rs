//! The data subject's view (Art. 7(2), 8): each disclosure that gave any
//! of a job seeker's records, once the request's notification deferral
//! has passed ([`notice::due`]), with how many of their records it gave
//! and the inclusion proof of the disclosure's own log entry against a
//! witnessed checkpoint. Legal requests are few (each is filed by hand),
//! so every one is looked at; the person's records are counted in the
//! database by their lookup tags, never by a clear id.

use chrono::{DateTime, Utc};
use hellowork_eventstore::DomainEvent;
use hellowork_platform::ServiceError;

use super::{AuditLog, Error, database, stream_of};
use crate::{
    domain::{event::Event, legal::LegalBasis, notice, subject::KeyPeriod},
    store,
    transparency::Inclusion,
};

/// Art. 7(2), 8: one disclosure as a person whose records it gave sees
/// it: what they need to hold the office to account, never the case file.
#[derive(Debug)]
pub struct SubjectDisclosure {
    pub legal_request_id: String,
    /// The requesting agency.
    pub agency: String,
    /// `None` only for a filing in a corrupt store.
    pub legal_basis: Option<LegalBasis>,
    pub disclosed_at: DateTime<Utc>,
    /// How many of the person's records it gave.
    pub record_count: u64,
    /// The disclosure's own log entry with its inclusion proof, `None`
    /// while no checkpoint covers it.
    pub inclusion: Option<Inclusion>,
}

impl AuditLog {
    /// Art. 7(2), 8: the disclosures of `person`'s records they may be
    /// told of now, in filing order: at most `size` after the first
    /// `skip`, and whether more follow.
    pub async fn subject_disclosures(
        &self,
        person: &str,
        skip: usize,
        size: usize,
    ) -> Result<(Vec<SubjectDisclosure>, bool), Error> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT legal_request_id FROM legal_requests ORDER BY filed_at, legal_request_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(database)?;
        let now = Utc::now();
        let mut items = Vec::new();
        for id in ids {
            let Some(legal) = self.legal_request(&id).await? else {
                continue;
            };
            if legal.disclosed_record_count == 0 || !notice::due(&legal, now) {
                continue;
            }
            let Some((start, end)) = legal.filing.scope.time_range else {
                continue;
            };
            // Art. 7(2): the person's lookup tag of each key period the
            // scope touches, as their records are stored.
            let tags: Vec<Vec<u8>> = KeyPeriod::overlapping(start, end)
                .iter()
                .map(|period| self.ingestor.subjects.tag(*period, person).0.to_vec())
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
                let inclusion = self
                    .log
                    .inclusion_of_record(&recorded.event_id.to_string())
                    .await
                    .map_err(ServiceError::internal)?;
                items.push(SubjectDisclosure {
                    legal_request_id: id.clone(),
                    agency: legal.filing.agency.clone(),
                    legal_basis: legal.filing.legal_basis,
                    disclosed_at: recorded.occurred_at,
                    record_count: mine,
                    inclusion,
                });
            }
        }
        let more = items.len() > skip + size;
        Ok((items.into_iter().skip(skip).take(size).collect(), more))
    }
}
