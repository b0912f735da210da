-- Event store, transactional outbox, consumer inbox and checkpoints.
-- Runs inside the owning service's own schema (search_path), so every service
-- (and every test) has its own copy of these tables.

-- Every recorded event. `position` is assigned from a sequence before commit, so
-- it is NOT commit order on its own: readers order by (transaction_id, position)
-- and only read rows whose transaction is older than the oldest one still running
-- (see `read_all`). That makes the order stable: no row can later appear behind a
-- reader's cursor.
CREATE TABLE events (
    position        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    transaction_id  bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL,
    stream_version  bigint      NOT NULL CHECK (stream_version >= 1),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    payload         bytea       NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    correlation_id  uuid        NOT NULL,
    causation_id    uuid,
    actor_subject   text        NOT NULL,
    actor_role      text        NOT NULL,
    traceparent     text,
    tracestate      text,
    -- Optimistic concurrency: a second writer of the same version fails here.
    CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_commit_order ON events (transaction_id, position);

-- Events committed but not yet acknowledged by JetStream. Written in the same
-- statement as the events; the relay deletes a row once JetStream acked it.
CREATE TABLE outbox (
    position       bigint      PRIMARY KEY REFERENCES events (position),
    transaction_id bigint      NOT NULL,
    enqueued_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX outbox_commit_order ON outbox (transaction_id, position);

-- Wakes the relay as soon as a transaction that wrote outbox rows commits
-- (NOTIFY is delivered on commit and collapsed to one per transaction).
CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify
    AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();

-- Event ids a consumer has applied, written in the same transaction as the
-- projection update, so a redelivery (even after JetStream's duplicate window)
-- changes nothing.
CREATE TABLE consumer_inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- How far each consumer got: the JetStream stream sequence of the last message
-- it applied (live), and the store position of the last event (rebuild).
CREATE TABLE consumer_checkpoints (
    consumer             text        PRIMARY KEY,
    stream_sequence      bigint      NOT NULL DEFAULT 0,
    store_transaction_id bigint      NOT NULL DEFAULT 0,
    store_position       bigint      NOT NULL DEFAULT 0,
    last_event_id        uuid,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
