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
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store/internal/contract"
)

// TestsStore keeps test records in SQLite. It implements records.Store.
type TestsStore struct {
	write *sql.DB
	read  *sql.DB
	// writeStmts and readStmts are the statements prepared on write and read.
	writeStmts, readStmts *stmts
}

var _ records.Store = (*TestsStore)(nil)

const (
	recordColumns = "test_id, name, data, owner, created_at, updated_at"

	insertTest = `INSERT INTO tests (test_id, name, data, owner, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`

	// putKey writes (owner, key) for this request, replacing an expired key.
	putKey = `INSERT INTO test_idempotency_keys
			(owner, key, request_hash, test_id, name, data, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (owner, key) DO UPDATE SET
			request_hash = excluded.request_hash, test_id = excluded.test_id,
			name = excluded.name, data = excluded.data,
			created_at = excluded.created_at, updated_at = excluded.updated_at`

	selectTest = "SELECT " + recordColumns + " FROM tests WHERE test_id = ?1 AND (?2 = '' OR owner = ?2)"
	deleteTest = "DELETE FROM tests WHERE test_id = ?1 AND (?2 = '' OR owner = ?2)"

	selectKey = `SELECT request_hash, test_id, name, data, owner, created_at, updated_at
		FROM test_idempotency_keys WHERE owner = ? AND key = ?`
)

// Create implements records.Store. With idem, the key row and the record are written in one
// transaction; a replay returns the key's snapshot of the first record, also when that record
// has since been deleted (as Stripe does). r.CreatedAt is the clock that ages keys. Writers are
// serialized (one connection, BEGIN IMMEDIATE), so concurrent retries see each other's commits.
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

	var data any // nil stores NULL
	if r.Data != nil {
		data = string(r.Data)
	}
	created, updated := r.CreatedAt.Format(contract.TimeLayout), r.UpdatedAt.Format(contract.TimeLayout)
	insert, err := s.writeStmts.get(ctx, insertTest)
	if err != nil {
		return records.Record{}, false, fmt.Errorf("create test: %w", err)
	}
	if idem == nil {
		if _, err := insert.ExecContext(ctx, r.ID, r.Name, data, r.Owner, created, updated); err != nil {
			return records.Record{}, false, fmt.Errorf("create test: %w", insertError(err))
		}
		return r, false, nil
	}
	readKey, err := s.writeStmts.get(ctx, selectKey)
	if err != nil {
		return records.Record{}, false, fmt.Errorf("create test: read idempotency key: %w", err)
	}
	storeKey, err := s.writeStmts.get(ctx, putKey)
	if err != nil {
		return records.Record{}, false, fmt.Errorf("create test: store idempotency key: %w", err)
	}

	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return records.Record{}, false, fmt.Errorf("create test: %w", err)
	}
	defer tx.Rollback() // a no-op after Commit; before it, nothing is kept

	var hash string
	first, err := scanRecord(tx.StmtContext(ctx, readKey).QueryRowContext(ctx, r.Owner, idem.Key), &hash)
	switch {
	case err == nil && !contract.Expired(first.CreatedAt, r.CreatedAt):
		if hash != idem.Hash {
			return records.Record{}, false, fmt.Errorf("create test: %w", contract.KeyReused())
		}
		return first, true, nil
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		return records.Record{}, false, fmt.Errorf("create test: read idempotency key: %w", err)
	}
	if _, err := tx.StmtContext(ctx, storeKey).ExecContext(ctx, r.Owner, idem.Key, idem.Hash, r.ID, r.Name, data, created, updated); err != nil {
		return records.Record{}, false, fmt.Errorf("create test: store idempotency key: %w", err)
	}
	if _, err := tx.StmtContext(ctx, insert).ExecContext(ctx, r.ID, r.Name, data, r.Owner, created, updated); err != nil {
		return records.Record{}, false, fmt.Errorf("create test: insert: %w", insertError(err))
	}
	if err := tx.Commit(); err != nil {
		return records.Record{}, false, fmt.Errorf("create test: commit: %w", err)
	}
	return r, false, nil
}

func insertError(err error) error {
	if e, ok := errors.AsType[*sqlite.Error](err); ok && e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
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
	get, err := s.readStmts.get(ctx, selectTest)
	if err != nil {
		return records.Record{}, fmt.Errorf("get test %s: %w", uid, err)
	}
	r, err := scanRecord(get.QueryRowContext(ctx, uid, owner))
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	items, more, err := listPage(ctx, s.read, l, func(r scanner) (records.Record, error) { return scanRecord(r) })
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
	del, err := s.writeStmts.get(ctx, deleteTest)
	if err != nil {
		return fmt.Errorf("delete test %s: %w", uid, err)
	}
	res, err := del.ExecContext(ctx, uid, owner)
	if err != nil {
		return fmt.Errorf("delete test %s: %w", uid, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete test %s: %w", uid, err)
	} else if n == 0 {
		return fmt.Errorf("delete test %s: %w", uid, decagon.ErrNotFound)
	}
	return nil
}

// PurgeIdempotencyKeys implements records.Store.
func (s *TestsStore) PurgeIdempotencyKeys(ctx context.Context, before time.Time) (_ int64, err error) {
	defer func() { err = classify(err) }()
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	res, err := s.write.ExecContext(ctx, "DELETE FROM test_idempotency_keys WHERE created_at < ?",
		contract.Time(before).Format(contract.TimeLayout))
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", err)
	}
	return n, nil
}

type scanner interface{ Scan(dest ...any) error }

// scanRecord reads the record columns in recordColumns order, after the given leading columns.
func scanRecord(row scanner, lead ...any) (records.Record, error) {
	var r records.Record
	var data sql.NullString
	var created, updated string
	dest := append(lead, &r.ID, &r.Name, &data, &r.Owner, &created, &updated)
	if err := row.Scan(dest...); err != nil {
		return records.Record{}, err
	}
	if data.Valid {
		r.Data = []byte(data.String)
	}
	var err error
	if r.CreatedAt, err = time.Parse(contract.TimeLayout, created); err != nil {
		return records.Record{}, fmt.Errorf("created_at: %w", err)
	}
	if r.UpdatedAt, err = time.Parse(contract.TimeLayout, updated); err != nil {
		return records.Record{}, fmt.Errorf("updated_at: %w", err)
	}
	return r, nil
}
