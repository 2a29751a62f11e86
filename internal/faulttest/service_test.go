package faulttest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/problem"
	"github.com/decagon/decagon/internal/web"
)

// serve serves routes as alice (the token checks have their own tests; here the dependencies
// are what fails) and returns the server's URL.
func serve(t *testing.T, routes map[string]http.Handler) (string, http.Handler) {
	t.Helper()
	rt := &web.Router{}
	for p, h := range routes {
		rt.Handle(p, h)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt.ServeHTTP(w, r.WithContext(auth.WithClaims(r.Context(), &auth.Claims{Subject: "alice"})))
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, h
}

var client = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// answer is a response as the tests look at it.
type answer struct {
	status  int
	header  http.Header
	body    []byte
	problem *problem.Problem // when the body is one
}

// do sends one request; a transport error fails the test.
func do(t testing.TB, method, url, contentType string, body []byte, header map[string]string) answer {
	t.Helper()
	a, err := try(method, url, contentType, body, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return a
}

func try(method, url, contentType string, body []byte, header map[string]string) (answer, error) {
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.Header.Get("Content-Type") == problem.ContentType {
		var p problem.Problem
		if err := json.Unmarshal(b, &p); err == nil {
			a.problem = &p
		}
	}
	return a, nil
}

// wantProblem fails the test unless a is a problem with status, carrying Retry-After when it is
// a 503.
func wantProblem(t testing.TB, what string, a answer, status int) {
	t.Helper()
	if a.status != status || a.problem == nil || a.problem.Status != status {
		t.Errorf("%s: %d %s, want a %d problem", what, a.status, a.body, status)
		return
	}
	if status == http.StatusServiceUnavailable && a.header.Get("Retry-After") == "" {
		t.Errorf("%s: 503 without Retry-After", what)
	}
}

// eventually polls cond every 10 ms until it holds, failing the test after d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
