package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/decagon/decagon"
)

// TestFrom (issue 16 item 4): every code maps to its status, the detail is the client message
// and never the chain, and anything unknown is a 500 that reveals nothing.
func TestFrom(t *testing.T) {
	secret := errors.New("dial tcp 10.0.0.7:5432: connection refused")
	cases := []struct {
		name       string
		err        error
		status     int
		detail     string
		retryAfter bool
	}{
		{"not found", fmt.Errorf("get test x: %w", decagon.ErrNotFound), 404, "no such resource", false},
		{"invalid", decagon.Errorf(decagon.EInvalid, "limit must be 1 to 100"), 400, "limit must be 1 to 100", false},
		{"unprocessable", fmt.Errorf("create test: %w", decagon.Errorf(decagon.EUnprocessable, "key reused")), 422, "key reused", false},
		{"conflict", decagon.Errorf(decagon.EConflict, "not uploaded yet"), 409, "not uploaded yet", false},
		{"forbidden", decagon.Errorf(decagon.EForbidden, "admins only"), 403, "admins only", false},
		{"too large", decagon.Errorf(decagon.ETooLarge, "over 10 bytes"), 413, "over 10 bytes", false},
		{"unavailable", fmt.Errorf("list: %w", decagon.Wrap(decagon.EUnavailable, secret, "retry later")), 503, "retry later", true},
		{"insufficient storage", decagon.Wrap(decagon.EInsufficientStorage, secret, "disk full"), 507, "disk full", false},
		{"internal code", decagon.Wrap(decagon.EInternal, secret, "do not show"), 500, "internal error", false},
		{"plain error", fmt.Errorf("scan: %w", secret), 500, "internal error", false},
		{"problem as is", fmt.Errorf("wrapped: %w", New(http.StatusTeapot, "short and stout")), 418, "short and stout", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := From(c.err)
			if p.Status != c.status || p.Detail != c.detail {
				t.Fatalf("From = %d %q, want %d %q", p.Status, p.Detail, c.status, c.detail)
			}
			if (p.Header.Get("Retry-After") != "") != c.retryAfter {
				t.Errorf("Retry-After %q, want set=%v", p.Header.Get("Retry-After"), c.retryAfter)
			}
			if p.Status != 418 && !errors.Is(p.Cause, c.err) && p.Cause != c.err {
				t.Errorf("Cause %v does not hold the error", p.Cause)
			}
			rec := httptest.NewRecorder()
			Write(rec, p, "req-1")
			body := rec.Body.String()
			if strings.Contains(body, "10.0.0.7") || strings.Contains(body, "wrapped") {
				t.Errorf("the body leaks the chain: %s", body)
			}
			var got Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got.Status != c.status || got.RequestID != "req-1" || got.Title == "" {
				t.Errorf("body %s (%v)", body, err)
			}
			if rec.Code != c.status || rec.Header().Get("Content-Type") != ContentType || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("response %d %v", rec.Code, rec.Header())
			}
		})
	}
}

func TestStatusOfCoversEveryCode(t *testing.T) {
	for _, c := range []decagon.Code{decagon.ENotFound, decagon.EInvalid, decagon.EUnprocessable, decagon.EConflict,
		decagon.EForbidden, decagon.ETooLarge, decagon.EUnavailable, decagon.EInsufficientStorage} {
		if _, ok := statusOf[c]; !ok {
			t.Errorf("code %q has no status", c)
		}
	}
}
