package blob_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/decagon/decagon"
	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/blob/blobtest"
)

// fileServer opens a file bucket in dir whose signed URLs are served, with gate, by an httptest
// server.
func fileServer(t *testing.T, dir string, gate blob.PutGate) *blob.Bucket {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	b, err := blob.Open(context.Background(), "file://"+dir, blob.Options{URLSecret: secret, PublicURL: "http://" + srv.Listener.Addr().String() + "/b/"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = b.SignedHandler("/b/", gate)
	srv.Start()
	t.Cleanup(func() { srv.Close(); _ = b.Close() })
	return b
}

// TestSignedPutGate (issue 11 item 1): a gate that refuses before the write stops the PUT
// before its body is read; one that refuses after it (the upload was deleted while the body
// streamed in) has the object removed again; either way the client gets the gate's problem.
func TestSignedPutGate(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	var refuseAt atomic.Int32 // the call that refuses: 1 before the write, 2 after it
	gate := func(ctx context.Context, key string) error {
		if n := calls.Add(1); n == refuseAt.Load() {
			return decagon.Errorf(decagon.EForbidden, "upload gone")
		}
		return nil
	}
	b := fileServer(t, t.TempDir(), gate)
	for _, c := range []struct {
		name     string
		refuseAt int32
		status   int
	}{{"admitted", 0, 200}, {"refused before", 1, 403}, {"refused after", 2, 403}} {
		t.Run(c.name, func(t *testing.T) {
			calls.Store(0)
			refuseAt.Store(c.refuseAt)
			key := "uploads/o/" + strings.ReplaceAll(c.name, " ", "-")
			su, err := b.SignedURL(context.Background(), key, blob.SignOptions{Method: http.MethodPut, ContentType: "text/plain", ContentLength: 5})
			if err != nil {
				t.Fatal(err)
			}
			resp, p := send(t, http.MethodPut, su.URL, su.Header, strings.NewReader("hello"), 5)
			if resp.StatusCode != c.status || (c.status != 200 && (p == nil || p.Detail != "upload gone")) {
				t.Fatalf("status %d %+v, want %d", resp.StatusCode, p, c.status)
			}
			if c.refuseAt == 1 && calls.Load() != 1 {
				t.Errorf("gate asked %d times, want once (refused before the write)", calls.Load())
			}
			if c.refuseAt == 0 && calls.Load() != 2 {
				t.Errorf("gate asked %d times, want twice", calls.Load())
			}
			_, err = b.Stat(context.Background(), key)
			if stored := err == nil; stored != (c.status == 200) {
				t.Errorf("object stored: %v (Stat: %v), want %v", stored, err, c.status == 200)
			}
		})
	}
}

// TestSignedPutReadOnlyDisk (issue 11 item 4): a disk the store cannot write (here a read-only
// tmpfs) is a 503 problem with Retry-After, not a 500: the client can retry once it is back.
func TestSignedPutReadOnlyDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := fileServer(t, dir, nil)
	blobtest.MountTmpfs(t, dir, "1m", true)
	su, err := b.SignedURL(context.Background(), "uploads/o/k", blob.SignOptions{Method: http.MethodPut, ContentType: "text/plain", ContentLength: 5})
	if err != nil {
		t.Fatal(err)
	}
	resp, p := send(t, http.MethodPut, su.URL, su.Header, strings.NewReader("hello"), 5)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || p == nil || strings.Contains(p.Detail, dir) {
		t.Fatalf("PUT on a read-only disk: %d, Retry-After %q, %+v; want a 503 problem with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), p)
	}
	_, err = b.Put(context.Background(), "uploads/o/k", strings.NewReader("x"), blob.PutOptions{})
	if !errors.Is(err, decagon.ErrUnavailable) {
		t.Errorf("Put on a read-only disk: %v, want decagon.ErrUnavailable", err)
	}
}
