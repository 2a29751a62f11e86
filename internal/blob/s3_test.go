package blob_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/decagon/decagon/internal/blob"
	"github.com/decagon/decagon/internal/blob/blobtest"
)

// TestS3PresignShape pins what the SDK's presigned URLs bind, since gofakes3 checks nothing
// itself and the conformance suite's checks go through a verifier built on the same SDK.
func TestS3PresignShape(t *testing.T) {
	t.Parallel()
	tg := blobtest.NewS3(t)
	ctx := context.Background()
	cases := []struct {
		name          string
		o             blob.SignOptions
		signedHeaders string
		query         map[string]string
	}{
		{"PUT", blob.SignOptions{Method: http.MethodPut, ContentType: "image/png", ContentLength: 1234, Expiry: 10 * time.Minute},
			"content-length;content-type;host;if-none-match", map[string]string{"X-Amz-Expires": "600", "x-id": "PutObject"}},
		// SigV4 signs no zero Content-Length: S3 does not bind an empty upload's size.
		{"PUT empty", blob.SignOptions{Method: http.MethodPut, ContentLength: 0},
			"content-type;host;if-none-match", map[string]string{"X-Amz-Expires": "900"}},
		{"GET", blob.SignOptions{Method: http.MethodGet, ContentDisposition: `attachment; filename="a.pdf"`, ContentType: "application/pdf"},
			"host", map[string]string{"response-content-disposition": `attachment; filename="a.pdf"`, "response-content-type": "application/pdf"}},
	}
	for _, c := range cases {
		su, err := tg.Bucket.SignedURL(ctx, "uploads/o/x", c.o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		u, err := url.Parse(su.URL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if got := q.Get("X-Amz-SignedHeaders"); got != c.signedHeaders {
			t.Errorf("%s: signed headers %q, want %q", c.name, got, c.signedHeaders)
		}
		for k, v := range c.query {
			if q.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", c.name, k, q.Get(k), v)
			}
		}
		for k := range q {
			if strings.Contains(strings.ToLower(k), "checksum") {
				t.Errorf("%s: URL carries %s; a presigned PUT must not carry the checksum of an empty body", c.name, k)
			}
		}
		if !strings.HasSuffix(u.Path, "/decagon-test/uploads/o/x") {
			t.Errorf("%s: path %q", c.name, u.Path)
		}
	}
}

// TestS3PresignDefaultChecksum: with the SDK's default checksum mode (when_supported, what a
// deployment gets without request_checksum_calculation=) a presigned PUT still carries no
// checksum. Presigning makes no request, so no server is needed.
func TestS3PresignDefaultChecksum(t *testing.T) {
	t.Parallel()
	b, err := blob.Open(context.Background(), "s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:1&use_path_style=true",
		blob.Options{S3Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	su, err := b.SignedURL(context.Background(), "k", blob.SignOptions{Method: http.MethodPut, ContentLength: 10})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(su.URL), "checksum") {
		t.Errorf("presigned PUT %s carries a checksum parameter", su.URL)
	}
	for k := range su.Header {
		if strings.Contains(strings.ToLower(k), "checksum") {
			t.Errorf("presigned PUT requires header %s", k)
		}
	}
}

// TestS3SignedHandlerIsInert: S3 serves its own presigned URLs; the handler refuses everything.
func TestS3SignedHandlerIsInert(t *testing.T) {
	t.Parallel()
	tg := blobtest.NewS3(t)
	h := tg.Bucket.SignedHandler("/upload/_blob/", nil)
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		rec := newRecorder()
		h.ServeHTTP(rec, mustRequest(t, m, "/upload/_blob/uploads/x?token=abc"))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", m, rec.Code)
		}
	}
}
