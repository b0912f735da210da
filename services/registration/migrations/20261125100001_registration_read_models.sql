-- Read models of other services' events that eligibility needs. Rows are keyed
-- by the peer's ids and written only by the projections (src/projections), so a
-- rebuild from the peer's events reproduces them exactly.

-- Art. 2(1), 4, 6: consent receipts and their withdrawal, from the consent
-- service's ConsentRecorded / ConsentWithdrawn events. Either may arrive first.
CREATE TABLE consent_receipts (
    receipt_id    text PRIMARY KEY,
    job_seeker_id text NOT NULL,
    consented_at  timestamptz,
    withdrawn_at  timestamptz
);
CREATE INDEX consent_receipts_job_seeker ON consent_receipts (job_seeker_id);

-- Art. 12(1): refusals of online services and their lifting, from scheduling's
-- OnlineServicesRefused / RefusalLifted events. Either may arrive first.
CREATE TABLE online_services_refusals (
    refusal_id    text PRIMARY KEY,
    job_seeker_id text NOT NULL,
    refused_at    timestamptz,
    lifted_at     timestamptz
);
CREATE INDEX online_services_refusals_job_seeker ON online_services_refusals (job_seeker_id);
