package uploadsapi_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/blob/blobtest"
	"github.com/decagon/decagon/internal/uploads"
)

// TestPresignValidation: a presigned PUT is capped at S3's single-PUT limit (5 GiB) and every
// field is checked; a refusal is a 400 problem and creates nothing.
func TestPresignValidation(t *testing.T) {
	srv := server(t, blobtest.NewFile(t), 1<<20)
	body := func(size string) string {
		return `{"filename":"a.pdf","content_type":"application/pdf","size":` + size + `}`
	}
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"empty file", body("0"), 201},
		{"exactly the cap", body(strconv.FormatInt(uploads.MaxPresignSize, 10)), 201},
		{"one byte over the cap", body(strconv.FormatInt(uploads.MaxPresignSize+1, 10)), 400},
		{"far over the cap", body("9007199254740991"), 400},
		{"negative size", body("-1"), 400},
		{"size not a number", body(`"10"`), 400},
		{"no size", `{"filename":"a.pdf","content_type":"application/pdf"}`, 400},
		{"no filename", `{"content_type":"application/pdf","size":1}`, 400},
		{"no content type", `{"filename":"a.pdf","size":1}`, 400},
		{"content type not a media type", `{"filename":"a.pdf","content_type":"pdf","size":1}`, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := call(t, "POST", srv.URL+"/upload/presign", "alice", "application/json", strings.NewReader(c.body), nil)
			if r.status != c.want {
				t.Fatalf("status %d, want %d: %s", r.status, c.want, r.body)
			}
			if c.want == 201 {
				if m := decode(t, r.body); m["upload_id"] == "" || m["url"] == "" {
					t.Fatalf("presign answer without an upload or a URL: %s", r.body)
				}
				return
			}
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("refusal as %q, want a problem: %s", ct, r.body)
			}
		})
	}
	// The refusals stored nothing: alice's listing holds the two accepted presigns only.
	r := call(t, "GET", srv.URL+"/upload", "alice", "", nil, nil)
	if items, _ := decode(t, r.body)["items"].([]any); r.status != 200 || len(items) != 2 {
		t.Fatalf("listing after the refusals: %d %s, want the 2 accepted uploads", r.status, r.body)
	}
}
