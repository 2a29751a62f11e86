-- The tests service: records and the idempotency keys of their creation.
-- Later migrations (uploads, ...) take the next numbers: 00002_..., 00003_...

-- +goose Up
CREATE TABLE tests (
    test_id    uuid        PRIMARY KEY,
    owner      text        NOT NULL,
    name       text        NOT NULL,
    -- json, not jsonb: it keeps the client's bytes exactly (as SQLite does) and accepts every
    -- string JSON allows, \u0000 included, which jsonb rejects.
    data       json,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- A caller's listing, newest first; and the admin listing across owners.
CREATE INDEX tests_owner_created_idx ON tests (owner, created_at DESC, test_id DESC);
CREATE INDEX tests_created_idx ON tests (created_at DESC, test_id DESC);

-- One row per (owner, Idempotency-Key): the request's hash and a snapshot of the record the
-- first request created, which a replay returns even after the record was deleted.
-- created_at is the key's creation time, which is also the record's.
CREATE TABLE test_idempotency_keys (
    owner        text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    test_id      uuid        NOT NULL,
    name         text        NOT NULL,
    data         json,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (owner, key)
);

CREATE INDEX test_idempotency_keys_created_idx ON test_idempotency_keys (created_at);

-- +goose Down
DROP TABLE test_idempotency_keys;
DROP TABLE tests;
