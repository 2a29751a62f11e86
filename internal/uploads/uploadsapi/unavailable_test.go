package uploadsapi_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/blob/blobtest"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/uploads/uploadsapi"
	"github.com/decagon/decagon/internal/web"
)

// TestDatabaseDownIs503 (issue 11 item 8): with PostgreSQL unreachable the uploads routes answer
// a 503 problem with Retry-After, never a 500, and a direct upload leaves no object behind.
func TestDatabaseDownIs503(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	db, err := store.Open(context.Background(), "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	target := blobtest.NewFile(t)
	h := &uploadsapi.Handler{Store: db.Uploads(), Blobs: target.Bucket}
	rt := &web.Router{}
	for p, handler := range h.Routes() {
		rt.Handle(p, handler)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt.ServeHTTP(w, r.WithContext(auth.WithClaims(r.Context(), &auth.Claims{Subject: "alice"})))
	}))
	t.Cleanup(srv.Close)
	id := "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e"
	for _, c := range []struct{ method, path, ct, body string }{
		{"POST", "/upload?filename=a.txt", "text/plain", "hello"},
		{"POST", "/upload/presign", "application/json", `{"filename":"a.pdf","content_type":"application/pdf","size":10}`},
		{"GET", "/upload", "", ""},
		{"GET", "/upload/" + id, "", ""},
		{"POST", "/upload/" + id + "/complete", "", ""},
		{"DELETE", "/upload/" + id, "", ""},
	} {
		r := call(t, c.method, srv.URL+c.path, "", c.ct, strings.NewReader(c.body), nil)
		var p struct{ Detail string }
		if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || json.Unmarshal(r.body, &p) != nil {
			t.Errorf("%s %s: %d, Retry-After %q: %s; want a 503 problem with Retry-After", c.method, c.path, r.status, r.header.Get("Retry-After"), r.body)
		}
		if strings.Contains(p.Detail, addr) {
			t.Errorf("%s %s: detail %q leaks the address", c.method, c.path, p.Detail)
		}
	}
	if res := target.Residue(t); len(res) != 0 {
		t.Errorf("objects left behind by refused uploads: %v", res)
	}
}
