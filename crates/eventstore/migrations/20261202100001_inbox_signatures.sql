-- Step 10: consumers refuse replayed envelopes. Each inbox row keeps the
-- stream sequence and producer signature its event arrived with, so an
-- exact copy stored again on the stream (same signature, another sequence)
-- is told from a redelivery (same sequence) and from a republication the
-- producer signed anew (another signature). Rows from before, and rows a
-- rebuild writes from the store, have neither and are never judged replays.
ALTER TABLE consumer_inbox
    ADD COLUMN stream_sequence bigint,
    ADD COLUMN signature bytea;
