-- The Art. 7 access log: one hash-chained row per entry (usage record,
-- domain event heard, legal filing, decision, disclosure or refusal).
-- Raw device identifiers exist only sealed (AES-256-GCM: key_id, nonce,
-- ciphertext); the derived columns (pseudonym, ip prefix, families, class)
-- identify no device (Art. 7(2)).
CREATE TABLE access_log (
    sequence         BIGINT PRIMARY KEY,
    kind             INT NOT NULL,
    occurred_at      TIMESTAMPTZ NOT NULL,
    record_id        TEXT UNIQUE,
    job_seeker_id    TEXT NOT NULL DEFAULT '',
    access_kind      INT NOT NULL DEFAULT 0,
    action           TEXT NOT NULL DEFAULT '',
    method           TEXT NOT NULL DEFAULT '',
    outcome          INT NOT NULL DEFAULT 0,
    offering         INT NOT NULL DEFAULT 0,
    booking_id       TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL DEFAULT '',
    window_start     TIMESTAMPTZ,
    window_end       TIMESTAMPTZ,
    device_class     INT NOT NULL DEFAULT 0,
    device_pseudonym TEXT NOT NULL DEFAULT '',
    pseudonym_period TEXT NOT NULL DEFAULT '',
    ip_prefix        TEXT NOT NULL DEFAULT '',
    browser_family   TEXT NOT NULL DEFAULT '',
    os_family        TEXT NOT NULL DEFAULT '',
    key_id           TEXT NOT NULL DEFAULT '',
    nonce            BYTEA NOT NULL DEFAULT '',
    ciphertext       BYTEA NOT NULL DEFAULT '',
    actor            TEXT NOT NULL DEFAULT '',
    legal_request_id TEXT NOT NULL DEFAULT '',
    record_count     BIGINT NOT NULL DEFAULT 0,
    prev_hash        BYTEA NOT NULL,
    hash             BYTEA NOT NULL
);

CREATE INDEX access_log_occurred_at ON access_log (occurred_at);
CREATE INDEX access_log_job_seeker ON access_log (job_seeker_id) WHERE job_seeker_id <> '';

-- The chain's head, kept apart so a truncated tail is detected; appends lock
-- this one row (SELECT ... FOR UPDATE) so the chain stays linear.
CREATE TABLE chain_head (
    id       BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    sequence BIGINT NOT NULL,
    hash     BYTEA NOT NULL
);
INSERT INTO chain_head (id, sequence, hash) VALUES (TRUE, 0, '\x0000000000000000000000000000000000000000000000000000000000000000');

-- Art. 7(2) proviso: legal requests, the contract's `LegalRequest` message
-- encoded, changed only under a row lock.
CREATE TABLE legal_requests (
    legal_request_id TEXT PRIMARY KEY,
    filed_at         TIMESTAMPTZ NOT NULL,
    body             BYTEA NOT NULL
);
CREATE INDEX legal_requests_filed_at ON legal_requests (filed_at DESC, legal_request_id);
