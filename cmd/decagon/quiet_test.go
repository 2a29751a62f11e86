package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// At idle, `decagon dev` at the default log level prints its banner and nothing else: the load
// balancer's health checks (several a second) are not logged at info.
func TestDevIdleIsQuiet(t *testing.T) {
	s := startDev(t, t.TempDir(), "--log-level", "info")
	before := len(s.stderr.String())
	time.Sleep(3 * time.Second) // idle is the point: nothing to poll for
	after := s.stderr.String()[before:]
	for _, line := range strings.Split(strings.TrimSpace(after), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["path"] == "/health-check" {
			t.Fatalf("a health check logged at %v: %s", m["level"], line)
		}
		t.Errorf("idle line: %s", line)
	}
}

// Tokens minted before a restart on another --addr still verify: the issuer is kept in the data
// dir, not derived from the address.
func TestDevTokensSurviveAnotherAddr(t *testing.T) {
	dir := t.TempDir()
	s := startDev(t, dir)
	tok := s.token("--user", "grace")
	if r := s.do("GET", "/test", tok, ""); r.status != 200 {
		t.Fatalf("before: %d %s", r.status, r.body)
	}
	s.stop()
	s2 := startDev(t, dir, "--addr", freeAddr(t))
	if s2.url == s.url {
		t.Fatal("same address")
	}
	if r := s2.do("GET", "/test", tok, ""); r.status != 200 {
		t.Fatalf("after a restart on %s: %d %s", s2.url, r.status, r.body)
	}
}

// The token the banner prints is one the API takes: a signed-in user's access token (every
// operation lists scopes, so an ID token would be a 401, as on AWS).
func TestDevBannerTokenWorks(t *testing.T) {
	s := startDev(t, t.TempDir())
	if r := s.do("POST", "/test", s.banner, `{"name":"from the banner"}`); r.status != 201 {
		t.Fatalf("POST /test with the banner's token: %d %s", r.status, r.body)
	}
	if r := s.do("GET", "/test", s.banner, ""); r.status != 200 {
		t.Fatalf("GET /test with the banner's token: %d %s", r.status, r.body)
	}
}
