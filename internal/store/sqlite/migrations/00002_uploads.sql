-- The uploads service: one row of metadata per document; the bytes are in the object store.
-- Times and ids are text as in 00001_tests.sql (fixed-width UTC times, canonical UUIDs), so that
-- text order is the order PostgreSQL uses.

-- +goose Up
CREATE TABLE uploads (
    upload_id    TEXT    NOT NULL PRIMARY KEY,
    owner        TEXT    NOT NULL,
    -- As the client named the file (sanitized): metadata only, never part of an object key.
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL CHECK (size >= 0),
    -- Hex SHA-256 of the stored bytes; NULL while the upload is pending.
    sha256       TEXT,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'available')),
    created_at   TEXT    NOT NULL,
    CONSTRAINT uploads_sha256_when_available CHECK ((status = 'available') = (sha256 IS NOT NULL))
) STRICT;

-- A caller's listing, newest first; and the admin listing across owners.
CREATE INDEX uploads_owner_created_idx ON uploads (owner, created_at DESC, upload_id DESC);
CREATE INDEX uploads_created_idx ON uploads (created_at DESC, upload_id DESC);

-- +goose Down
DROP TABLE uploads;
