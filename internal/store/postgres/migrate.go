package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrateTimeout bounds Migrate when its context has no deadline: longer than a query's, since a
// migration may build an index, and it includes waiting for another task's migration.
const migrateTimeout = 2 * time.Minute

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate applies the embedded migrations not yet applied, recording them in goose_db_version
// in the first schema of the search path. Tasks starting together take turns: each holds an
// advisory lock for that schema while it migrates.
func (db *DB) Migrate(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, migrateTimeout)
		defer cancel()
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool) // closing it leaves the pool open
	defer sqlDB.Close()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys,
		goose.WithSessionLocker(schemaLocker{}),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	return nil
}

// schemaLocker serializes migrations of one schema with a session advisory lock. Unlike goose's
// own locker, which polls every second or more, it waits in the server (and gives up with ctx),
// and it is per schema, so migrations of unrelated schemas (parallel tests) do not wait.
type schemaLocker struct{}

var _ lock.SessionLocker = schemaLocker{}

const lockKeys = "hashtext('decagon goose'), hashtext(coalesce(current_schema(), ''))"

// SessionLock implements lock.SessionLocker.
func (schemaLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock("+lockKeys+")"); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	return nil
}

// SessionUnlock implements lock.SessionLocker.
func (schemaLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+lockKeys+")"); err != nil {
		return fmt.Errorf("release migration lock: %w", err)
	}
	return nil
}
