-- Art. 8: each job seeker's scheduling data key, wrapped by a key-encryption
-- key (KEK) of scheduling's configuration. Officers' notes about the person
-- in events and messages are sealed with it; never copied into an event, a
-- message or a log, and only scheduling unwraps it.
--
-- Erasure (registration's `JobSeekerErased`) keeps the row as a tombstone
-- with the key columns NULL: every sealed note of the person stops opening
-- at once, and no new key is ever made for them, so nothing written later
-- about an erased person can be read either.
CREATE TABLE person_data_keys (
    job_seeker_id text        PRIMARY KEY,
    -- The id sealed values name, `scheduling/<job seeker id>/1`.
    data_key_id   text,
    -- The KEK it is wrapped under (the current one when it was made).
    kek_id        text,
    nonce         bytea,
    wrapped_key   bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    destroyed_at  timestamptz,
    CHECK ((destroyed_at IS NULL) = (wrapped_key IS NOT NULL
        AND data_key_id IS NOT NULL AND kek_id IS NOT NULL AND nonce IS NOT NULL))
);

-- One-time upgrades of stored data done at start-up (the reseal of device
-- identifiers and notes stored in clear before Step 8), so each runs once.
CREATE TABLE completed_upgrades (
    name         text        PRIMARY KEY,
    completed_at timestamptz NOT NULL DEFAULT now()
);
