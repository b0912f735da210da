-- Step 10: the streams whose messages published before envelopes were
-- signed have been re-signed (hellowork_eventstore::unsigned), so the
-- start-up check runs once per stream, not on every start.
CREATE TABLE signed_streams (
    stream_name text        PRIMARY KEY,
    examined    bigint      NOT NULL,
    signed      bigint      NOT NULL,
    signed_at   timestamptz NOT NULL DEFAULT now()
);
