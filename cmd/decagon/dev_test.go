package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/problem"
)

// backends runs f against the dev stack on SQLite and on PostgreSQL.
func backends(t *testing.T, f func(t *testing.T, s *stack)) {
	t.Run("sqlite", func(t *testing.T) {
		f(t, startDev(t, t.TempDir()))
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, startDev(t, t.TempDir(), "--database-url", postgresURL(t)))
	})
}

func TestDevFlows(t *testing.T) {
	backends(t, func(t *testing.T, s *stack) {
		alice, bob := s.token("--user", "alice"), s.token("--user", "bob")
		admin := s.token("--user", "root", "--groups", "admin")

		// Create, read, list, delete.
		r := s.do("POST", "/test", alice, `{"name":"O'Brien said \"pick one\": select the best option from the menu","data":{"url":"https://example.com/?a=1&b=2","n":[1,2.5,null],"ü":true}}`)
		if r.status != 201 {
			t.Fatalf("create: %d %s\n%s", r.status, r.body, s.stderr.String())
		}
		rec := r.json(t)
		id, _ := rec["test_id"].(string)
		if loc := r.header.Get("Location"); loc != "/test/"+id || id == "" {
			t.Fatalf("Location %q for %q", loc, id)
		}
		if r.header.Get("X-Request-Id") == "" {
			t.Fatal("no X-Request-Id")
		}
		if _, err := time.Parse(time.RFC3339Nano, rec["created_at"].(string)); err != nil || !strings.HasSuffix(rec["created_at"].(string), "Z") {
			t.Fatalf("created_at %v", rec["created_at"])
		}
		got := s.do("GET", "/test/"+id, alice, "")
		if got.status != 200 || string(got.body) != string(r.body) {
			t.Fatalf("get: %d %s, want %s", got.status, got.body, r.body)
		}
		if list := s.do("GET", "/test", alice, "").json(t); len(list["items"].([]any)) != 1 || list["next_cursor"] != nil {
			t.Fatalf("list: %v", list)
		}

		// Another user sees nothing; an admin sees everything.
		if r := s.do("GET", "/test/"+id, bob, ""); r.status != 404 {
			t.Fatalf("bob get: %d", r.status)
		}
		if r := s.do("DELETE", "/test/"+id, bob, ""); r.status != 404 {
			t.Fatalf("bob delete: %d", r.status)
		}
		if list := s.do("GET", "/test", bob, "").json(t); len(list["items"].([]any)) != 0 {
			t.Fatalf("bob list: %v", list)
		}
		if r := s.do("GET", "/test?owner="+rec["owner"].(string), bob, ""); r.status != 403 {
			t.Fatalf("bob owner filter: %d", r.status)
		}
		if r := s.do("GET", "/test/"+id, admin, ""); r.status != 200 {
			t.Fatalf("admin get: %d", r.status)
		}
		if list := s.do("GET", "/test?owner="+rec["owner"].(string), admin, "").json(t); len(list["items"].([]any)) != 1 {
			t.Fatalf("admin list: %v", list)
		}
		if r := s.do("DELETE", "/test/"+id, alice, ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if r := s.do("GET", "/test/"+id, alice, ""); r.status != 404 {
			t.Fatalf("get after delete: %d", r.status)
		}

		// Idempotency: same key and body → the first record; another body → 422.
		first := s.do("POST", "/test", alice, `{"name":"idem"}`, "Idempotency-Key", "k-1")
		again := s.do("POST", "/test", alice, `{ "name" : "idem" }`, "Idempotency-Key", "k-1")
		if first.status != 201 || again.status != 201 || string(first.body) != string(again.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s / %d %s", first.status, first.body, again.status, again.body)
		}
		if r := s.do("POST", "/test", alice, `{"name":"other"}`, "Idempotency-Key", "k-1"); r.status != 422 {
			t.Fatalf("conflict: %d %s", r.status, r.body)
		}
		if r := s.do("POST", "/test", bob, `{"name":"idem"}`, "Idempotency-Key", "k-1"); r.status != 201 || r.json(t)["test_id"] == first.json(t)["test_id"] {
			t.Fatalf("bob's key is his own: %d %s", r.status, r.body)
		}

		// Health.
		if r := s.do("GET", "/health-check", "", ""); r.status != 200 || r.json(t)["checks"].(map[string]any)["database"] != "ok" {
			t.Fatalf("health: %d %s", r.status, r.body)
		}
	})
}

// Concurrent retries with one Idempotency-Key create exactly one record.
func TestDevConcurrentIdempotency(t *testing.T) {
	backends(t, func(t *testing.T, s *stack) {
		tok := s.token("--user", "carol")
		var wg sync.WaitGroup
		ids := make([]string, 16)
		for i := range ids {
			// Workers report through t.Errorf: t.Fatal (in s.do, r.json) only works on the
			// test's own goroutine.
			wg.Go(func() {
				r, err := s.try("POST", "/test", tok, `{"name":"once","data":{"a":1}}`, "Idempotency-Key", "same")
				if err != nil || r.status != 201 {
					t.Errorf("retry %d: %d %s %v", i, r.status, r.body, err)
					return
				}
				var created struct {
					ID string `json:"test_id"`
				}
				if err := json.Unmarshal(r.body, &created); err != nil {
					t.Errorf("retry %d: body %q: %v", i, r.body, err)
				}
				ids[i] = created.ID
			})
		}
		wg.Wait()
		for _, id := range ids {
			if id == "" || id != ids[0] {
				t.Fatalf("ids differ or failed: %v", ids)
			}
		}
		if n := len(s.do("GET", "/test", tok, "").json(t)["items"].([]any)); n != 1 {
			t.Fatalf("%d records, want 1", n)
		}
	})
}

// Pagination walks every record exactly once, also while new records arrive.
func TestDevPagination(t *testing.T) {
	backends(t, func(t *testing.T, s *stack) {
		tok := s.token("--user", "dave")
		const n = 25
		for i := range n {
			if r := s.do("POST", "/test", tok, fmt.Sprintf(`{"name":"r%02d"}`, i)); r.status != 201 {
				t.Fatal(r.status)
			}
		}
		seen := map[string]bool{}
		cursor, prev := "", "zzz"
		for page := 0; ; page++ {
			path := "/test?limit=7"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			body := s.do("GET", path, tok, "").json(t)
			for _, it := range body["items"].([]any) {
				name := it.(map[string]any)["name"].(string)
				if seen[name] || name >= prev {
					t.Fatalf("page %d: %s repeated or out of order after %s", page, name, prev)
				}
				seen[name], prev = true, name
			}
			// A record added mid-walk is newer than the cursor: it must not show up later.
			s.do("POST", "/test", tok, fmt.Sprintf(`{"name":"new%02d"}`, page))
			c, ok := body["next_cursor"].(string)
			if !ok {
				break
			}
			cursor = c
		}
		if len(seen) != n {
			t.Fatalf("saw %d records, want %d", len(seen), n)
		}
	})
}

// Every malformed request gets its own 4xx problem, never a 5xx.
func TestDevBadRequests(t *testing.T) {
	s := startDev(t, t.TempDir())
	tok := s.token()
	big := `{"name":"a","data":{"k":"` + strings.Repeat("x", 70<<10) + `"}}`
	cases := []struct {
		method, path, body string
		headers            []string
		status             int
	}{
		{"POST", "/test", `{"name":`, nil, 400},
		{"POST", "/test", `{"name":"a","extra":1}`, nil, 400},
		{"POST", "/test", `{"name":5}`, nil, 400},
		{"POST", "/test", `{"name":""}`, nil, 400},
		{"POST", "/test", `{"name":"` + strings.Repeat("n", 201) + `"}`, nil, 400},
		{"POST", "/test", `{"name":"a","data":[1]}`, nil, 400},
		{"POST", "/test", `[]`, nil, 400},
		{"POST", "/test", `null`, nil, 400},
		{"POST", "/test", `{"name":"a"}`, []string{"Content-Type", "text/plain"}, 415},
		{"POST", "/test", `{"name":"a"}`, []string{"Content-Type", ""}, 415},
		{"POST", "/test", big, nil, 413},
		{"POST", "/test", `{"name":"a"}`, []string{"Idempotency-Key", "has space"}, 400},
		{"GET", "/test/not-a-uuid", "", nil, 400},
		{"GET", "/test/00000000-0000-0000-0000-000000000000", "", nil, 404},
		{"DELETE", "/test/x'%20OR%201=1", "", nil, 403}, // the WAF: SQL injection in the path (rules 10290, 10293)
		{"GET", "/test?limit=0", "", nil, 400},
		{"GET", "/test?limit=101", "", nil, 400},
		{"GET", "/test?limit=abc", "", nil, 400},
		{"GET", "/test?cursor=garbage", "", nil, 400},
		{"PUT", "/test", `{}`, nil, 405},
		{"PATCH", "/test/00000000-0000-0000-0000-000000000000", `{}`, nil, 405},
		{"GET", "/nope", "", nil, 404},
		{"GET", "/test/../health-check", "", nil, 403}, // the WAF: path traversal
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path+" "+fmt.Sprint(tc.status), func(t *testing.T) {
			r := s.do(tc.method, tc.path, tok, tc.body, tc.headers...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s\n%s", r.status, tc.status, r.body, s.stderr.String())
			}
			if ct := r.header.Get("Content-Type"); ct != problem.ContentType {
				t.Fatalf("content type %q", ct)
			}
			p := r.json(t)
			if p["status"] != float64(tc.status) || p["title"] == "" || p["request_id"] != r.header.Get("X-Request-Id") {
				t.Fatalf("problem %v", p)
			}
			if tc.status == 405 && r.header.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
		})
	}
}

// Bad tokens are refused with 401 and WWW-Authenticate; the reason is not disclosed.
func TestDevTokens(t *testing.T) {
	s := startDev(t, t.TempDir())
	good := s.token("--user", "erin")
	parts := strings.Split(good, ".")
	cases := []struct {
		name, token string
	}{
		{"missing", ""},
		{"garbage", "not.a.token"},
		{"tampered payload", parts[0] + "." + strings.TrimRight(parts[1], "A") + "B." + parts[2]},
		{"no signature", parts[0] + "." + parts[1] + "."},
		{"alg none", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."},
		{"wrong issuer", s.token("--issuer", "http://127.0.0.1:1/_idp")},
		{"id token on a scoped route", s.token("--type", "id")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do("GET", "/test", tc.token, "")
			if r.status != 401 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
		})
	}
	if r := s.do("GET", "/test", good, ""); r.status != 200 {
		t.Fatalf("good token: %d %s", r.status, r.body)
	}
}

// A restart keeps the data, and tokens minted before it still work.
func TestDevRestartKeepsData(t *testing.T) {
	dir := t.TempDir()
	// The issuer is the stack's URL, so tokens survive a restart on the same address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := startDev(t, dir, "--addr", addr)
	tok := s.token("--user", "frank")
	r := s.do("POST", "/test", tok, `{"name":"persist"}`)
	if r.status != 201 {
		t.Fatal(r.status)
	}
	id := r.json(t)["test_id"].(string)
	s.stop()
	s2 := startDev(t, dir, "--addr", addr)
	if got := s2.do("GET", "/test/"+id, tok, ""); got.status != 200 {
		t.Fatalf("after restart: %d %s", got.status, got.body)
	}
}
