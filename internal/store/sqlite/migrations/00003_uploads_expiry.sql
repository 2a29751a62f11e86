-- Orphan objects (issue 11 item 3): a presigned upload remembers when its URL expires, and a
-- deleted one stays as a tombstone until then, so that the reaper can remove an object a
-- client PUT after the delete (S3 cannot refuse it) and the abandoned uploads with theirs.

-- +goose Up
-- The presigned PUT URL's expiry (contract.TimeLayout); NULL for a direct upload, which no URL
-- can write to.
ALTER TABLE uploads ADD COLUMN expires_at TEXT;
-- Set when the upload was deleted, or claimed by the reaper, while its URL could still write
-- an object: the row is invisible to Get, List, Complete and Delete, and Purge removes it once
-- its object is gone.
ALTER TABLE uploads ADD COLUMN deleted_at TEXT;
-- Uploads presigned before this migration: their URLs lasted 15 minutes.
UPDATE uploads SET expires_at = strftime('%Y-%m-%dT%H:%M:%S', created_at, '+15 minutes') || substr(created_at, 20)
    WHERE status = 'pending';
-- The reaper's work: pending uploads and tombstones, by expiry.
CREATE INDEX uploads_reap_idx ON uploads (expires_at)
    WHERE status = 'pending' OR deleted_at IS NOT NULL;

-- +goose Down
DROP INDEX uploads_reap_idx;
DELETE FROM uploads WHERE deleted_at IS NOT NULL;
ALTER TABLE uploads DROP COLUMN deleted_at;
ALTER TABLE uploads DROP COLUMN expires_at;
