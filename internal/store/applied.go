package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// appliedQuery counts, in the table where both backends' Migrate record the migrations applied (pressly/goose);
// version 0 is goose's own first row.
const appliedQuery = `SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied`

// MigrateCounted opens the database, applies the embedded schema and reports how many
// migrations this call applied: `decagon migrate` says "applied 2 migrations" or "already up to
// date" truthfully. It reads goose's version table on a connection of its own before and after
// (another process migrating at the same time may make the count include its work).
func MigrateCounted(ctx context.Context, databaseURL string, opts ...Option) (db *DB, applied int, err error) {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	o := collect(opts)
	before, err := appliedCount(ctx, databaseURL, o)
	if err != nil {
		return nil, 0, err
	}
	if db, err = OpenMigrated(ctx, databaseURL, opts...); err != nil {
		return nil, 0, err
	}
	after, err := appliedCount(ctx, databaseURL, o)
	if err != nil {
		db.Close()
		return nil, 0, err
	}
	return db, after - before, nil
}

// appliedCount counts the migrations recorded as applied; 0 when nothing was ever migrated.
func appliedCount(ctx context.Context, databaseURL string, o options) (int, error) {
	backend, target, err := Parse(databaseURL)
	if err != nil {
		return 0, err
	}
	var n int
	if backend == Postgres {
		cfg, err := pgx.ParseConfig(target)
		if err != nil {
			return 0, fmt.Errorf("count migrations: %w", err) // pgx redacts the password
		}
		if o.password != nil {
			if cfg.Password, err = o.password(ctx); err != nil {
				return 0, fmt.Errorf("count migrations: database password: %w", err)
			}
		}
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return 0, fmt.Errorf("count migrations: connect: %w", err)
		}
		defer conn.Close(context.Background())
		err = conn.QueryRow(ctx, appliedQuery).Scan(&n)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" { // undefined_table
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("count migrations: %w", err)
		}
		return n, nil
	}
	if _, err := os.Stat(target); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	sdb, err := sql.Open("sqlite", "file:"+target+"?"+url.Values{"_pragma": {"busy_timeout(5000)"}}.Encode())
	if err != nil {
		return 0, fmt.Errorf("count migrations: %w", err)
	}
	defer sdb.Close()
	var tables int
	if err := sdb.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`).Scan(&tables); err != nil {
		return 0, fmt.Errorf("count migrations: %w", err)
	}
	if tables == 0 {
		return 0, nil
	}
	if err := sdb.QueryRowContext(ctx, appliedQuery).Scan(&n); err != nil {
		return 0, fmt.Errorf("count migrations: %w", err)
	}
	return n, nil
}
