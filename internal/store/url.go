package store

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// URL returns the database URL a command opens: raw, or when raw is empty a SQLite file in
// dataDir. A password given apart (DECAGON_DATABASE_PASSWORD, from Secrets Manager in ECS) is put
// into a postgres URL that has none, so it never has to appear in the task definition.
func URL(raw, password, dataDir string) (string, error) {
	if raw == "" {
		return "sqlite:" + filepath.Join(dataDir, "decagon.db"), nil
	}
	if password == "" || !(strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://")) {
		return raw, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's errors quote the URL; say only where the mistake is.
		return "", fmt.Errorf("database URL: unparsable postgres URL")
	}
	if u.User == nil {
		return "", fmt.Errorf("database URL: a password is given but the URL names no user")
	}
	if _, has := u.User.Password(); !has {
		u.User = url.UserPassword(u.User.Username(), password)
	}
	return u.String(), nil
}

// openTimeout bounds opening and migrating at start-up: long enough for a PostgreSQL that is
// still starting beside the service, short enough that a wrong URL fails the task.
const openTimeout = 60 * time.Second

// OpenMigrated opens the database databaseURL names and applies the embedded schema, as every
// service does at start-up.
func OpenMigrated(ctx context.Context, databaseURL string) (*DB, error) {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	db, err := Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
