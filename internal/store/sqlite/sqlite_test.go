package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store/sqlite"
	"github.com/decagon/decagon/internal/store/storetest"
	"github.com/decagon/decagon/internal/uploads"
)

// crashPathEnv tells the crash child which file to write to.
const crashPathEnv = "DECAGON_TEST_CRASH_SQLITE_PATH"

func TestMain(m *testing.M) {
	storetest.CrashChild(func(ctx context.Context) (records.Store, error) {
		db, err := sqlite.Open(ctx, os.Getenv(crashPathEnv))
		if err != nil {
			return nil, err
		}
		return db.Tests(), nil
	})
	storetest.UploadsCrashChild(func(ctx context.Context) (uploads.Store, error) {
		db, err := sqlite.Open(ctx, os.Getenv(crashPathEnv))
		if err != nil {
			return nil, err
		}
		return db.Uploads(), nil
	})
	os.Exit(m.Run())
}

// openDB opens and migrates the database at path, closing it in tb.Cleanup.
func openDB(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	if err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

func tempPath(tb testing.TB) string { return filepath.Join(tb.TempDir(), "data", "decagon.db") }

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) records.Store { return openDB(t, tempPath(t)).Tests() })
}

func TestConformanceMemory(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) records.Store { return openDB(t, sqlite.Memory).Tests() })
}

// TestReopen finds every record, and every idempotency key, from a second DB on the same file:
// while the first is still open (the data is in the WAL), and after both are closed.
func TestReopen(t *testing.T) {
	path := tempPath(t)
	ctx := t.Context()
	first := openDB(t, path).Tests()
	var stored []records.Record
	for i := range 50 {
		r := records.Record{ID: uuid.NewString(), Name: "r", Owner: "alice", Data: []byte(`{"i":1}`), CreatedAt: time.Now()}
		var idem *records.Idempotency
		if i%2 == 0 {
			idem = &records.Idempotency{Key: r.ID, Hash: "h"}
		}
		got, _, err := first.Create(ctx, r, idem)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, got)
	}

	check := func(s records.Store) {
		t.Helper()
		for i, want := range stored {
			got, err := s.Get(ctx, want.ID, "alice")
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			if got.ID != want.ID || !got.CreatedAt.Equal(want.CreatedAt) || string(got.Data) != string(want.Data) {
				t.Errorf("record %d = %+v, want %+v", i, got, want)
			}
			if i%2 == 0 {
				r := records.Record{ID: uuid.NewString(), Name: "r", Owner: "alice", CreatedAt: want.CreatedAt.Add(time.Minute)}
				if _, replayed, err := s.Create(ctx, r, &records.Idempotency{Key: want.ID, Hash: "h"}); err != nil || !replayed {
					t.Errorf("key %d after reopen: replayed %v, err %v", i, replayed, err)
				}
			}
		}
	}
	second, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	check(second.Tests())
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	check(openDB(t, path).Tests())
}

func TestKill9(t *testing.T) {
	path := tempPath(t)
	openDB(t, path)
	storetest.RunCrashTest(t, []string{crashPathEnv + "=" + path}, func(t *testing.T) records.Store { return openDB(t, path).Tests() })
}

// TestWriteLockDeadline has another process-like connection hold the write lock, and checks
// that Create gives up at its deadline rather than after the busy timeout.
func TestWriteLockDeadline(t *testing.T) {
	path := tempPath(t)
	s := openDB(t, path).Tests()
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = s.Create(ctx, records.Record{ID: uuid.NewString(), Owner: "a", Name: "n"}, &records.Idempotency{Key: "k", Hash: "h"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Create behind another writer: err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Create took %s, want about 200ms", d)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(t.Context(), records.Record{ID: uuid.NewString(), Owner: "a", Name: "n"}, nil); err != nil {
		t.Errorf("Create once the lock is released: %v", err)
	}
}

func TestOpen(t *testing.T) {
	path := tempPath(t)
	openDB(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("database file mode %o, want 600", mode)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("parent directory: %v, err %v; want mode 700", fi.Mode(), err)
	}
	if err := openDB(t, path).Migrate(t.Context()); err != nil {
		t.Errorf("Migrate of an up-to-date file: %v", err)
	}
	for _, bad := range []string{"", t.TempDir()} {
		if db, err := sqlite.Open(t.Context(), bad); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func BenchmarkCreate(b *testing.B) {
	storetest.BenchCreate(b, openDB(b, tempPath(b)).Tests())
}

func BenchmarkGet(b *testing.B) {
	storetest.BenchGet(b, openDB(b, tempPath(b)).Tests())
}
