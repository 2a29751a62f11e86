package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/store/internal/contract"
	"github.com/decagon/decagon/internal/uploads"
)

// UploadsStore keeps upload metadata in SQLite. It implements uploads.Store.
type UploadsStore struct {
	write *sql.DB
	read  *sql.DB
}

var _ uploads.Store = (*UploadsStore)(nil)

// Uploads returns the store of upload metadata. It holds nothing but db's connections, so every
// call returns an equivalent store.
func (db *DB) Uploads() *UploadsStore { return &UploadsStore{write: db.write, read: db.read} }

const (
	uploadColumns = "upload_id, owner, filename, content_type, size, sha256, status, created_at, expires_at"

	insertUpload = `INSERT INTO uploads (` + uploadColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`

	// live keeps tombstones out of everything a client can reach.
	live = "deleted_at IS NULL"

	// completeUpload is the statement PostgreSQL runs: a pending row takes the new values, an
	// available one keeps its own. Here writers are serialized on one connection, so a second
	// complete always sees the first one's row.
	completeUpload = `UPDATE uploads SET
			content_type = CASE WHEN status = 'pending' THEN ?3 ELSE content_type END,
			size         = CASE WHEN status = 'pending' THEN ?4 ELSE size END,
			sha256       = CASE WHEN status = 'pending' THEN ?5 ELSE sha256 END,
			status       = 'available'
		WHERE upload_id = ?1 AND (?2 = '' OR owner = ?2) AND ` + live + `
		RETURNING ` + uploadColumns

	// claimExpired tombstones the abandoned uploads and returns them with the tombstones whose
	// URL has expired: the reaper's batch.
	claimExpired = `UPDATE uploads SET deleted_at = coalesce(deleted_at, ?1)
		WHERE upload_id IN (
			SELECT upload_id FROM uploads
			WHERE (status = 'pending' OR deleted_at IS NOT NULL) AND expires_at < ?2
			ORDER BY expires_at LIMIT ?3)
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
	var sha any // nil stores NULL, while pending
	if u.SHA256 != "" {
		sha = u.SHA256
	}
	var exp any // nil stores NULL, for a direct upload
	if !u.ExpiresAt.IsZero() {
		exp = u.ExpiresAt.Format(contract.TimeLayout)
	}
	_, err = s.write.ExecContext(ctx, insertUpload, u.ID, u.Owner, u.Filename, u.ContentType, u.Size, sha, u.Status,
		u.CreatedAt.Format(contract.TimeLayout), exp)
	if err != nil {
		if e, ok := errors.AsType[*sqlite.Error](err); ok && e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
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
	u, err := scanUpload(s.read.QueryRowContext(ctx,
		"SELECT "+uploadColumns+" FROM uploads WHERE upload_id = ?1 AND (?2 = '' OR owner = ?2) AND "+live, uid, owner))
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	items, more, err := listPage(ctx, s.read, l, scanUpload)
	if err != nil {
		return nil, false, fmt.Errorf("list uploads: %w", err)
	}
	return items, more, nil
}

// Complete implements uploads.Store. The statement runs in an explicit transaction so that the
// commit, and with it the fsync, is a step whose error is seen before the upload is returned.
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
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return uploads.Upload{}, fmt.Errorf("complete upload %s: %w", uid, err)
	}
	defer tx.Rollback() // a no-op after Commit
	u, err := scanUpload(tx.QueryRowContext(ctx, completeUpload, uid, owner, contentType, size, sha256))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return uploads.Upload{}, fmt.Errorf("complete upload %s: %w", uid, decagon.ErrNotFound)
	case err != nil:
		return uploads.Upload{}, fmt.Errorf("complete upload %s: %w", uid, err)
	}
	if err := tx.Commit(); err != nil {
		return uploads.Upload{}, fmt.Errorf("complete upload %s: commit: %w", uid, err)
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
	for _, st := range []struct {
		q    string
		args []any
	}{
		{"UPDATE uploads SET deleted_at = ?3 WHERE upload_id = ?1 AND (?2 = '' OR owner = ?2) AND " + live + " AND expires_at IS NOT NULL",
			[]any{uid, owner, contract.Time(time.Now()).Format(contract.TimeLayout)}},
		{"DELETE FROM uploads WHERE upload_id = ?1 AND (?2 = '' OR owner = ?2) AND " + live + " AND expires_at IS NULL",
			[]any{uid, owner}},
	} {
		res, err := s.write.ExecContext(ctx, st.q, st.args...)
		if err != nil {
			return fmt.Errorf("delete upload %s: %w", uid, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("delete upload %s: %w", uid, err)
		}
		if n > 0 {
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
	rows, err := s.write.QueryContext(ctx, claimExpired, contract.Time(time.Now()).Format(contract.TimeLayout),
		contract.Time(before).Format(contract.TimeLayout), limit)
	if err != nil {
		return nil, fmt.Errorf("claim expired uploads: %w", err)
	}
	defer rows.Close()
	var out []uploads.Upload
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return nil, fmt.Errorf("claim expired uploads: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
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
	res, err := s.write.ExecContext(ctx, "DELETE FROM uploads WHERE upload_id = ?1 AND deleted_at IS NOT NULL", uid)
	if err != nil {
		return fmt.Errorf("purge upload %s: %w", uid, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("purge upload %s: %w", uid, err)
	} else if n == 0 {
		return fmt.Errorf("purge upload %s: %w", uid, decagon.ErrNotFound)
	}
	return nil
}

// scanUpload reads the columns in uploadColumns order.
func scanUpload(row scanner) (uploads.Upload, error) {
	var u uploads.Upload
	var sha, exp sql.NullString
	var created string
	if err := row.Scan(&u.ID, &u.Owner, &u.Filename, &u.ContentType, &u.Size, &sha, &u.Status, &created, &exp); err != nil {
		return uploads.Upload{}, err
	}
	u.SHA256 = sha.String
	var err error
	if u.CreatedAt, err = time.Parse(contract.TimeLayout, created); err != nil {
		return uploads.Upload{}, fmt.Errorf("created_at: %w", err)
	}
	if exp.Valid {
		if u.ExpiresAt, err = time.Parse(contract.TimeLayout, exp.String); err != nil {
			return uploads.Upload{}, fmt.Errorf("expires_at: %w", err)
		}
	}
	return u, nil
}
