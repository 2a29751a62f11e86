// Package pgtest gives a test its own PostgreSQL schema: a database URL whose search_path is a
// fresh schema, dropped when the test ends, so that tests in parallel (and other packages' tests)
// never see each other's tables.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the local test database: PostgreSQL on 127.0.0.1:5432, database test, user
// postgres, trust authentication.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// URLEnv names the environment variable that overrides DefaultURL.
const URLEnv = "DECAGON_TEST_DATABASE_URL"

// BaseURL returns the test database's URL: $DECAGON_TEST_DATABASE_URL, or DefaultURL.
func BaseURL() string {
	if u := os.Getenv(URLEnv); u != "" {
		return u
	}
	return DefaultURL
}

// URL creates a schema for tb and returns BaseURL with its search_path set to it; the schema and
// everything in it is dropped in tb.Cleanup (register cleanups that use the schema after calling
// URL, so that they run first). When PostgreSQL cannot be reached, tb is skipped, unless the
// environment variable CI is set: then it fails.
func URL(tb testing.TB) string {
	tb.Helper()
	base := BaseURL()
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s is not a URL: %v", URLEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "" {
			tb.Skipf("PostgreSQL unreachable at %s (%v); start it, or set %s; with CI set this fails", u.Redacted(), err, URLEnv)
		}
		tb.Fatalf("PostgreSQL unreachable at %s: %v", u.Redacted(), err)
	}
	defer conn.Close(ctx)

	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
