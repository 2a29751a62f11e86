package recordsapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/listing"
	"github.com/decagon/decagon/internal/records"
	"github.com/decagon/decagon/internal/records/recordsapi"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/store/postgres/pgtest"
	"github.com/decagon/decagon/internal/web"
)

// backends opens each real backend, migrated; PostgreSQL in a schema of its own.
func backends(t *testing.T) map[string]records.Store {
	t.Helper()
	out := map[string]records.Store{}
	for name, url := range map[string]string{"sqlite": "sqlite::memory:", "postgres": pgtest.URL(t)} {
		db, err := store.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		out[name] = db.Tests()
	}
	return out
}

// server serves the records routes over s; the caller is named by X-Test-User (the token check
// has its own tests).
func server(t *testing.T, s records.Store) *httptest.Server {
	t.Helper()
	h := &recordsapi.Handler{Store: s}
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

type problemBody struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func post(t *testing.T, srv *httptest.Server, body string, headers map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/test", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Test-User", "alice")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// TestInvalidUTF8 (issue 11 item 2): invalid UTF-8 anywhere in the body, or an escaped lone
// surrogate, is a 400 problem on both backends, and nothing is stored.
func TestInvalidUTF8(t *testing.T) {
	bodies := map[string]string{
		"in a data value":           "{\"name\":\"iu\",\"data\":{\"k\":\"a\xff\xfeb\"}}",
		"in a data key":             "{\"name\":\"iu\",\"data\":{\"\xff\":1}}",
		"in the name":               "{\"name\":\"i\xffu\"}",
		"lone surrogate in name":    `{"name":"a\ud800b"}`,
		"lone surrogate in data":    `{"name":"iu","data":{"k":"\udc00"}}`,
		"high surrogate, no low":    `{"name":"iu","data":{"k":"\ud83dx"}}`,
		"UTF-8 encoded surrogate":   "{\"name\":\"\xed\xa0\x80\"}",
		"overlong encoding of a /":  "{\"name\":\"\xc0\xaf\"}",
		"truncated multi-byte rune": "{\"name\":\"\xe6\x97\"}",
	}
	for backend, s := range backends(t) {
		srv := server(t, s)
		for name, body := range bodies {
			t.Run(backend+"/"+name, func(t *testing.T) {
				status, h, b := post(t, srv, body, nil)
				var p problemBody
				if status != http.StatusBadRequest || !strings.HasPrefix(h.Get("Content-Type"), "application/problem+json") || json.Unmarshal(b, &p) != nil {
					t.Fatalf("status %d, %s: %s; want a 400 problem", status, h.Get("Content-Type"), b)
				}
			})
		}
		items, _, err := s.List(context.Background(), listing.Request{Owner: "alice", Limit: 10})
		if err != nil || len(items) != 0 {
			t.Errorf("%s: %d records stored (err %v), want 0", backend, len(items), err)
		}
		// A valid pair is a character, kept as sent.
		if status, _, b := post(t, srv, `{"name":"\ud83d\ude00","data":{"k":"é"}}`, nil); status != http.StatusCreated || !strings.Contains(string(b), `"name":"😀"`) {
			t.Errorf("%s: a surrogate pair: %d %s", backend, status, b)
		}
	}
}

// TestIdempotencyOtherData (issue 16 item 3, issue 11 item 9): the same key with the same name
// and other data is a 422 on both backends, and its detail is written for the client, not the
// error chain.
func TestIdempotencyOtherData(t *testing.T) {
	for backend, s := range backends(t) {
		t.Run(backend, func(t *testing.T) {
			srv := server(t, s)
			key := map[string]string{"Idempotency-Key": "pay-" + time.Now().Format("150405.000000")}
			if status, _, b := post(t, srv, `{"name":"pay","data":{"amount":1}}`, key); status != http.StatusCreated {
				t.Fatalf("first: %d %s", status, b)
			}
			if status, h, _ := post(t, srv, `{"name":"pay","data":{"amount":1}}`, key); status != http.StatusCreated || h.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("replay: %d, Idempotent-Replayed %q", status, h.Get("Idempotent-Replayed"))
			}
			status, _, b := post(t, srv, `{"name":"pay","data":{"amount":100}}`, key)
			var p problemBody
			if status != http.StatusUnprocessableEntity || json.Unmarshal(b, &p) != nil {
				t.Fatalf("other data: %d %s; want a 422 problem", status, b)
			}
			for _, leak := range []string{"create test", "unprocessable:", "%!", "sqlite", "postgres", "SQLSTATE"} {
				if strings.Contains(p.Detail, leak) {
					t.Errorf("detail %q leaks %q", p.Detail, leak)
				}
			}
			if !strings.Contains(p.Detail, "Idempotency-Key") {
				t.Errorf("detail %q does not say what was wrong", p.Detail)
			}
		})
	}
}

// TestDatabaseDownIs503 (issue 11 item 8): with PostgreSQL unreachable every route answers a
// 503 problem with Retry-After, never a 500.
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
	srv := server(t, db.Tests())
	id := "0190b3b2-7e4c-7a12-8d3e-2f1a0b9c8d7e"
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/test", `{"name":"x"}`},
		{"GET", "/test", ""},
		{"GET", "/test/" + id, ""},
		{"DELETE", "/test/" + id, ""},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-User", "alice")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var p problemBody
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || json.Unmarshal(b, &p) != nil {
			t.Errorf("%s %s: %d, Retry-After %q: %s; want a 503 problem with Retry-After", c.method, c.path, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
		if strings.Contains(p.Detail, addr) || strings.Contains(p.Detail, "dial") {
			t.Errorf("%s %s: detail %q leaks the cause", c.method, c.path, p.Detail)
		}
	}
}
