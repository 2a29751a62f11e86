package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/store/postgres/pgtest"
)

// Pools reports the backend's pools, after use, for metrics.
func TestPools(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range []struct {
		name string
		url  func() string
	}{
		{"sqlite", func() string { return "sqlite:" + filepath.Join(t.TempDir(), "p.db") }},
		{"postgres", func() string { return pgtest.URL(t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := store.Open(ctx, c.url())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			p := db.Pools()
			switch db.Backend() {
			case store.Postgres:
				if p.Postgres == nil || p.Postgres.MaxConns() <= 0 || p.Postgres.AcquireCount() == 0 {
					t.Fatalf("postgres pool %+v", p.Postgres)
				}
			default:
				if p.Postgres != nil || p.SQLiteWrite.MaxOpenConnections != 1 || p.SQLiteWrite.OpenConnections == 0 {
					t.Fatalf("sqlite pools %+v", p)
				}
			}
		})
	}
}
