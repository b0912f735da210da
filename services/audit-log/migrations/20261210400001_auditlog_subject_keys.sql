-- Art. 7(2), 8 (Step 8): per person and key period data keys.
--
-- Each usage record's identifying parts (the job seeker id and the raw
-- device identifiers) are sealed with a data key of its person and key
-- period (a calendar month, UTC), wrapped by a key-encryption key of
-- HELLOWORK_AUDITLOG_KEYS. Rows are found by a keyed lookup tag
-- (HMAC-SHA256 under a secret of the service over the period and the job
-- seeker id, or over the period alone for the period's anonymous key), never
-- by the clear id. Deleting a row is crypto-shredding: the end of retention
-- deletes the keys of periods ended long enough ago, an erasure the
-- person's keys of every period still held.
CREATE TABLE subject_keys (
    subject_tag  bytea       PRIMARY KEY,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    -- The id sealed values name, `auditlog/<period>/<random uuid>`: a key
    -- made again for a tag whose key was destroyed is another key.
    data_key_id  text        NOT NULL UNIQUE,
    -- The KEK it is wrapped under (the current one when it was made).
    kek_id       text        NOT NULL,
    nonce        bytea       NOT NULL,
    wrapped_key  bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subject_keys_period_end ON subject_keys (period_end);

-- The access log keeps the person's lookup tag of the period, never the
-- clear id, and the identifying parts only sealed per person and period
-- (encoded `hellowork.sealing.v1.PersonalSealed`). The rows written before
-- are replaced by the start-up upgrade's rebuild (their hashes cover the
-- old columns).
ALTER TABLE access_log
    DROP COLUMN job_seeker_id,
    DROP COLUMN key_id,
    DROP COLUMN nonce,
    DROP COLUMN ciphertext,
    ADD COLUMN subject_tag       bytea NOT NULL DEFAULT '',
    ADD COLUMN sealed_job_seeker bytea NOT NULL DEFAULT '',
    ADD COLUMN sealed_device     bytea NOT NULL DEFAULT '',
    -- Kind SUBJECT_ERASED: the erasure's case number and the peer event.
    ADD COLUMN reference         text  NOT NULL DEFAULT '',
    ADD COLUMN peer_event_id     text  NOT NULL DEFAULT '';
CREATE INDEX access_log_subject ON access_log (subject_tag) WHERE subject_tag <> '';

-- One-time upgrades of stored data done at start-up (the reseal of usage
-- records stored before Step 8), so they run only once.
CREATE TABLE completed_upgrades (
    name         text        PRIMARY KEY,
    completed_at timestamptz NOT NULL DEFAULT now()
);

-- Usage entries by booking (the bench's join probe, support look-ups), now
-- that entries are no longer found by a clear person.
CREATE INDEX access_log_booking ON access_log (booking_id) WHERE booking_id <> '';
