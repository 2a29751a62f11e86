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
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store/internal/contract"
)

// TestsStore keeps test records in PostgreSQL. It implements records.Store.
type TestsStore struct {
	pool *pgxpool.Pool
}

var _ records.Store = (*TestsStore)(nil)

const (
	recordColumns = "test_id, name, data, owner, created_at, updated_at"

	insertTest = `INSERT INTO tests (test_id, name, data, owner, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6)`

	// claimKey takes (owner, key) for this request: a new key, or one that has expired (its
	// created_at at or before $9). When a live key exists it affects no row but waits for, then
	// locks, that key's row, so a concurrent retry sees the first request's outcome.
	claimKey = `INSERT INTO test_idempotency_keys AS k
			(owner, key, request_hash, test_id, name, data, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (owner, key) DO UPDATE SET
			request_hash = EXCLUDED.request_hash, test_id = EXCLUDED.test_id,
			name = EXCLUDED.name, data = EXCLUDED.data,
			created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at
		WHERE k.created_at <= $9`

	selectKey = `SELECT request_hash, test_id, name, data, owner, created_at, updated_at
		FROM test_idempotency_keys WHERE owner = $1 AND key = $2`
)

// Create implements records.Store. With idem, the key row and the record are written in one
// transaction; a replay returns the key's snapshot of the first record, also when that record
// has since been deleted (as Stripe does). r.CreatedAt is the clock that ages keys.
func (s *TestsStore) Create(ctx context.Context, r records.Record, idem *records.Idempotency) (_ records.Record, _ bool, err error) {
	defer func() { err = classify(err) }()
	r, err = contract.Record(r)
	if err != nil {
		return records.Record{}, false, fmt.Errorf("create test: %w", err)
	}
	if err := contract.Idempotency(idem); err != nil {
		return records.Record{}, false, fmt.Errorf("create test: %w", err)
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()

	data := []byte(r.Data) // nil stores NULL
	if idem == nil {
		if _, err := s.pool.Exec(ctx, insertTest, r.ID, r.Name, data, r.Owner, r.CreatedAt, r.UpdatedAt); err != nil {
			return records.Record{}, false, fmt.Errorf("create test: %w", insertError(err))
		}
		return r, false, nil
	}

	stored, replayed := r, false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		expiredBy := r.CreatedAt.Add(-contract.IdempotencyTTL)
		tag, err := tx.Exec(ctx, claimKey, r.Owner, idem.Key, idem.Hash, r.ID, r.Name, data, r.CreatedAt, r.UpdatedAt, expiredBy)
		if err != nil {
			return fmt.Errorf("claim idempotency key: %w", err)
		}
		if tag.RowsAffected() == 1 {
			if _, err := tx.Exec(ctx, insertTest, r.ID, r.Name, data, r.Owner, r.CreatedAt, r.UpdatedAt); err != nil {
				return fmt.Errorf("insert: %w", insertError(err))
			}
			return nil
		}
		var hash string
		first, err := scanRecord(tx.QueryRow(ctx, selectKey, r.Owner, idem.Key), &hash)
		if err != nil {
			return fmt.Errorf("read idempotency key: %w", err)
		}
		if hash != idem.Hash {
			return contract.KeyReused()
		}
		stored, replayed = first, true
		return nil
	})
	if err != nil {
		return records.Record{}, false, fmt.Errorf("create test: %w", err)
	}
	return stored, replayed, nil
}

func insertError(err error) error {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "23505" { // unique_violation
		return contract.Duplicate("test_id")
	}
	return err
}

// Get implements records.Store.
func (s *TestsStore) Get(ctx context.Context, id, owner string) (_ records.Record, err error) {
	defer func() { err = classify(err) }()
	uid, ok := contract.ID(id)
	if !ok || contract.Text("owner", owner) != nil { // no record has such an id or owner
		return records.Record{}, fmt.Errorf("get test %q: %w", id, decagon.ErrNotFound)
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	r, err := scanRecord(s.pool.QueryRow(ctx,
		"SELECT "+recordColumns+" FROM tests WHERE test_id = $1 AND ($2 = '' OR owner = $2)", uid, owner))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return records.Record{}, fmt.Errorf("get test %s: %w", uid, decagon.ErrNotFound)
	case err != nil:
		return records.Record{}, fmt.Errorf("get test %s: %w", uid, err)
	}
	return r, nil
}

// List implements records.Store.
func (s *TestsStore) List(ctx context.Context, p listing.Request) (_ []records.Record, _ bool, err error) {
	defer func() { err = classify(err) }()
	p, start, empty, err := contract.Listing(p)
	if err != nil {
		return nil, false, fmt.Errorf("list tests: %w", err)
	}
	if empty {
		return nil, false, nil
	}
	l := query{table: "tests", id: "test_id", columns: recordColumns, owner: p.Owner, after: p.After, start: start, limit: p.Limit}
	items, more, err := listPage(ctx, s.pool, l, func(r pgx.Row) (records.Record, error) { return scanRecord(r) })
	if err != nil {
		return nil, false, fmt.Errorf("list tests: %w", err)
	}
	return items, more, nil
}

// Delete implements records.Store.
func (s *TestsStore) Delete(ctx context.Context, id, owner string) (err error) {
	defer func() { err = classify(err) }()
	uid, ok := contract.ID(id)
	if !ok || contract.Text("owner", owner) != nil { // no record has such an id or owner
		return fmt.Errorf("delete test %q: %w", id, decagon.ErrNotFound)
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, "DELETE FROM tests WHERE test_id = $1 AND ($2 = '' OR owner = $2)", uid, owner)
	if err != nil {
		return fmt.Errorf("delete test %s: %w", uid, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete test %s: %w", uid, decagon.ErrNotFound)
	}
	return nil
}

// PurgeIdempotencyKeys implements records.Store.
func (s *TestsStore) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (_ int64, err error) {
	defer func() { err = classify(err) }()
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, "DELETE FROM test_idempotency_keys WHERE created_at < $1", contract.Time(before))
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return tag.RowsAffected(), nil
}

// scanRecord reads the record columns in recordColumns order, after the given leading columns.
func scanRecord(row pgx.Row, lead ...any) (records.Record, error) {
	var r records.Record
	var data []byte
	dest := append(lead, &r.ID, &r.Name, &data, &r.Owner, &r.CreatedAt, &r.UpdatedAt)
	if err := row.Scan(dest...); err != nil {
		return records.Record{}, err
	}
	if data != nil {
		r.Data = data
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r, nil
}
