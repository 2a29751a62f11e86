package main

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"testing"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/records/recordsapi"
	"github.com/decagon/decagon/internal/service"
	"github.com/decagon/decagon/internal/uploads/uploadsapi"
	"net/http"
)

// Every route the services serve is an operation of api/openapi.yaml, and every operation of the
// document is served by some service.
func TestRoutesMatchDocument(t *testing.T) {
	bucket, err := blob.Open(context.Background(), "file://"+t.TempDir(), blob.Options{URLSecret: make([]byte, 32), PublicURL: "http://127.0.0.1/upload/_blob/"})
	if err != nil {
		t.Fatal(err)
	}
	defer bucket.Close()
	noAuth := func(_ auth.Requirement, next http.Handler) http.Handler { return next }
	_, rt, err := service.New(service.Config{
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Authenticate: noAuth,
		Health:       http.NotFoundHandler(),
	}, (&recordsapi.Handler{}).Routes(), (&uploadsapi.Handler{Blobs: bucket}).Routes())
	if err != nil {
		t.Fatal(err)
	}
	served := rt.Patterns()
	ops, err := api.Operations()
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, o := range ops {
		documented = append(documented, o.Pattern())
	}
	sort.Strings(served)
	sort.Strings(documented)
	if len(served) != len(documented) {
		t.Fatalf("served %v\ndocumented %v", served, documented)
	}
	for i := range served {
		if served[i] != documented[i] {
			t.Fatalf("served %v\ndocumented %v", served, documented)
		}
	}
}
