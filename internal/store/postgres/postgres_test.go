package postgres_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store/postgres"
	"github.com/decagon/decagon/internal/store/postgres/pgtest"
	"github.com/decagon/decagon/internal/store/storetest"
	"github.com/decagon/decagon/internal/uploads"
)

// crashURLEnv tells the crash child which database to write to.
const crashURLEnv = "DECAGON_TEST_CRASH_POSTGRES_URL"

func TestMain(m *testing.M) {
	storetest.CrashChild(func(ctx context.Context) (records.Store, error) {
		db, err := postgres.Open(ctx, os.Getenv(crashURLEnv))
		if err != nil {
			return nil, err
		}
		return db.Tests(), nil
	})
	storetest.UploadsCrashChild(func(ctx context.Context) (uploads.Store, error) {
		db, err := postgres.Open(ctx, os.Getenv(crashURLEnv))
		if err != nil {
			return nil, err
		}
		return db.Uploads(), nil
	})
	os.Exit(m.Run())
}

// openDB opens and migrates the database at url, closing it in tb.Cleanup.
func openDB(tb testing.TB, url string) *postgres.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) records.Store { return openDB(t, pgtest.URL(t)).Tests() })
}

func TestKill9(t *testing.T) {
	url := pgtest.URL(t)
	openDB(t, url)
	storetest.RunCrashTest(t, []string{crashURLEnv + "=" + url}, func(t *testing.T) records.Store { return openDB(t, url).Tests() })
}

// TestMigrateConcurrent starts several tasks' migrations at once, as a deployment does.
func TestMigrateConcurrent(t *testing.T) {
	url := pgtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		db, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(db.Close)
		wg.Go(func() { errs[i] = db.Migrate(t.Context()) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Migrate: %v", err)
	}
	if err := openDB(t, url).Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate of an up-to-date schema: %v", err)
	}
}

// TestQueryDeadline holds a lock every query needs and checks that each call gives up at its
// deadline instead of waiting.
func TestQueryDeadline(t *testing.T) {
	url := pgtest.URL(t)
	s := openDB(t, url).Tests()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "LOCK TABLE tests IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, uuid.NewString(), ""); return err }},
		{"Create", func(ctx context.Context) error {
			_, _, err := s.Create(ctx, records.Record{ID: uuid.NewString(), Owner: "a", Name: "n"}, &records.Idempotency{Key: "k", Hash: "h"})
			return err
		}},
		{"List", func(ctx context.Context) error { _, _, err := s.List(ctx, listing.Request{Limit: 1}); return err }},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		start := time.Now()
		err := c.call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s behind a lock: err = %v, want context.DeadlineExceeded", c.name, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s took %s, want about 200ms", c.name, d)
		}
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://user:s3cret@127.0.0.1:notaport/db")
	if err == nil {
		t.Fatal("Open of a malformed URL succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error reveals the password: %v", err)
	}
}

func TestPingUnreachable(t *testing.T) {
	// Port 1 on localhost refuses at once; Ping must report it rather than hang.
	db, err := postgres.Open(t.Context(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := db.Ping(ctx); err == nil {
		t.Fatal("Ping of an unreachable server succeeded")
	}
}

func BenchmarkCreate(b *testing.B) {
	storetest.BenchCreate(b, openDB(b, pgtest.URL(b)).Tests())
}

func BenchmarkGet(b *testing.B) {
	storetest.BenchGet(b, openDB(b, pgtest.URL(b)).Tests())
}
