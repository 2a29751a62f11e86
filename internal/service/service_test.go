package service

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/auth"
)

// TestCallerAndScope (issue 16 item 4): the caller comes from the verified claims; only the
// admin group widens the scope to every owner.
func TestCallerAndScope(t *testing.T) {
	cases := []struct {
		name      string
		claims    *auth.Claims
		wantErr   bool
		wantScope string
		wantAdmin bool
	}{
		{"no claims", nil, true, "", false},
		{"empty subject", &auth.Claims{Subject: ""}, true, "", false},
		{"user", &auth.Claims{Subject: "alice"}, false, "alice", false},
		{"other groups", &auth.Claims{Subject: "alice", Groups: []string{"admins", "Admin", "staff"}}, false, "alice", false},
		{"admin", &auth.Claims{Subject: "root", Groups: []string{"staff", AdminGroup}}, false, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/test", nil)
			if c.claims != nil {
				r = r.WithContext(auth.WithClaims(r.Context(), c.claims))
			}
			got, err := CallerOf(r)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if err == nil && (got.Scope() != c.wantScope || got.Admin != c.wantAdmin) {
				t.Errorf("caller %+v: scope %q admin %v, want %q %v", got, got.Scope(), got.Admin, c.wantScope, c.wantAdmin)
			}
		})
	}
}

// TestNew: routes outside the document and twice-registered ones are refused at start-up, every
// non-public route is behind the authenticator, and public ones are not.
func TestNew(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	var guarded []string
	deny := func(req auth.Requirement, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			guarded = append(guarded, r.Method+" "+r.URL.Path)
			w.WriteHeader(http.StatusUnauthorized)
		})
	}
	cfg := Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Authenticate: deny, Health: ok}
	for _, c := range []struct {
		name   string
		cfg    Config
		routes []map[string]http.Handler
		errHas string
	}{
		{"no authenticator", Config{}, nil, "no authenticator"},
		{"unknown route", cfg, []map[string]http.Handler{{"GET /nope": ok}}, "not an operation"},
		{"twice", cfg, []map[string]http.Handler{{"GET /test": ok}, {"GET /test": ok}}, "twice"},
	} {
		if _, _, err := New(c.cfg, c.routes...); err == nil || !strings.Contains(err.Error(), c.errHas) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.errHas)
		}
	}

	h, _, err := New(cfg, map[string]http.Handler{"GET /test": ok, "DELETE /test/{test_id}": ok})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/test", http.StatusUnauthorized},
		{"DELETE", "/test/0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", http.StatusUnauthorized},
		{"GET", "/health-check", http.StatusTeapot},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, rec.Code, c.want)
		}
		if rec.Header().Get("X-Request-Id") == "" {
			t.Errorf("%s %s: no X-Request-Id", c.method, c.path)
		}
	}
	if len(guarded) != 2 {
		t.Errorf("the authenticator saw %v, want the two non-public routes", guarded)
	}
}

// TestNewPassesScopes: each route is guarded with its own operation's requirement — the scopes
// the document lists for it, none (an ID token) when it lists none — so a scoped operation
// cannot be reached with a token that lacks the scope. The shipped document has no scoped
// operation yet, so the test looks routes up in one that has.
func TestNewPassesScopes(t *testing.T) {
	ops := map[string]api.Operation{
		"GET /test":              {Method: "GET", Path: "/test"},
		"DELETE /test/{test_id}": {Method: "DELETE", Path: "/test/{test_id}", Scopes: []string{"decagon/admin", "decagon/write"}},
		"GET /health-check":      {Method: "GET", Path: "/health-check", Public: true},
	}
	orig := findOperation
	findOperation = func(p string) (api.Operation, bool) { op, ok := ops[p]; return op, ok }
	t.Cleanup(func() { findOperation = orig })

	got := map[string][]string{}
	record := func(req auth.Requirement, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got[r.Pattern] = req.Scopes
			w.WriteHeader(http.StatusNoContent)
		})
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	h, _, err := New(Config{Logger: slog.New(slog.DiscardHandler), Authenticate: record, Health: ok},
		map[string]http.Handler{"GET /test": ok, "DELETE /test/{test_id}": ok})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path, op string
		scopes           []string
	}{
		{"GET", "/test", "GET /test", nil},
		{"DELETE", "/test/0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e", "DELETE /test/{test_id}", []string{"decagon/admin", "decagon/write"}},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		scopes, seen := got[c.op]
		if rec.Code != http.StatusNoContent || !seen {
			t.Errorf("%s %s: %d, not guarded by the authenticator", c.method, c.path, rec.Code)
			continue
		}
		if !slices.Equal(scopes, c.scopes) {
			t.Errorf("%s %s guarded with scopes %q, want %q", c.method, c.path, scopes, c.scopes)
		}
	}
}
