package faulttest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/blob/blobtest"
	"github.com/decagon/decagon/internal/store/sqlite"
	"github.com/decagon/decagon/internal/uploads"
	"github.com/decagon/decagon/internal/uploads/uploadsapi"
)

// uploadsService serves the uploads API over target and an SQLite database in memory.
func uploadsService(t *testing.T, target blobtest.Target) (string, *uploadsapi.Handler) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &uploadsapi.Handler{Store: db.Uploads(), Blobs: target.Bucket}
	base, handler := serve(t, h.Routes())
	if target.Route != nil {
		target.Route(handler) // the directory store's signed URLs are the service's, as deployed
	}
	return base, h
}

// presignFor presigns a size-byte upload and returns its id, URL and headers.
func presignFor(t *testing.T, base string, size int) (string, string, map[string]string) {
	t.Helper()
	a := do(t, http.MethodPost, base+"/upload/presign", "application/json",
		[]byte(`{"filename":"big.bin","content_type":"application/octet-stream","size":`+itoa(size)+`}`), nil)
	if a.status != http.StatusCreated {
		t.Fatalf("presign: %d %s", a.status, a.body)
	}
	var p struct {
		ID      string            `json:"upload_id"`
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers"`
	}
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatal(err)
	}
	return p.ID, p.URL, p.Headers
}

// reapAll runs reaper passes at a time past every URL's expiry and grace until one claims
// nothing, and returns the first error.
func reapAll(h *uploadsapi.Handler) error {
	r := &uploads.Reaper{Store: h.Store, Objects: h.Blobs,
		Now: func() time.Time { return time.Now().Add(time.Hour + uploads.DefaultReapGrace) }}
	for {
		st, err := r.Pass(context.Background())
		if err != nil || st.Claimed == 0 {
			return err
		}
	}
}

// TestBlobStoreDown (issue 11, fault suite): with the S3 endpoint down (it drops every
// connection), a direct upload is a 503 problem with Retry-After and leaves neither object nor
// row; completing a presigned upload is a 503 too. A presigned upload whose bytes never came is
// not left pending forever: the reaper claims it, keeps trying while S3 is down, and removes it
// once S3 is back. Nothing half-written remains — no object, no multipart upload.
func TestBlobStoreDown(t *testing.T) {
	target := blobtest.NewS3(t)
	base, h := uploadsService(t, target)
	id, _, _ := presignFor(t, base, 20<<20)
	before := target.Residue(t)

	kind, end := target.Outage(t)
	if kind != blobtest.OutageDown {
		t.Fatalf("outage %q", kind)
	}
	for _, c := range []struct {
		name, method, path, ct string
		body                   []byte
	}{
		{"direct raw upload", http.MethodPost, "/upload?filename=a.bin", "application/octet-stream", make([]byte, 300<<10)},
		{"complete", http.MethodPost, "/upload/" + id + "/complete", "", nil},
	} {
		wantProblem(t, c.name+" with S3 down", do(t, c.method, base+c.path, c.ct, c.body, nil), http.StatusServiceUnavailable)
	}
	if err := reapAll(h); err == nil {
		t.Fatal("reaper with S3 down: no error")
	}
	// Claimed: invisible to clients already, removed once S3 answers.
	if a := do(t, http.MethodGet, base+"/upload/"+id, "", nil, nil); a.status != http.StatusNotFound {
		t.Errorf("claimed upload: %d, want 404", a.status)
	}
	end()

	if err := reapAll(h); err != nil {
		t.Fatalf("reaper after S3 came back: %v", err)
	}
	if left, err := h.Store.ClaimExpired(context.Background(), time.Now().Add(48*time.Hour), 10); err != nil || len(left) != 0 {
		t.Errorf("rows left: %v, %v", left, err)
	}
	var list struct{ Items []any }
	if a := do(t, http.MethodGet, base+"/upload", "", nil, nil); json.Unmarshal(a.body, &list) != nil || len(list.Items) != 0 {
		t.Errorf("uploads listed after the outage: %s", a.body)
	}
	if got := target.Residue(t); !slices.Equal(got, before) {
		t.Errorf("S3 holds %v after the outage, %v before it", got, before)
	}
	if a := do(t, http.MethodPost, base+"/upload?filename=a.txt", "text/plain", []byte("back"), nil); a.status != http.StatusCreated {
		t.Errorf("upload after the outage: %d %s", a.status, a.body)
	}
}
