-- Step 9: the access log as a Merkle tree (RFC 9162 §2.1), leaf n being the
-- entry at sequence n + 1, its leaf hash SHA-256(0x00 || the entry's
-- canonical bytes). The tree's hashes are kept at tlog's stored-hash
-- indexes (golang.org/x/mod/sumdb/tlog layout: about two per leaf), enough
-- for any root and any proof of any size without reading an entry.
CREATE TABLE log_hashes (
    hash_index BIGINT PRIMARY KEY,
    hash       BYTEA NOT NULL CHECK (length(hash) = 32)
);

-- How many leaves the tree holds: equal to the head's sequence once the
-- start-up has built the tree of the entries appended before this step.
ALTER TABLE chain_head ADD COLUMN tree_size BIGINT NOT NULL DEFAULT 0;

-- Checkpoints the log signed (C2SP tlog-checkpoint in a C2SP signed note).
-- The signing key is never in the database: a writer of this table can
-- delete checkpoints but not forge one, and every verifier keeps its own.
-- `cosigned_note` is the same checkpoint with a witness's cosignature.
CREATE TABLE log_checkpoints (
    tree_size     BIGINT PRIMARY KEY,
    root_hash     BYTEA NOT NULL CHECK (length(root_hash) = 32),
    note          BYTEA NOT NULL,
    signed_at     TIMESTAMPTZ NOT NULL,
    cosigned_note BYTEA,
    cosigned_at   TIMESTAMPTZ
);
CREATE INDEX log_checkpoints_cosigned ON log_checkpoints (tree_size DESC) WHERE cosigned_note IS NOT NULL;
