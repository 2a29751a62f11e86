package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/decagon/decagon/internal/problem"
)

func TestMiddleware(t *testing.T) {
	key := rsaKey(t, 0)
	srv := newJWKSServer(t, jwkOf(t, key, "k1", "RS256"))
	v, _ := newTestVerifier(t, srv)
	iss := srv.issuer()
	idTok := signRS256(t, key, hdr("RS256", "k1"), idClaims(iss))
	accessTok := signRS256(t, key, hdr("RS256", "k1"), accessClaims(iss))
	expired := signRS256(t, key, hdr("RS256", "k1"), with(idClaims(iss), "exp", t0.Unix()-3600))
	unknownKid := signRS256(t, key, hdr("RS256", "k-unknown"), idClaims(iss))

	const (
		challengeMissing = `Bearer realm="decagon"`
		challengeInvalid = `Bearer realm="decagon", error="invalid_token"`
		challengeScope   = `Bearer realm="decagon", error="insufficient_scope"`
	)
	tests := []struct {
		name       string
		authz      []string
		req        Requirement
		status     int
		challenge  string
		detail     string
		logReason  string
		unavailErr bool
	}{
		{"id token", []string{"Bearer " + idTok}, Requirement{}, 200, "", "", "", false},
		{"lowercase scheme", []string{"bearer " + idTok}, Requirement{}, 200, "", "", "", false},
		{"bare token", []string{idTok}, Requirement{}, 200, "", "", "", false},
		{"access token", []string{"Bearer " + accessTok}, Requirement{Scopes: []string{"decagon/read"}}, 200, "", "", "", false},
		{"no header", nil, Requirement{}, 401, challengeMissing, "missing bearer token", "missing bearer token", false},
		{"empty bearer", []string{"Bearer "}, Requirement{}, 401, challengeMissing, "missing bearer token", "missing bearer token", false},
		{"expired", []string{"Bearer " + expired}, Requirement{}, 401, challengeInvalid, "invalid token", "token expired", false},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, Requirement{}, 401, challengeInvalid, "invalid token", "not Bearer", false},
		{"two headers", []string{"Bearer " + idTok, "Bearer " + idTok}, Requirement{}, 401, challengeInvalid, "invalid token", "2 Authorization headers", false},
		{"wrong token use", []string{"Bearer " + idTok}, Requirement{Scopes: []string{"decagon/read"}}, 401, challengeInvalid, "invalid token", "token_use", false},
		{"insufficient scope", []string{"Bearer " + accessTok}, Requirement{Scopes: []string{"decagon/write"}}, 403, challengeScope, "insufficient scope", "include none of", false},
		{"keys unavailable", []string{"Bearer " + unknownKid}, Requirement{}, 503, "", "authentication temporarily unavailable", "unknown key id", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unavailErr {
				srv.status.Store(http.StatusBadGateway)
				t.Cleanup(func() { srv.status.Store(0) })
				v.mu.Lock()
				v.lastAttempt = v.lastAttempt.Add(-DefaultRefreshInterval) // allow a fetch now
				v.mu.Unlock()
			}
			var logs bytes.Buffer
			mw := &Middleware{Verifier: v, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			var got *Claims
			h := mw.Require(tc.req)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, _ = ClaimsFrom(r.Context())
				w.WriteHeader(http.StatusOK)
			}))
			r := httptest.NewRequest(http.MethodGet, "/test", nil)
			r.Header.Set("X-Request-Id", "req-123")
			for _, a := range tc.authz {
				r.Header.Add("Authorization", a)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			if w.Code != tc.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tc.status, w.Body)
			}
			if tc.status == http.StatusOK {
				if got == nil || got.Subject == "" {
					t.Fatalf("claims not in context: %+v", got)
				}
				if logs.Len() != 0 {
					t.Fatalf("accepted request logged: %s", logs.String())
				}
				return
			}
			if got != nil {
				t.Fatal("handler ran for a refused request")
			}
			if ct := w.Header().Get("Content-Type"); ct != problem.ContentType {
				t.Errorf("Content-Type = %q", ct)
			}
			if c := w.Header().Get("WWW-Authenticate"); c != tc.challenge {
				t.Errorf("WWW-Authenticate = %q, want %q", c, tc.challenge)
			}
			if tc.status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			var p problem.Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatalf("body %q: %v", w.Body, err)
			}
			if p.Status != tc.status || p.Detail != tc.detail || p.RequestID != "req-123" || p.Title == "" {
				t.Errorf("problem = %+v", p)
			}
			if tc.logReason != "" && strings.Contains(w.Body.String(), tc.logReason) && tc.logReason != tc.detail {
				t.Errorf("body reveals the reason %q: %s", tc.logReason, w.Body)
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			if line["request_id"] != "req-123" || !strings.Contains(line["reason"].(string), tc.logReason) {
				t.Errorf("log line = %v, want request_id and reason %q", line, tc.logReason)
			}
		})
	}
}

func TestMiddlewareWriteErrorHook(t *testing.T) {
	var gotErr error
	mw := &Middleware{
		Verifier:   v0{},
		Logger:     slog.New(slog.DiscardHandler),
		WriteError: func(w http.ResponseWriter, r *http.Request, err error) { gotErr = err; w.WriteHeader(499) },
	}
	h := mw.Require(Requirement{})(http.NotFoundHandler())
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer x.y.z")
	h.ServeHTTP(w, r)
	var p *problem.Problem
	if w.Code != 499 || !errors.As(gotErr, &p) || p.Status != http.StatusUnauthorized || !errors.Is(gotErr, ErrInvalidToken) {
		t.Fatalf("hook got %v (code %d)", gotErr, w.Code)
	}
	if problem.From(gotErr) != p {
		t.Fatal("problem.From does not find the auth problem")
	}
}

// v0 refuses every token with a fixed reason.
type v0 struct{}

func (v0) Verify(_ context.Context, _ string, _ Requirement) (*Claims, error) {
	return nil, invalid("always refused")
}

func TestProblemFor(t *testing.T) {
	other := errors.New("boom")
	if p := ProblemFor(other); p.Status != http.StatusInternalServerError || p.Detail != "internal error" {
		t.Errorf("ProblemFor(other) = %+v", p)
	}
	for _, err := range []error{ErrMissingToken, invalid("x"), ErrInsufficientScope, ErrKeysUnavailable} {
		if p := ProblemFor(err); !errors.Is(p, err) || p.Cause != err {
			t.Errorf("ProblemFor(%v) loses its cause", err)
		}
	}
}

func TestClaimsFromEmptyContext(t *testing.T) {
	if c, ok := ClaimsFrom(t.Context()); ok || c != nil {
		t.Fatal("claims from an empty context")
	}
	if _, ok := ClaimsFrom(WithClaims(t.Context(), nil)); ok {
		t.Fatal("nil claims reported present")
	}
}
