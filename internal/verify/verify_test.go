package verify

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// A stage that breaks the contract must make the suite fail, naming the check that caught it.
// (The suite passing against the real stack is TestVerifyAgainstDev in cmd/decagon.)
func TestVerifyFailsOnBrokenStage(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		// wantFail are lines the output must hold.
		wantFail []string
	}{
		{
			name: "500 everywhere",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Error(w, "internal error", http.StatusInternalServerError)
			},
			wantFail: []string{
				"FAIL health: GET /health-check is 200 ok without a token: want 200, got 500",
				"FAIL auth: GET /test without a token is 401: want 401 problem, got 500",
				"FAIL records: POST /test is 201 with the record and its Location: want 201, got 500",
				"FAIL gateway: an unknown path is a 404 or 403 problem: want 404 or 403 problem, got 500",
			},
		},
		{
			name: "the right statuses with plain JSON errors",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if r.Header.Get("Authorization") == "" {
					w.Header().Set("WWW-Authenticate", "Bearer")
					w.WriteHeader(http.StatusUnauthorized)
					w.Write([]byte(`{"message":"Unauthorized"}`))
					return
				}
				w.WriteHeader(http.StatusNotFound)
				w.Write([]byte(`{"message":"Not Found"}`))
			},
			wantFail: []string{
				`FAIL auth: GET /test without a token is 401: want Content-Type application/problem+json, got "application/json"`,
				`FAIL gateway: an unknown path is a 404 or 403 problem: want Content-Type application/problem+json, got "application/json"`,
			},
		},
		{
			name: "problems without a request_id, no WWW-Authenticate",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"type":"about:blank","title":"Unauthorized","status":401}`))
			},
			wantFail: []string{
				"FAIL auth: GET /test with a forged token is 401: want a problem with a request_id, got 401",
			},
		},
		{
			name: "problem status differs from the HTTP status",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.Header().Set("WWW-Authenticate", "Bearer")
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"type":"about:blank","title":"Unauthorized","status":400,"request_id":"r"}`))
			},
			wantFail: []string{
				"FAIL auth: GET /test without a token is 401: want a problem with status 401, got 401",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			var out bytes.Buffer
			res, err := Run(context.Background(), Config{URL: srv.URL, Token: "t", OtherToken: "o", Out: &out})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() || res.Failed == 0 {
				t.Fatalf("passed against a broken stage:\n%s", out.String())
			}
			for _, want := range tt.wantFail {
				if !hasLinePrefix(out.String(), want) {
					t.Errorf("no line starting %q in:\n%s", want, out.String())
				}
			}
			last := lastLine(out.String())
			if !strings.HasPrefix(last, "0 passed") && !strings.Contains(last, " failed") {
				t.Errorf("closing line %q", last)
			}
			if len(res.Failures) != res.Failed {
				t.Errorf("%d failures listed, %d counted", len(res.Failures), res.Failed)
			}
		})
	}
}

// A stage without the uploads service skips the upload checks and says why, rather than
// failing them; the rest of the suite still runs.
func TestVerifySkipsUploadsWhenStageHasNone(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"type":"about:blank","title":"Not Found","status":404,"request_id":"r"}`))
	}))
	defer srv.Close()
	var out bytes.Buffer
	if _, err := Run(context.Background(), Config{URL: srv.URL, Token: "t", Out: &out}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"skip uploads: POST /upload with raw bytes is 201 with their size and SHA-256: this stage has no uploads",
		"skip routes: POST /upload/presign: this stage has no uploads",
		"ok   gateway: an unknown path is a 404 or 403 problem",
		"FAIL routes: every operation of api/openapi.yaml answered 2xx or 3xx: want a 2xx or 3xx from every operation, got none from DELETE /test/{test_id}",
	} {
		if !hasLinePrefix(out.String(), want) {
			t.Errorf("no line starting %q in:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "FAIL uploads") {
		t.Errorf("upload checks failed instead of skipping:\n%s", out.String())
	}
}

// A throttled request (429 with a short Retry-After) is sent again; an unreachable stage stops
// the run at its first check.
func TestVerifyRetriesThrottledAndStopsWhenUnreachable(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/health-check" && calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok","checks":{}}`))
	}))
	defer srv.Close()
	var out bytes.Buffer
	if _, err := Run(context.Background(), Config{URL: srv.URL, Token: "t", Out: &out}); err != nil {
		t.Fatal(err)
	}
	if !hasLinePrefix(out.String(), "ok   health: GET /health-check") || calls.Load() < 2 {
		t.Errorf("the throttled health check was not retried (%d calls):\n%s", calls.Load(), out.String())
	}

	srv.Close()
	out.Reset()
	res, err := Run(context.Background(), Config{URL: srv.URL, Token: "t", Out: &out})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 1 || !hasLinePrefix(out.String(), "FAIL health: GET /health-check is 200 ok without a token: want a response, got ") ||
		!hasLinePrefix(out.String(), "skip every other check: the stage at "+srv.URL+" did not answer") {
		t.Errorf("unreachable stage:\n%s", out.String())
	}
}

func TestVerifyConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{URL: "", Token: "t"},
		{URL: "ftp://example.com", Token: "t"},
		{URL: "http://", Token: "t"},
		{URL: "http://127.0.0.1:1"},
	} {
		if _, err := Run(context.Background(), cfg); err == nil {
			t.Errorf("Run(%+v) = nil error", cfg)
		}
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		template, path string
		want           bool
	}{
		{"/test", "/test", true},
		{"/test", "/test/", true},
		{"/test", "/tests", false},
		{"/test/{test_id}", "/test/abc", true},
		{"/test/{test_id}", "/test", false},
		{"/test/{test_id}", "/test/abc/def", false},
		{"/upload/{upload_id}/complete", "/upload/u1/complete", true},
		{"/upload/{upload_id}/complete", "/upload/u1/other", false},
		{"/upload/presign", "/upload/presign", true},
		{"/upload/_blob/uploads/{owner}/{upload_id}", "/upload/_blob/uploads/o/u", true},
	}
	for _, tt := range tests {
		if got := match(tt.template, tt.path); got != tt.want {
			t.Errorf("match(%q, %q) = %v, want %v", tt.template, tt.path, got, tt.want)
		}
	}
}

// Every route of the document is read, none is repeated in the suite: each needs a token or is
// the health check or a local-only signed URL.
func TestRoutesFromDocument(t *testing.T) {
	routes, err := loadRoutes()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range routes {
		seen[r.pattern()] = true
		if r.public && r.path != "/health-check" && !r.localOnly {
			t.Errorf("%s is public but neither the health check nor local-only: add checks for it", r.pattern())
		}
	}
	for _, p := range []string{"POST /test", "GET /test/{test_id}", "POST /upload/presign", "PUT /upload/_blob/uploads/{owner}/{upload_id}"} {
		if !seen[p] {
			t.Errorf("route %s not read from the document", p)
		}
	}
}

func hasLinePrefix(out, prefix string) bool {
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}
