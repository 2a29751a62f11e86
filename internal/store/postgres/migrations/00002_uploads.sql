-- The uploads service: one row of metadata per document; the bytes are in the object store.

-- +goose Up
CREATE TABLE uploads (
    upload_id    uuid        PRIMARY KEY,
    owner        text        NOT NULL,
    -- As the client named the file (sanitized): metadata only, never part of an object key.
    filename     text        NOT NULL,
    content_type text        NOT NULL,
    size         bigint      NOT NULL CHECK (size >= 0),
    -- Hex SHA-256 of the stored bytes; NULL while the upload is pending.
    sha256       text,
    status       text        NOT NULL CHECK (status IN ('pending', 'available')),
    created_at   timestamptz NOT NULL,
    CONSTRAINT uploads_sha256_when_available CHECK ((status = 'available') = (sha256 IS NOT NULL))
);

-- A caller's listing, newest first; and the admin listing across owners.
CREATE INDEX uploads_owner_created_idx ON uploads (owner, created_at DESC, upload_id DESC);
CREATE INDEX uploads_created_idx ON uploads (created_at DESC, upload_id DESC);

-- +goose Down
DROP TABLE uploads;
