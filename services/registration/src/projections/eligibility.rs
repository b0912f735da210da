//! What eligibility needs of the other services' events about one person,
//! both read models in one round trip: their consent receipts (Art. 2(1),
//! 4, 6) and the refusals of their online services (Art. 12(1)).

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::{ConsentRecord, RefusalRecord};

/// A person's consents and refusals as the read models hold them now.
#[derive(Debug, Default, PartialEq)]
pub struct PeerRecords {
    pub consents: Vec<ConsentRecord>,
    pub refusals: Vec<RefusalRecord>,
}

type Instant = Option<DateTime<Utc>>;

pub async fn peer_records(pool: &PgPool, job_seeker_id: &str) -> Result<PeerRecords, sqlx::Error> {
    let rows: Vec<(bool, Instant, Instant)> = sqlx::query_as(
        "SELECT true, consented_at, withdrawn_at FROM consent_receipts \
         WHERE job_seeker_id = $1 \
         UNION ALL \
         SELECT false, refused_at, lifted_at FROM online_services_refusals \
         WHERE job_seeker_id = $1",
    )
    .bind(job_seeker_id)
    .fetch_all(pool)
    .await?;
    let mut records = PeerRecords::default();
    for (is_consent, from, until) in rows {
        if is_consent {
            records.consents.push(ConsentRecord {
                consented_at: from,
                withdrawn_at: until,
            });
        } else {
            records.refusals.push(RefusalRecord {
                refused_at: from,
                lifted_at: until,
            });
        }
    }
    Ok(records)
}
