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
-- statement as the events (which is what keeps it consistent, not a foreign key:
-- a key check per row would be paid on the hot path); the relay deletes a row
-- once JetStream acked it. Keyed in the relay's reading order.
--
-- There is deliberately no NOTIFY trigger: a transaction that notifies holds a
-- database-wide lock through its commit, which would serialize all appends.
-- The store notifies the relay from a connection of its own after commits.
CREATE TABLE outbox (
    transaction_id bigint      NOT NULL,
    position       bigint      NOT NULL,
    enqueued_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (transaction_id, position)
);

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
