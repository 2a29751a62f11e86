package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store/sqlite"
	"github.com/decagon/decagon/internal/store/storetest"
	"github.com/decagon/decagon/internal/uploads"
)

func TestUploadsConformance(t *testing.T) {
	storetest.RunUploads(t, func(t *testing.T) uploads.Store { return openDB(t, tempPath(t)).Uploads() })
}

func TestUploadsConformanceMemory(t *testing.T) {
	storetest.RunUploads(t, func(t *testing.T) uploads.Store { return openDB(t, sqlite.Memory).Uploads() })
}

// TestUploadsMigrateFrom00001 upgrades a file that has only the tests schema, with a record in
// it, as one made before uploads existed has; checks that 00002 also goes down and up again; and
// that a completed upload is in the file after it is closed.
func TestUploadsMigrateFrom00001(t *testing.T) {
	path := tempPath(t)
	ctx := t.Context()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?"+url.Values{"_pragma": {"busy_timeout(5000)"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	// The files the binary embeds, read from the package directory.
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatalf("migrate to 00001: %v", err)
	}
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	old := records.Record{ID: uuid.NewString(), Name: "before uploads", Owner: "alice", CreatedAt: time.Now()}
	if _, _, err := db.Tests().Create(ctx, old, nil); err != nil {
		t.Fatal(err)
	}

	sha := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	var last uploads.Upload
	checkUploads := func(step string, db *sqlite.DB) {
		t.Helper()
		u := uploads.Upload{ID: uuid.NewString(), Owner: "alice", Filename: "a.txt", ContentType: "text/plain",
			Status: uploads.StatusPending, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}
		if err := db.Uploads().Create(ctx, u); err != nil {
			t.Fatalf("%s: Create upload: %v", step, err)
		}
		if last, err = db.Uploads().Complete(ctx, u.ID, "alice", "text/plain", 0, sha); err != nil {
			t.Fatalf("%s: Complete upload: %v", step, err)
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
	checkUploads("after Migrate", db)
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate of an up-to-date file: %v", err)
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
	checkUploads("after down and up", db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := openDB(t, path).Uploads().Get(ctx, last.ID, "alice")
	if err != nil || got != last {
		t.Errorf("after reopening: %+v, %v; want %+v", got, err, last)
	}
}

// TestUploadsMigrate00003 (issue 11 item 3): a pending upload presigned before 00003 gets the
// 15-minute expiry its URL had, so the reaper can remove it once abandoned.
func TestUploadsMigrate00003(t *testing.T) {
	path := tempPath(t)
	ctx := t.Context()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, os.DirFS("migrations"), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatalf("migrate to 00002: %v", err)
	}
	id := uuid.NewString()
	if _, err := raw.ExecContext(ctx, fmt.Sprintf(storetest.LegacyPendingUpload, "?"), id); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	storetest.CheckLegacyPendingExpiry(ctx, t, db.Uploads())
}

// TestUploadsKill9: every acknowledged create, completion and delete (tombstone) of an upload
// survives SIGKILL.
func TestUploadsKill9(t *testing.T) {
	path := tempPath(t)
	openDB(t, path)
	storetest.RunUploadsCrashTest(t, []string{crashPathEnv + "=" + path}, func(t *testing.T) uploads.Store { return openDB(t, path).Uploads() })
}
