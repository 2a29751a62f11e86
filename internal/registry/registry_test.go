package registry

import (
	"context"
	"log/slog"
	"slices"
	"testing"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/store"
)

// Every route the services serve is an operation of api/openapi.yaml, and every operation of the
// document is served by some service.
func TestRoutesMatchDocument(t *testing.T) {
	ctx := context.Background()
	db, err := store.OpenMigrated(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bucket, err := blob.Open(ctx, "file://"+t.TempDir(), blob.Options{URLSecret: make([]byte, 32), PublicURL: "http://127.0.0.1/upload/_blob/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	v, err := auth.NewVerifier(auth.Config{Issuer: "https://issuer.example", ClientIDs: []string{"c"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(Names, Deps{DB: db, Bucket: bucket, Verifier: v, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ops, err := api.Operations()
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, o := range ops {
		documented = append(documented, o.Pattern())
	}
	served := slices.Sorted(slices.Values(b.Patterns))
	slices.Sort(documented)
	if !slices.Equal(served, documented) {
		t.Fatalf("served %v\ndocumented %v", served, documented)
	}
}

// An unknown name is refused, naming the known ones; uploads without a store is refused.
func TestBuildRefuses(t *testing.T) {
	db, err := store.OpenMigrated(context.Background(), "sqlite::memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, names := range [][]string{{"nope"}, {"uploads"}} {
		if _, err := Build(names, Deps{DB: db, Logger: slog.New(slog.DiscardHandler)}); err == nil {
			t.Errorf("Build(%v) succeeded", names)
		}
	}
}

func TestLocalURL(t *testing.T) {
	for addr, want := range map[string]string{":8080": "http://127.0.0.1:8080", "0.0.0.0:80": "http://127.0.0.1:80",
		"[::]:80": "http://127.0.0.1:80", "localhost:9": "http://localhost:9", "[::1]:9": "http://[::1]:9"} {
		if got := LocalURL(addr); got != want {
			t.Errorf("LocalURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
