-- The tests service: records and the idempotency keys of their creation.
-- Later migrations (uploads, ...) take the next numbers: 00002_..., 00003_...
-- Times are text in the fixed-width layout 2006-01-02T15:04:05.000000Z (UTC), so that text
-- order is time order; ids are canonical lower-case UUIDs, so that text order is PostgreSQL's
-- uuid order.

-- +goose Up
CREATE TABLE tests (
    test_id    TEXT NOT NULL PRIMARY KEY,
    owner      TEXT NOT NULL,
    name       TEXT NOT NULL,
    data       TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- A caller's listing, newest first; and the admin listing across owners.
CREATE INDEX tests_owner_created_idx ON tests (owner, created_at DESC, test_id DESC);
CREATE INDEX tests_created_idx ON tests (created_at DESC, test_id DESC);

-- One row per (owner, Idempotency-Key): the request's hash and a snapshot of the record the
-- first request created, which a replay returns even after the record was deleted.
-- created_at is the key's creation time, which is also the record's.
CREATE TABLE test_idempotency_keys (
    owner        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    test_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    data         TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (owner, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX test_idempotency_keys_created_idx ON test_idempotency_keys (created_at);

-- +goose Down
DROP TABLE test_idempotency_keys;
DROP TABLE tests;
