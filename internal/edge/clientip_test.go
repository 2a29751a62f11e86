package edge

import (
	"log/slog"
	"testing"
	"time"

	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/waf"
)

// TestClientIPBehindProxyWAF replays issue 11's attack through the real WAF (Coraza, IP sets,
// rate-based rule) keyed by the edge's client address: behind a trusted proxy, a malformed
// X-Forwarded-For entry must neither lift an IP block nor reset a rate limit.
func TestClientIPBehindProxyWAF(t *testing.T) {
	proxies, err := ParseTrustedProxies("127.0.0.1/32")
	if err != nil {
		t.Fatal(err)
	}
	cfg := topology.DefaultWAF()
	cfg.IPSets.Block = []string{"127.0.0.66/32"}
	cfg.RateLimit = topology.RateLimit{Limit: 10, Window: time.Minute}
	w, err := waf.New(waf.Config{WAF: cfg, ClientIP: proxies.ClientIP}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, 1, testTopology, func(c *Config) {
		c.TrustedProxies = proxies
		c.WAF = w.Middleware
	})
	for _, xff := range []string{"127.0.0.66", "x, 127.0.0.66", "unknown, 127.0.0.66", "[::1, 127.0.0.66"} {
		if r := h.do("GET", "/health-check", "", "X-Forwarded-For", xff); r.status != 403 {
			t.Errorf("X-Forwarded-For %q from the blocked client: %d, want 403", xff, r.status)
		}
	}
	// 9.9.9.9 spends its ten requests; a garbled entry to its left must not buy more.
	for i := range 10 {
		if r := h.do("GET", "/health-check", "", "X-Forwarded-For", "9.9.9.9"); r.status != 200 {
			t.Fatalf("request %d within the limit: %d", i, r.status)
		}
	}
	for _, xff := range []string{"9.9.9.9", "unknown, 9.9.9.9", "x, 9.9.9.9", "1.2.3.4, 9.9.9.9"} {
		if r := h.do("GET", "/health-check", "", "X-Forwarded-For", xff); r.status != 429 {
			t.Errorf("X-Forwarded-For %q past 9.9.9.9's limit: %d, want 429", xff, r.status)
		}
	}
	// Another client behind the same proxy is unaffected.
	if r := h.do("GET", "/health-check", "", "X-Forwarded-For", "unknown, 8.8.8.8"); r.status != 200 {
		t.Errorf("another client: %d", r.status)
	}
}
