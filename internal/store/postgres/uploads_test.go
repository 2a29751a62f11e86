package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver, for goose
	"github.com/pressly/goose/v3"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store/postgres"
	"github.com/decagon/decagon/internal/store/postgres/pgtest"
	"github.com/decagon/decagon/internal/store/storetest"
	"github.com/decagon/decagon/internal/uploads"
)

func TestUploadsConformance(t *testing.T) {
	storetest.RunUploads(t, func(t *testing.T) uploads.Store { return openDB(t, pgtest.URL(t)).Uploads() })
}

// TestUploadsMigrateFrom00001 upgrades a database that has only the tests schema, with a record
// in it, as a deployment made before uploads existed has; then checks that 00002 also goes down
// and up again.
func TestUploadsMigrateFrom00001(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	sqlDB, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	// The files the binary embeds, read from the package directory.
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatalf("migrate to 00001: %v", err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	old := records.Record{ID: uuid.NewString(), Name: "before uploads", Owner: "alice", CreatedAt: time.Now()}
	if _, _, err := db.Tests().Create(ctx, old, nil); err != nil {
		t.Fatal(err)
	}

	checkUploads := func(step string) {
		t.Helper()
		u := uploads.Upload{ID: uuid.NewString(), Owner: "alice", Filename: "a.txt", ContentType: "text/plain",
			Status: uploads.StatusPending, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}
		if err := db.Uploads().Create(ctx, u); err != nil {
			t.Fatalf("%s: Create upload: %v", step, err)
		}
		if _, err := db.Uploads().Get(ctx, u.ID, "alice"); err != nil {
			t.Fatalf("%s: Get upload: %v", step, err)
		}
		if _, err := db.Tests().Get(ctx, old.ID, "alice"); err != nil {
			t.Fatalf("%s: the tests record is gone: %v", step, err)
		}
		if v, err := p.GetDBVersion(ctx); err != nil || v != 3 {
			t.Fatalf("%s: schema version %d, %v; want 3", step, v, err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate from 00001: %v", err)
	}
	checkUploads("after Migrate")
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate of an up-to-date schema: %v", err)
	}
	if _, err := p.DownTo(ctx, 1); err != nil {
		t.Fatalf("migrate down to 00001: %v", err)
	}
	_, err = db.Uploads().Get(ctx, uuid.NewString(), "")
	if err == nil || errors.Is(err, decagon.ErrNotFound) {
		t.Fatalf("Get after 00002 went down: err = %v, want a missing table", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate after down: %v", err)
	}
	checkUploads("after down and up")
}

// TestUploadsQueryDeadline holds a lock every query needs and checks that each call gives up at
// its deadline instead of waiting.
func TestUploadsQueryDeadline(t *testing.T) {
	url := pgtest.URL(t)
	s := openDB(t, url).Uploads()
	id := uuid.NewString()
	if err := s.Create(t.Context(), uploads.Upload{ID: id, Owner: "a", Status: uploads.StatusPending, ExpiresAt: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "LOCK TABLE uploads IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	sha := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	for _, c := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Create", func(ctx context.Context) error {
			return s.Create(ctx, uploads.Upload{ID: uuid.NewString(), Owner: "a", Status: uploads.StatusPending, ExpiresAt: time.Now()})
		}},
		{"ClaimExpired", func(ctx context.Context) error {
			_, err := s.ClaimExpired(ctx, time.Now().Add(time.Hour), 10)
			return err
		}},
		{"Get", func(ctx context.Context) error { _, err := s.Get(ctx, id, ""); return err }},
		{"List", func(ctx context.Context) error { _, _, err := s.List(ctx, listing.Request{Limit: 1}); return err }},
		{"Complete", func(ctx context.Context) error { _, err := s.Complete(ctx, id, "a", "a/b", 0, sha); return err }},
		{"Delete", func(ctx context.Context) error { return s.Delete(ctx, id, "") }},
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

// TestUploadsMigrate00003 (issue 11 item 3): a pending upload presigned before 00003 gets the
// 15-minute expiry its URL had, so the reaper can remove it once abandoned.
func TestUploadsMigrate00003(t *testing.T) {
	url := pgtest.URL(t)
	ctx := t.Context()
	sqlDB, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatalf("migrate to 00002: %v", err)
	}
	id := uuid.NewString()
	if _, err := sqlDB.ExecContext(ctx, fmt.Sprintf(storetest.LegacyPendingUpload, "$1"), id); err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.CheckLegacyPendingExpiry(ctx, t, db.Uploads())
}

// TestUploadsKill9: every acknowledged create, completion and delete (tombstone) of an upload
// survives SIGKILL.
func TestUploadsKill9(t *testing.T) {
	url := pgtest.URL(t)
	openDB(t, url)
	storetest.RunUploadsCrashTest(t, []string{crashURLEnv + "=" + url}, func(t *testing.T) uploads.Store { return openDB(t, url).Uploads() })
}
