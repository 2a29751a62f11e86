package store_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/store/postgres/pgtest"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		url, backend, target string
	}{
		{"postgres://u:p@h:5432/db?sslmode=disable", store.Postgres, "postgres://u:p@h:5432/db?sslmode=disable"},
		{"postgresql://h/db", store.Postgres, "postgresql://h/db"},
		{"sqlite:decagon.db", store.SQLite, "decagon.db"},
		{"sqlite:.decagon/decagon.db", store.SQLite, ".decagon/decagon.db"},
		{"sqlite:/var/lib/decagon/d.db", store.SQLite, "/var/lib/decagon/d.db"},
		{"sqlite:///var/lib/decagon/d.db", store.SQLite, "/var/lib/decagon/d.db"},
		{"sqlite://rel/d.db", store.SQLite, "rel/d.db"},
		{"sqlite::memory:", store.SQLite, ":memory:"},
		{"sqlite://:memory:", store.SQLite, ":memory:"},
	} {
		backend, target, err := store.Parse(c.url)
		if err != nil || backend != c.backend || target != c.target {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q", c.url, backend, target, err, c.backend, c.target)
		}
	}
	for _, bad := range []string{
		"", "decagon.db", "mysql://root:hunter2@h/db", "sqlite:", "sqlite://", "POSTGRES://h/db", "file:x.db", ":memory:",
	} {
		_, _, err := store.Parse(bad)
		if err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Parse(%q) error reveals the password: %v", bad, err)
		}
		if !strings.Contains(err.Error(), "sqlite:") {
			t.Errorf("Parse(%q) error %q does not name the accepted forms", bad, err)
		}
	}
}

func TestOpen(t *testing.T) {
	for _, c := range []struct {
		name, backend string
		url           func(t *testing.T) string
	}{
		{"memory", store.SQLite, func(*testing.T) string { return "sqlite::memory:" }},
		{"file", store.SQLite, func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "d", "x.db") }},
		{"postgres", store.Postgres, func(t *testing.T) string { return pgtest.URL(t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := store.Open(t.Context(), c.url(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := db.Close(); err != nil {
					t.Error(err)
				}
			})
			if db.Backend() != c.backend {
				t.Errorf("Backend() = %q, want %q", db.Backend(), c.backend)
			}
			if err := db.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := db.Migrate(t.Context()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			r := records.Record{ID: uuid.NewString(), Name: "n", Owner: "o", CreatedAt: time.Now()}
			if _, _, err := db.Tests().Create(t.Context(), r, nil); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if _, err := db.Tests().Get(t.Context(), r.ID, "o"); err != nil {
				t.Fatalf("Get: %v", err)
			}
		})
	}
	if _, err := store.Open(t.Context(), "mysql://h/db"); err == nil {
		t.Error("Open of a mysql URL succeeded")
	}
}
