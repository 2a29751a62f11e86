package uploadsapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob/blobtest"
	"github.com/decagon/decagon/internal/store/sqlite"
	"github.com/decagon/decagon/internal/uploads/uploadsapi"
	"github.com/decagon/decagon/internal/web"
)

// server serves the uploads routes; the caller is named by the X-Test-User header (token
// checks have their own tests; here the object store is what varies).
func server(t testing.TB, target blobtest.Target, maxUpload int64) *httptest.Server {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Memory)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	h := &uploadsapi.Handler{Store: db.Uploads(), Blobs: target.Bucket, MaxUpload: maxUpload}
	rt := &web.Router{}
	for p, handler := range h.Routes() {
		rt.Handle(p, handler)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-Test-User"); u != "" {
			r = r.WithContext(auth.WithClaims(r.Context(), &auth.Claims{Subject: u}))
		}
		rt.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func call(t *testing.T, method, url, user, contentType string, body io.Reader, headers map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if user != "" {
		req.Header.Set("X-Test-User", user)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return m
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The same flows against the directory store and against S3 (the real AWS SDK talking to an
// in-process S3-compatible server).
func TestFlowsOnEveryStore(t *testing.T) {
	for name, newTarget := range map[string]func(testing.TB) blobtest.Target{"file": blobtest.NewFile, "s3": blobtest.NewS3} {
		t.Run(name, func(t *testing.T) {
			target := newTarget(t)
			srv := server(t, target, 1<<20)

			// Multipart upload, metadata, download byte for byte.
			data := make([]byte, 300_000)
			_, _ = rand.Read(data)
			var form bytes.Buffer
			mw := multipart.NewWriter(&form)
			fw, _ := mw.CreateFormFile("file", "report.bin")
			_, _ = fw.Write(data)
			_ = mw.Close()
			r := call(t, "POST", srv.URL+"/upload", "alice", mw.FormDataContentType(), &form, nil)
			if r.status != 201 {
				t.Fatalf("upload: %d %s", r.status, r.body)
			}
			up := decode(t, r.body)
			id := up["upload_id"].(string)
			if up["sha256"] != hexSum(data) || up["size"] != float64(len(data)) {
				t.Fatalf("metadata %v", up)
			}
			meta := decode(t, call(t, "GET", srv.URL+"/upload/"+id, "alice", "", nil, nil).body)
			dl := call(t, "GET", meta["download_url"].(string), "", "", nil, nil)
			if dl.status != 200 || !bytes.Equal(dl.body, data) {
				t.Fatalf("download: %d, %d bytes", dl.status, len(dl.body))
			}
			if r := call(t, "GET", srv.URL+"/upload/"+id, "bob", "", nil, nil); r.status != 404 {
				t.Fatalf("bob: %d", r.status)
			}

			// Over the limit: 413 and nothing new in the store.
			before := len(target.Residue(t))
			big := bytes.NewReader(make([]byte, 1<<20+1))
			if r := call(t, "POST", srv.URL+"/upload?filename=big", "alice", "application/octet-stream", big, nil); r.status != 413 {
				t.Fatalf("too large: %d %s", r.status, r.body)
			}
			if after := len(target.Residue(t)); after != before {
				t.Fatalf("store holds %d items after a refused upload, %d before", after, before)
			}

			// Presigned upload of a file larger than the direct limit.
			large := make([]byte, 2<<20)
			_, _ = rand.Read(large)
			r = call(t, "POST", srv.URL+"/upload/presign", "alice", "application/json",
				strings.NewReader(`{"filename":"large.bin","content_type":"application/octet-stream","size":2097152}`), nil)
			if r.status != 201 {
				t.Fatalf("presign: %d %s", r.status, r.body)
			}
			p := decode(t, r.body)
			headers := map[string]string{}
			for k, v := range p["headers"].(map[string]any) {
				headers[k] = v.(string)
			}
			if r := call(t, "PUT", p["url"].(string), "", headers["Content-Type"], bytes.NewReader(large), headers); r.status != 200 {
				t.Fatalf("PUT: %d %s", r.status, r.body)
			}
			pid := p["upload_id"].(string)
			if r := call(t, "POST", srv.URL+"/upload/"+pid+"/complete", "bob", "", nil, nil); r.status != 404 {
				t.Fatalf("bob completes alice's upload: %d", r.status)
			}
			r = call(t, "POST", srv.URL+"/upload/"+pid+"/complete", "alice", "", nil, nil)
			if r.status != 200 || decode(t, r.body)["sha256"] != hexSum(large) {
				t.Fatalf("complete: %d %s", r.status, r.body)
			}
			redir := call(t, "GET", srv.URL+"/upload/"+pid+"?redirect=true", "alice", "", nil, nil)
			if redir.status != 302 {
				t.Fatalf("redirect: %d", redir.status)
			}
			if dl := call(t, "GET", redir.header.Get("Location"), "", "", nil, nil); !bytes.Equal(dl.body, large) {
				t.Fatalf("download of presigned upload: %d, %d bytes", dl.status, len(dl.body))
			}

			// An expired download URL is refused.
			target.Advance(time.Hour)
			if r := call(t, "GET", meta["download_url"].(string), "", "", nil, nil); r.status != 403 {
				t.Fatalf("expired URL: %d", r.status)
			}

			// Delete removes rows and objects.
			for _, u := range []string{id, pid} {
				if r := call(t, "DELETE", srv.URL+"/upload/"+u, "alice", "", nil, nil); r.status != 204 {
					t.Fatalf("delete: %d %s", r.status, r.body)
				}
			}
			if res := target.Residue(t); len(res) != 0 {
				t.Fatalf("store not empty after deleting everything: %v", res)
			}
		})
	}
}
