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
// dataDir. A password given apart (DECAGON_DATABASE_PASSWORD) is put into a postgres URL that has
// none, so it never has to appear in a task definition. Such a password is read once: after the
// server's password changes (RDS rotates its managed one every 7 days) new connections fail
// until the process restarts. A PasswordSource (WithPassword; internal/dbsecret reads RDS's
// secret) does not.
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

// PasswordSource returns the PostgreSQL password for a new connection, as it is now: the pool
// calls it before connecting when its cached value is older than postgres.PasswordTTL or was
// just refused by the server (SQLSTATE 28P01), never for a connection already open. Its error
// makes the connection, and the request that needed it, decagon.EUnavailable.
type PasswordSource func(ctx context.Context) (string, error)

// Option adjusts how Open, OpenMigrated and MigrateCounted sign in.
type Option func(*options)

type options struct {
	password PasswordSource
}

func collect(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithPassword has every new PostgreSQL connection take its password from src, replacing the
// URL's (SQLite has none). A nil src changes nothing.
func WithPassword(src PasswordSource) Option {
	return func(o *options) {
		if src != nil {
			o.password = src
		}
	}
}

// OpenMigrated opens the database databaseURL names and applies the embedded schema, as every
// service does at start-up.
func OpenMigrated(ctx context.Context, databaseURL string, opts ...Option) (*DB, error) {
	ctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	db, err := Open(ctx, databaseURL, opts...)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
