-- Art. 8: each job seeker's data key, wrapped by a key-encryption key (KEK)
-- of the configuration. Personal fields in events and messages are sealed
-- with it; deleting the row erases them everywhere at once. Never copied
-- into an event, a message or a log; only registration unwraps it.
CREATE TABLE person_data_keys (
    job_seeker_id uuid        PRIMARY KEY,
    -- The id sealed values name, `registration/<job seeker id>/1`.
    data_key_id   text        NOT NULL,
    -- The KEK it is wrapped under (the current one when it was made).
    kek_id        text        NOT NULL,
    nonce         bytea       NOT NULL,
    wrapped_key   bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- One-time upgrades of stored data done at start-up (e.g. the reseal of
-- registrations stored in clear before Step 8), so they run only once.
CREATE TABLE completed_upgrades (
    name         text        PRIMARY KEY,
    completed_at timestamptz NOT NULL DEFAULT now()
);
