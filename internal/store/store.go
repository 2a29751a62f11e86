// Package store opens decagon's SQL database from a URL and hands out the stores built on it.
// Each backend is its own package: postgres (production, Amazon RDS) and sqlite (the embedded
// default); both pass the one conformance suite in storetest.
//
// Accepted database URLs:
//
//	postgres://user:pass@host:5432/db?sslmode=require   (also postgresql://)
//	sqlite:PATH                                          a file, relative or absolute
//	sqlite://PATH                                        the same (sqlite:///abs/file.db is /abs/file.db)
//	sqlite::memory:                                      a private in-memory database (tests)
//
// A new resource adds its migration to both backends' migrations directories (the next number,
// 00002_..., applied by the same Migrate) and a method beside Tests on DB.
//
// It and its backends may import the root package decagon, the domain packages
// (internal/records, internal/uploads, internal/listing), the database drivers and the standard
// library; never net/http, internal/problem, internal/web or an HTTP adapter (arch_test.go in
// the repository root checks it). Errors are decagon errors: not found, a reused idempotency key
// (EUnprocessable), a duplicate id (EConflict), unstorable input (EUnprocessable), a database
// that cannot be reached (EUnavailable).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store/postgres"
	"github.com/decagon/decagon/internal/store/sqlite"
	"github.com/decagon/decagon/internal/uploads"
)

// Backend names, as Backend returns them.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// DB is an open database of either backend. Its methods are safe for concurrent use.
type DB struct {
	pg   *postgres.DB // exactly one of pg and lite is set
	lite *sqlite.DB
}

// Open opens the database databaseURL names (see the package documentation for the forms).
// PostgreSQL connects lazily (use Ping to check it); SQLite opens and checks its file at once.
// Neither applies migrations: call Migrate. WithPassword gives PostgreSQL's connections their
// password from a source (see url.go).
func Open(ctx context.Context, databaseURL string, opts ...Option) (*DB, error) {
	backend, target, err := Parse(databaseURL)
	if err != nil {
		return nil, err
	}
	switch backend {
	case Postgres:
		db, err := postgres.OpenOptions(ctx, target, postgres.Options{Password: collect(opts).password})
		if err != nil {
			return nil, err
		}
		return &DB{pg: db}, nil
	default:
		db, err := sqlite.Open(ctx, target)
		if err != nil {
			return nil, err
		}
		return &DB{lite: db}, nil
	}
}

// accepted lists the URL forms Parse accepts, for its errors.
const accepted = "sqlite:PATH, sqlite::memory:, postgres://URL or postgresql://URL"

// Parse splits a database URL into its backend (Postgres or SQLite) and what that backend opens:
// the URL itself for PostgreSQL, the file path (or sqlite.Memory) for SQLite. Its errors never
// repeat the URL, which may hold a password.
func Parse(databaseURL string) (backend, target string, err error) {
	switch {
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return Postgres, databaseURL, nil
	case strings.HasPrefix(databaseURL, "sqlite:"):
		path := strings.TrimPrefix(databaseURL, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return "", "", errors.New("database URL sqlite: has no path; accepted: " + accepted)
		}
		return SQLite, path, nil
	}
	scheme := "an empty URL"
	if i := strings.Index(databaseURL, ":"); i > 0 {
		scheme = "scheme " + fmt.Sprintf("%q", databaseURL[:i])
	} else if databaseURL != "" {
		scheme = "a URL without a scheme"
	}
	return "", "", fmt.Errorf("unsupported database URL (%s); accepted: %s", scheme, accepted)
}

// Backend names the backend in use: Postgres or SQLite.
func (db *DB) Backend() string {
	if db.pg != nil {
		return Postgres
	}
	return SQLite
}

// Tests returns the store of test records.
func (db *DB) Tests() records.Store {
	if db.pg != nil {
		return db.pg.Tests()
	}
	return db.lite.Tests()
}

// Uploads returns the store of upload metadata.
func (db *DB) Uploads() uploads.Store {
	if db.pg != nil {
		return db.pg.Uploads()
	}
	return db.lite.Uploads()
}

// Migrate applies the embedded schema migrations not yet applied.
func (db *DB) Migrate(ctx context.Context) error {
	if db.pg != nil {
		return db.pg.Migrate(ctx)
	}
	return db.lite.Migrate(ctx)
}

// Ping checks that the database answers, within ctx's deadline (5 s when it has none).
func (db *DB) Ping(ctx context.Context) error {
	if db.pg != nil {
		return db.pg.Ping(ctx)
	}
	return db.lite.Ping(ctx)
}

// Pools are the connection pools' figures, for metrics: PostgreSQL's pool, or SQLite's
// writer and reader pools.
type Pools struct {
	Postgres                *pgxpool.Stat // nil for SQLite
	SQLiteWrite, SQLiteRead sql.DBStats
}

// Pools returns the connection pools' figures.
func (db *DB) Pools() Pools {
	if db.pg != nil {
		return Pools{Postgres: db.pg.Stat()}
	}
	w, r := db.lite.Stats()
	return Pools{SQLiteWrite: w, SQLiteRead: r}
}

// Close closes the database. Call it once, after the last use of its stores.
func (db *DB) Close() error {
	if db.pg != nil {
		db.pg.Close()
		return nil
	}
	return db.lite.Close()
}
