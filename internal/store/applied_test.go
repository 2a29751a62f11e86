package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/store/postgres/pgtest"
)

// MigrateCounted reports the migrations it applied: all of them on a new database, none on the
// next run.
func TestMigrateCounted(t *testing.T) {
	for _, b := range []struct {
		name string
		url  func() string
	}{
		{"sqlite", func() string { return "sqlite:" + filepath.Join(t.TempDir(), "d.db") }},
		{"postgres", func() string { return pgtest.URL(t) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			url := b.url()
			db, first, err := store.MigrateCounted(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			db, second, err := store.MigrateCounted(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			db.Close()
			if first < 2 || second != 0 {
				t.Fatalf("applied %d, then %d; want every migration, then none", first, second)
			}
		})
	}
}
