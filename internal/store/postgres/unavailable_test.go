package postgres_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store/postgres"
	"github.com/decagon/decagon/internal/store/postgres/pgtest"
	"github.com/decagon/decagon/internal/uploads"
)

// calls runs one call of every store method against db and returns their errors by name.
func calls(ctx context.Context, db *postgres.DB) map[string]error {
	now := time.Now()
	rec := records.Record{ID: uuid.NewString(), Name: "n", Owner: "alice", CreatedAt: now}
	_, _, create := db.Tests().Create(ctx, rec, nil)
	rec2 := rec
	rec2.ID = uuid.NewString()
	_, _, createIdem := db.Tests().Create(ctx, rec2, &records.Idempotency{Key: uuid.NewString(), Hash: "h"})
	_, get := db.Tests().Get(ctx, rec.ID, "alice")
	_, _, list := db.Tests().List(ctx, listing.Request{Owner: "alice", Limit: 10})
	del := db.Tests().Delete(ctx, rec.ID, "alice")
	_, purge := db.Tests().PurgeIdempotencyKeys(ctx, now)
	up := uploads.Upload{ID: uuid.NewString(), Owner: "alice", Filename: "f", ContentType: "text/plain", Status: uploads.StatusPending, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	upCreate := db.Uploads().Create(ctx, up)
	_, upGet := db.Uploads().Get(ctx, up.ID, "alice")
	_, _, upList := db.Uploads().List(ctx, listing.Request{Limit: 10})
	return map[string]error{"tests.create": create, "tests.create idempotent": createIdem, "tests.get": get,
		"tests.list": list, "tests.delete": del, "tests.purge": purge,
		"uploads.create": upCreate, "uploads.get": upGet, "uploads.list": upList}
}

func assertUnavailable(t *testing.T, errs map[string]error) {
	t.Helper()
	for name, err := range errs {
		if !errors.Is(err, decagon.ErrUnavailable) {
			t.Errorf("%s: err = %v (code %q), want decagon.EUnavailable", name, err, decagon.ErrorCode(err))
		}
	}
}

// TestUnreachableIsUnavailable (issue 11 item 8): a database that cannot be reached is
// decagon.EUnavailable (a 503 with Retry-After), never an internal error: nothing listening
// (connection refused), and a listener that accepts and closes at once (reset / EOF).
func TestUnreachableIsUnavailable(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()

	slam, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slam.Close() })
	go func() {
		for {
			c, err := slam.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()

	for name, addr := range map[string]string{"refused": closedAddr, "accept and close": slam.Addr().String()} {
		t.Run(name, func(t *testing.T) {
			db, err := postgres.Open(t.Context(), "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=2")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			assertUnavailable(t, calls(ctx, db))
		})
	}
}

// proxy forwards TCP connections to target until stopped; stopping closes the listener and
// every connection, as a server going away does.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func startProxy(t *testing.T, addr, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) stop() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestServerGoneIsUnavailable (issue 11 item 8): the server going away under an open pool
// (every connection cut, nothing listening) is decagon.EUnavailable, and the store recovers by
// itself once the server answers again.
func TestServerGoneIsUnavailable(t *testing.T) {
	real := pgtest.URL(t)
	u, err := url.Parse(real)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, "127.0.0.1:0", u.Host)
	addr := p.ln.Addr().String()
	u.Host = addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	db := openDB(t, u.String())
	for name, err := range calls(t.Context(), db) {
		if err != nil && !errors.Is(err, decagon.ErrNotFound) {
			t.Fatalf("before the stop, %s: %v", name, err)
		}
	}

	p.stop()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	assertUnavailable(t, calls(ctx, db))

	startProxy(t, addr, p.target)
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := db.Tests().Get(t.Context(), uuid.NewString(), "alice")
		if errors.Is(err, decagon.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("2 s after the server came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTerminatedBackendIsUnavailable (issue 11 item 8): a connection the server ends with
// 57P01 (what a shutting-down or restarted server sends) is decagon.EUnavailable.
func TestTerminatedBackendIsUnavailable(t *testing.T) {
	real := pgtest.URL(t)
	u, _ := url.Parse(real)
	q := u.Query()
	q.Set("pool_max_conns", "1")
	// Named, so that only this pool's connection is terminated: the database is shared with
	// every other test running at the same time.
	app := "terminated-" + uuid.NewString()[:8]
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	db := openDB(t, u.String())
	if _, err := db.Tests().Get(t.Context(), uuid.NewString(), "alice"); !errors.Is(err, decagon.ErrNotFound) {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(t.Context(), pgtest.BaseURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	// The pool's one idle connection is the only one with this application name.
	tag, err := admin.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE pid <> pg_backend_pid() AND datname = current_database() AND application_name = $1 AND backend_type = 'client backend'`, app)
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("terminate the pool's connection: %v, %d rows", err, tag.RowsAffected())
	}
	_, err = db.Tests().Get(t.Context(), uuid.NewString(), "alice")
	if err != nil && !errors.Is(err, decagon.ErrNotFound) && !errors.Is(err, decagon.ErrUnavailable) {
		t.Fatalf("after 57P01: err = %v (code %q), want not found (reconnected) or unavailable", err, decagon.ErrorCode(err))
	}
}
