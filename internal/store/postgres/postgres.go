// Package postgres is decagon's PostgreSQL storage (production, Amazon RDS): a pgx connection
// pool, the schema as embedded goose migrations and the stores built on them.
//
// It may import the root package decagon, the domain packages, internal/listing,
// store/internal/contract, pgx, goose and the standard library; never net/http. A server that
// cannot be reached or is shutting down is decagon.EUnavailable (errors.go).
package postgres

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/decagon/decagon/internal/store/internal/contract"
)

const (
	// maxConns suits a 0.25 vCPU task: more connections would only queue on the CPU, and RDS's
	// connection limit is shared by every task. pool_max_conns in the URL overrides it.
	maxConns = 10
	// connectTimeout bounds dialing the server; connect_timeout in the URL overrides it.
	connectTimeout = 5 * time.Second
)

// DB is a PostgreSQL database holding decagon's tables. Its methods are safe for concurrent use.
type DB struct {
	pool  *pgxpool.Pool
	tests *TestsStore
}

// Options are how Open signs in beyond what the URL says. The zero value uses the URL alone.
type Options struct {
	// Password, when set, gives each new connection its password, replacing the URL's: the
	// value is kept PasswordTTL and fetched again at once when the server rejects it (SQLSTATE
	// 28P01), so that a password rotated while the service runs (RDS's managed one) only
	// costs the connection attempts already made with the old value.
	Password func(context.Context) (string, error)
}

// Open returns a DB for the postgres:// or postgresql:// URL (any libpq URL parameter pgx knows,
// plus pgx's pool_* parameters). It does not connect: the pool dials on first use, so call Ping
// to check the server.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	return OpenOptions(ctx, databaseURL, Options{})
}

// OpenOptions is Open with Options.
func OpenOptions(ctx context.Context, databaseURL string, opts Options) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx redacts the password in its parse errors.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	params := url.Values{}
	if u, err := url.Parse(databaseURL); err == nil {
		params = u.Query()
	}
	if !params.Has("pool_max_conns") {
		cfg.MaxConns = maxConns
	}
	if !params.Has("connect_timeout") {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
		// KeepAlive as pgx's default dialer has it.
		cfg.ConnConfig.DialFunc = (&net.Dialer{Timeout: connectTimeout, KeepAlive: 5 * time.Minute}).DialContext
	}
	if opts.Password != nil {
		pw := &passwords{fetch: opts.Password, ttl: PasswordTTL}
		cfg.BeforeConnect = pw.beforeConnect
		cfg.ConnConfig.Tracer = connectTracer{p: pw}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{pool: pool, tests: &TestsStore{pool: pool}}, nil
}

// Ping checks that the server answers a query.
func (db *DB) Ping(ctx context.Context) error {
	ctx, cancel := contract.Context(ctx)
	defer cancel()
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres: %w", err)
	}
	return nil
}

// Close closes every connection, waiting for those in use to be released.
func (db *DB) Close() { db.pool.Close() }

// Tests returns the store of test records.
func (db *DB) Tests() *TestsStore { return db.tests }

// Stat returns the connection pool's figures, for metrics.
func (db *DB) Stat() *pgxpool.Stat { return db.pool.Stat() }
