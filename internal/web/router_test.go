package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/problem"
)

func TestRouterProblems(t *testing.T) {
	rt := &Router{}
	rt.Handle("GET /test/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "" {
			t.Error("no path value")
		}
		w.WriteHeader(299)
	}))
	rt.Handle("DELETE /test/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(298) }))
	h := RequestIDs(slog.New(slog.NewTextHandler(io.Discard, nil)), rt)
	cases := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/test/1", 299, ""},
		{"DELETE", "/test/1", 298, ""},
		{"HEAD", "/test/1", 299, ""},
		{"PUT", "/test/1", 405, "DELETE, GET, HEAD"},
		{"GET", "/nope", 404, ""},
		{"GET", "/test/1/../2", 404, ""},
		{"GET", "//test/1", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://x"+tc.path, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status < 400 {
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
				t.Fatalf("content type %q", ct)
			}
			if got := rec.Header().Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
			var p problem.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Status != tc.status || p.RequestID == "" || p.RequestID != rec.Header().Get(HeaderRequestID) {
				t.Fatalf("problem %+v, header id %q", p, rec.Header().Get(HeaderRequestID))
			}
		})
	}
}

func TestRequestIDs(t *testing.T) {
	h := RequestIDs(slog.New(slog.NewTextHandler(io.Discard, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, RequestID(r.Context()))
	}))
	cases := []struct {
		in   string
		keep bool
	}{
		{"abc-123", true},
		{"Root=1-5759e988-bd862e3fe1be46a994272793", false}, // '=' is not in the safe set
		{"", false},
		{"has space", false},
		{"x\r\nSet-Cookie: a", false},
		{string(make([]byte, 129)), false},
	}
	for _, tc := range cases {
		req := httptest.NewRequest("GET", "/", nil)
		if tc.in != "" {
			req.Header[HeaderRequestID] = []string{tc.in}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(HeaderRequestID)
		if got != rec.Body.String() || got == "" {
			t.Fatalf("%q: header %q body %q", tc.in, got, rec.Body.String())
		}
		if (got == tc.in) != tc.keep {
			t.Fatalf("%q: kept=%v, want %v", tc.in, got == tc.in, tc.keep)
		}
	}
}

func TestRecover(t *testing.T) {
	h := Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || rec.Header().Get("Content-Type") != problem.ContentType {
		t.Fatalf("got %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if body := rec.Body.String(); strings.Contains(body, "boom") || strings.Contains(body, "goroutine") {
		t.Fatalf("panic details leaked: %s", body)
	}
}

// PathUUID answers the canonical (lower-case) form of a UUID, and a 400 for anything else.
func TestPathUUID(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e"},
		{"0190B3B2-7E4C-7A12-8D3E-2F1A0B9C8D7E", "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e"},
		{"0190b3b27e4c7a128d3e2f1a0b9c8d7e", ""},
		{"{0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e}", ""},
		{"zz90b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", ""},
	} {
		r := httptest.NewRequest(http.MethodGet, "/test/x", nil)
		r.SetPathValue("id", c.in)
		got, err := PathUUID(r, "id")
		if got != c.want || (err == nil) != (c.want != "") {
			t.Errorf("PathUUID(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
