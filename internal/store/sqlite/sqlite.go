// Package sqlite is decagon's embedded storage: a SQLite file through modernc.org/sqlite (pure
// Go, no cgo), the schema as embedded goose migrations and the stores built on them.
//
// The file is in WAL mode with synchronous=FULL: a commit is on disk (the WAL fsynced) before
// Create returns, so an acknowledged record survives kill -9 and power loss. All writes go
// through one connection, so they never fail with SQLITE_BUSY against each other; reads use a
// small pool of read-only connections that WAL lets run beside the writer.
//
// It may import the root package decagon, the domain packages, internal/listing,
// store/internal/contract, modernc.org/sqlite, goose and the standard library; never net/http.
// A full disk is decagon.EInsufficientStorage, a lock held past the busy timeout
// decagon.EUnavailable (errors.go).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/decagon/decagon/internal/store/internal/contract"
)

// Memory is the path that opens a private in-memory database, for tests: it lives as long as
// the DB and is not durable.
const Memory = ":memory:"

// readConns bounds the read pool: enough for a small task, few enough to keep memory low.
const readConns = 4

// busyTimeoutMS is how long a connection waits for another process's lock (the writer is one
// connection here, so only other processes, such as a concurrent "decagon migrate", contend).
// The driver ends the wait early when the context is done.
const busyTimeoutMS = "5000"

// DB is a SQLite database holding decagon's tables. Its methods are safe for concurrent use.
type DB struct {
	write *sql.DB // one connection: writes are serialized in the process
	read  *sql.DB // read-only pool; the same as write for Memory
	tests *TestsStore
}

// Open opens (creating when missing, with its parent directory) the SQLite database at path, or
// a private in-memory database for Memory, and checks that it is set up for durable writes.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	db, err := open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

func open(ctx context.Context, path string) (*DB, error) {
	params := url.Values{}
	params.Add("_pragma", "busy_timeout("+busyTimeoutMS+")")
	params.Add("_pragma", "foreign_keys(1)")
	params.Add("_pragma", "synchronous(FULL)")
	if path == Memory {
		params.Set("_txlock", "immediate")
		w, err := sql.Open("sqlite", Memory+"?"+params.Encode())
		if err != nil {
			return nil, err
		}
		// The database lives in its one connection: never let database/sql close it.
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		w.SetConnMaxLifetime(0)
		w.SetConnMaxIdleTime(0)
		st := newStmts(w)
		db := &DB{write: w, read: w, tests: &TestsStore{write: w, read: w, writeStmts: st, readStmts: st}}
		if err := db.check(ctx, "memory"); err != nil {
			return nil, errors.Join(err, w.Close())
		}
		return db, nil
	}

	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, err
	}
	// Created here so that it is private: SQLite gives the -wal and -shm files the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	dsn := func(p url.Values) string { return (&url.URL{Scheme: "file", Path: abs, RawQuery: p.Encode()}).String() }

	wp := cloneValues(params)
	wp.Add("_pragma", "journal_mode(WAL)")
	wp.Set("_txlock", "immediate") // take the write lock at BEGIN, never upgrade mid-transaction
	w, err := sql.Open("sqlite", dsn(wp))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	db := &DB{write: w}
	// The writer sets WAL mode (persistent in the file) before any reader connects.
	if err := db.check(ctx, "wal"); err != nil {
		return nil, errors.Join(err, w.Close())
	}

	rp := cloneValues(params)
	rp.Add("_pragma", "query_only(1)")
	r, err := sql.Open("sqlite", dsn(rp))
	if err != nil {
		return nil, errors.Join(err, w.Close())
	}
	r.SetMaxOpenConns(readConns)
	r.SetMaxIdleConns(readConns)
	if err := r.PingContext(ctx); err != nil {
		return nil, errors.Join(err, r.Close(), w.Close())
	}
	db.read = r
	db.tests = &TestsStore{write: w, read: r, writeStmts: newStmts(w), readStmts: newStmts(r)}
	return db, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// check verifies the writer's settings: a durability requirement must not depend on a DSN
// parameter silently ignored.
func (db *DB) check(ctx context.Context, journal string) error {
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", journal},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
	} {
		var got string
		if err := db.write.QueryRowContext(ctx, "PRAGMA "+c.pragma).Scan(&got); err != nil {
			return fmt.Errorf("read PRAGMA %s: %w", c.pragma, err)
		}
		if !strings.EqualFold(got, c.want) {
			return fmt.Errorf("PRAGMA %s is %q, want %q", c.pragma, got, c.want)
		}
	}
	return nil
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes the database; the last connection to close checkpoints the WAL into the file.
func (db *DB) Close() error {
	err := db.tests.writeStmts.close()
	if db.tests.readStmts != db.tests.writeStmts {
		err = errors.Join(err, db.tests.readStmts.close())
	}
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	if cerr := db.write.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

// Tests returns the store of test records.
func (db *DB) Tests() *TestsStore { return db.tests }

// Stats returns the figures of the writer's and the readers' connection pools, for metrics
// (the same pool twice for Memory).
func (db *DB) Stats() (write, read sql.DBStats) { return db.write.Stats(), db.read.Stats() }
