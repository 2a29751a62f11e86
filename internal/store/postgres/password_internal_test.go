package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/decagon/decagon"
)

// The cache: a value is fetched once per TTL; a refusal of the value in use drops it, a
// refusal of an older one (a connection that started before a refetch) does not.
func TestPasswordsCache(t *testing.T) {
	current, fetches := "first", 0
	p := &passwords{ttl: time.Hour, fetch: func(context.Context) (string, error) {
		fetches++
		return current, nil
	}}
	connect := func() string {
		t.Helper()
		cfg := &pgx.ConnConfig{}
		if err := p.beforeConnect(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		return cfg.Password
	}
	refuse := func(offered string) {
		tr := connectTracer{p: p}
		ctx := tr.TraceConnectStart(context.Background(), pgx.TraceConnectStartData{ConnConfig: &pgx.ConnConfig{Config: pgconn.Config{Password: offered}}})
		// As pgx reports it: the server's error inside the connect error.
		tr.TraceConnectEnd(ctx, pgx.TraceConnectEndData{Err: fmt.Errorf("failed to connect: %w", &pgconn.PgError{Code: invalidPassword})})
	}
	steps := []struct {
		what        string
		do          func()
		want        string
		wantFetches int
	}{
		{"first connection fetches", func() {}, "first", 1},
		{"the next one uses the cache", func() { current = "second" }, "first", 1},
		{"another error than 28P01 keeps it", func() {
			tr := connectTracer{p: p}
			ctx := tr.TraceConnectStart(context.Background(), pgx.TraceConnectStartData{ConnConfig: &pgx.ConnConfig{Config: pgconn.Config{Password: "first"}}})
			tr.TraceConnectEnd(ctx, pgx.TraceConnectEndData{Err: &pgconn.PgError{Code: "57P03"}})
		}, "first", 1},
		{"a refusal refetches at once", func() { refuse("first") }, "second", 2},
		{"a late refusal of the old value keeps the new one", func() { current = "third"; refuse("first") }, "second", 2},
		{"the TTL passing refetches", func() { p.at = p.at.Add(-2 * time.Hour) }, "third", 3},
	}
	for _, s := range steps {
		s.do()
		if got := connect(); got != s.want || fetches != s.wantFetches {
			t.Fatalf("%s: password %q after %d fetches; want %q after %d", s.what, got, fetches, s.want, s.wantFetches)
		}
	}
}

// A source that fails makes the connection EUnavailable, and is asked again next time.
func TestPasswordsFetchFails(t *testing.T) {
	down := errors.New("secrets manager unreachable")
	calls := 0
	p := &passwords{ttl: time.Hour, fetch: func(context.Context) (string, error) { calls++; return "", down }}
	for range 2 {
		err := p.beforeConnect(context.Background(), &pgx.ConnConfig{})
		if !errors.Is(err, decagon.ErrUnavailable) || !errors.Is(err, down) {
			t.Fatalf("err %v, want EUnavailable wrapping the source's error", err)
		}
	}
	if calls != 2 {
		t.Fatalf("%d fetches, want 2 (a failure is not cached)", calls)
	}
}
