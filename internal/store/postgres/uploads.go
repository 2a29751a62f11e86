package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/store/internal/contract"
	"github.com/decagon/decagon/internal/uploads"
)

// UploadsStore keeps upload metadata in PostgreSQL. It implements uploads.Store.
type UploadsStore struct {
	pool *pgxpool.Pool
}

var _ uploads.Store = (*UploadsStore)(nil)

// Uploads returns the store of upload metadata. It holds nothing but db's pool, so every call
// returns an equivalent store.
func (db *DB) Uploads() *UploadsStore { return &UploadsStore{pool: db.pool} }

const (
	uploadColumns = "upload_id, owner, filename, content_type, size, sha256, status, created_at, expires_at"

	insertUpload = `INSERT INTO uploads (` + uploadColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

	// live keeps tombstones out of everything a client can reach.
	live = "deleted_at IS NULL"

	// completeUpload is one statement, so it needs no transaction: a pending row takes the new
	// values, an available one keeps its own. Concurrent completes queue on the row lock, and
	// READ COMMITTED re-evaluates the later one against the row the first committed, which is
	// available by then: both return the first one's values.
	completeUpload = `UPDATE uploads SET
			content_type = CASE WHEN status = 'pending' THEN $3 ELSE content_type END,
			size         = CASE WHEN status = 'pending' THEN $4 ELSE size END,
			sha256       = CASE WHEN status = 'pending' THEN $5 ELSE sha256 END,
			status       = 'available'
		WHERE upload_id = $1 AND ($2 = '' OR owner = $2) AND ` + live + `
		RETURNING ` + uploadColumns

	// claimExpired tombstones the abandoned uploads and returns them with the tombstones whose
	// URL has expired: the reaper's batch. SKIP LOCKED lets replicas' reapers share the work
	// instead of queueing on each other's rows.
	claimExpired = `UPDATE uploads SET deleted_at = coalesce(deleted_at, now())
		WHERE upload_id IN (
			SELECT upload_id FROM uploads
			WHERE (status = 'pending' OR deleted_at IS NOT NULL) AND expires_at < $1
			ORDER BY expires_at LIMIT $2
			FOR UPDATE SKIP LOCKED)
		RETURNING ` + uploadColumns
)

// Create implements uploads.Store.
func (s *UploadsStore) Create(ctx context.Context, u uploads.Upload) (err error) {
	defer func() { err = classify(err) }()
	u, err = contract.Upload(u)
	if err != nil {
		return fmt.Errorf("create upload: %w", err)
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	var sha *string // NULL while pending
	if u.SHA256 != "" {
		sha = &u.SHA256
	}
	var exp *time.Time // NULL for a direct upload
	if !u.ExpiresAt.IsZero() {
		exp = &u.ExpiresAt
	}
	if _, err := s.pool.Exec(ctx, insertUpload, u.ID, u.Owner, u.Filename, u.ContentType, u.Size, sha, u.Status, u.CreatedAt, exp); err != nil {
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "23505" { // unique_violation
			return fmt.Errorf("create upload: %w", contract.Duplicate("upload_id"))
		}
		return fmt.Errorf("create upload: %w", err)
	}
	return nil
}

// Get implements uploads.Store.
func (s *UploadsStore) Get(ctx context.Context, id, owner string) (_ uploads.Upload, err error) {
	defer func() { err = classify(err) }()
	uid, ok := contract.ID(id)
	if !ok || contract.Text("owner", owner) != nil { // no upload has such an id or owner
		return uploads.Upload{}, fmt.Errorf("get upload %q: %w", id, decagon.ErrNotFound)
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	u, err := scanUpload(s.pool.QueryRow(ctx,
		"SELECT "+uploadColumns+" FROM uploads WHERE upload_id = $1 AND ($2 = '' OR owner = $2) AND "+live, uid, owner))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return uploads.Upload{}, fmt.Errorf("get upload %s: %w", uid, decagon.ErrNotFound)
	case err != nil:
		return uploads.Upload{}, fmt.Errorf("get upload %s: %w", uid, err)
	}
	return u, nil
}

// List implements uploads.Store.
func (s *UploadsStore) List(ctx context.Context, p listing.Request) (_ []uploads.Upload, _ bool, err error) {
	defer func() { err = classify(err) }()
	p, start, empty, err := contract.Listing(p)
	if err != nil {
		return nil, false, fmt.Errorf("list uploads: %w", err)
	}
	if empty {
		return nil, false, nil
	}
	l := query{table: "uploads", id: "upload_id", columns: uploadColumns, filter: live, owner: p.Owner, after: p.After, start: start, limit: p.Limit}
	items, more, err := listPage(ctx, s.pool, l, scanUpload)
	if err != nil {
		return nil, false, fmt.Errorf("list uploads: %w", err)
	}
	return items, more, nil
}

// Complete implements uploads.Store.
func (s *UploadsStore) Complete(ctx context.Context, id, owner, contentType string, size int64, sha256 string) (_ uploads.Upload, err error) {
	defer func() { err = classify(err) }()
	uid, ok := contract.ID(id)
	if !ok || contract.Text("owner", owner) != nil { // no upload has such an id or owner
		return uploads.Upload{}, fmt.Errorf("complete upload %q: %w", id, decagon.ErrNotFound)
	}
	if err := contract.Completion(contentType, size, sha256); err != nil {
		return uploads.Upload{}, fmt.Errorf("complete upload %s: %w", uid, err)
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	u, err := scanUpload(s.pool.QueryRow(ctx, completeUpload, uid, owner, contentType, size, sha256))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return uploads.Upload{}, fmt.Errorf("complete upload %s: %w", uid, decagon.ErrNotFound)
	case err != nil:
		return uploads.Upload{}, fmt.Errorf("complete upload %s: %w", uid, err)
	}
	return u, nil
}

// Delete implements uploads.Store. A presigned upload's row becomes a tombstone, a direct
// upload's goes; expires_at never changes after Create, so the two statements cannot both miss
// a row that exists, nor both hit it.
func (s *UploadsStore) Delete(ctx context.Context, id, owner string) (err error) {
	defer func() { err = classify(err) }()
	uid, ok := contract.ID(id)
	if !ok || contract.Text("owner", owner) != nil { // no upload has such an id or owner
		return fmt.Errorf("delete upload %q: %w", id, decagon.ErrNotFound)
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	for _, q := range []string{
		"UPDATE uploads SET deleted_at = now() WHERE upload_id = $1 AND ($2 = '' OR owner = $2) AND " + live + " AND expires_at IS NOT NULL",
		"DELETE FROM uploads WHERE upload_id = $1 AND ($2 = '' OR owner = $2) AND " + live + " AND expires_at IS NULL",
	} {
		tag, err := s.pool.Exec(ctx, q, uid, owner)
		if err != nil {
			return fmt.Errorf("delete upload %s: %w", uid, err)
		}
		if tag.RowsAffected() > 0 {
			return nil
		}
	}
	return fmt.Errorf("delete upload %s: %w", uid, decagon.ErrNotFound)
}

// ClaimExpired implements uploads.Store.
func (s *UploadsStore) ClaimExpired(ctx context.Context, before time.Time, limit int) (_ []uploads.Upload, err error) {
	defer func() { err = classify(err) }()
	if err := contract.ReapLimit(limit); err != nil {
		return nil, fmt.Errorf("claim expired uploads: %w", err)
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, claimExpired, contract.Time(before), limit)
	if err != nil {
		return nil, fmt.Errorf("claim expired uploads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (uploads.Upload, error) { return scanUpload(r) })
	if err != nil {
		return nil, fmt.Errorf("claim expired uploads: %w", err)
	}
	return out, nil
}

// Purge implements uploads.Store.
func (s *UploadsStore) Purge(ctx context.Context, id string) (err error) {
	defer func() { err = classify(err) }()
	uid, ok := contract.ID(id)
	if !ok {
		return fmt.Errorf("purge upload %q: %w", id, decagon.ErrNotFound)
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, "DELETE FROM uploads WHERE upload_id = $1 AND deleted_at IS NOT NULL", uid)
	if err != nil {
		return fmt.Errorf("purge upload %s: %w", uid, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("purge upload %s: %w", uid, decagon.ErrNotFound)
	}
	return nil
}

// scanUpload reads the columns in uploadColumns order.
func scanUpload(row pgx.Row) (uploads.Upload, error) {
	var u uploads.Upload
	var sha *string
	var exp *time.Time
	if err := row.Scan(&u.ID, &u.Owner, &u.Filename, &u.ContentType, &u.Size, &sha, &u.Status, &u.CreatedAt, &exp); err != nil {
		return uploads.Upload{}, err
	}
	if sha != nil {
		u.SHA256 = *sha
	}
	if exp != nil {
		u.ExpiresAt = exp.UTC()
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return u, nil
}
