package edge

import (
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/internal/idp"
	"github.com/decagon/decagon/internal/metrics"
)

// Observe sees every request once, with the facts of its access log line.
func TestObserve(t *testing.T) {
	topo := `
stage:
  name: Test
  throttling:
    rateLimit: 10000
    burstLimit: 5000
    methods:
      "DELETE /test/{test_id}": {rateLimit: 0.001, burstLimit: 1}
services:
  - name: tests
    pathRules: [{priority: 10, paths: ["/test", "/test/*"]}]
    healthCheck:
      local: {interval: 100ms, timeout: 100ms, healthyThreshold: 1, unhealthyThreshold: 2}
`
	var mu sync.Mutex
	var seen []Observation
	h := newHarness(t, 1, topo, func(c *Config) {
		c.Observe = func(o *Observation) {
			mu.Lock()
			seen = append(seen, *o)
			mu.Unlock()
		}
	})
	token := "Bearer " + mint(t, idp.MintOptions{})
	const id = "5f0c6f0e-8f3a-4c9e-9d54-1b2a3c4d5e6f"
	cases := []struct {
		method, path string
		auth         string
		want         Observation
	}{
		{"GET", "/test", token, Observation{Method: "GET", Path: "/test", Resource: "/test", Group: "tests", Status: 200, Attempts: 1, Authorizer: AuthAllowed}},
		{"GET", "/Test/test/" + id, token, Observation{Method: "GET", Path: "/Test/test/" + id, Resource: "/test/{test_id}", Group: "tests", Status: 200, Attempts: 1, Authorizer: AuthAllowed}},
		{"GET", "/test", "", Observation{Method: "GET", Path: "/test", Resource: "/test", Status: 401, Authorizer: AuthMissingToken}},
		{"GET", "/test", "Bearer nope", Observation{Method: "GET", Path: "/test", Resource: "/test", Status: 401, Authorizer: AuthInvalidToken}},
		{"GET", "/no/such/route", "", Observation{Method: "GET", Path: "/no/such/route", Status: 404}},
		{"DELETE", "/test/" + id, token, Observation{Method: "DELETE", Path: "/test/" + id, Resource: "/test/{test_id}", Group: "tests", Status: 200, Attempts: 1, Authorizer: AuthAllowed}},
		{"DELETE", "/test/" + id, token, Observation{Method: "DELETE", Path: "/test/" + id, Resource: "/test/{test_id}", Status: 429, Throttled: true}},
	}
	for i, c := range cases {
		var headers []string
		if c.auth != "" {
			headers = []string{"Authorization", c.auth}
		}
		if r := h.do(c.method, c.path, "", headers...); r.status != c.want.Status {
			t.Fatalf("%d %s %s: status %d, want %d: %s", i, c.method, c.path, r.status, c.want.Status, r.body)
		}
		// The observer runs after the response is written: wait for it.
		var got Observation
		deadline := time.Now().Add(2 * time.Second)
		for {
			mu.Lock()
			n := len(seen)
			if n > i {
				got = seen[i]
			}
			mu.Unlock()
			if n > i+1 || (n <= i && time.Now().After(deadline)) {
				t.Fatalf("%d: %d observations, want %d", i, n, i+1)
			}
			if n == i+1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		if got.Latency <= 0 || got.ClientIP != "127.0.0.1" {
			t.Errorf("%d: latency %v client %q", i, got.Latency, got.ClientIP)
		}
		if (got.Group != "") != (got.IntegrationLatency >= 0) || (got.Group != "" && got.Target != h.backends[0].addr) {
			t.Errorf("%d: group %q target %q integration latency %v", i, got.Group, got.Target, got.IntegrationLatency)
		}
		got.Latency, got.IntegrationLatency, got.ClientIP, got.Target = 0, 0, "", ""
		if got != c.want {
			t.Errorf("%d %s %s:\n got %+v\nwant %+v", i, c.method, c.path, got, c.want)
		}
	}
}

// BenchmarkServeGETObserved is BenchmarkServeGET with an observer feeding the Prometheus
// series, as `decagon edge --admin-addr` and `decagon dev` run: the cost of the metrics.
func BenchmarkServeGETObserved(b *testing.B) {
	addr := rawBackend(b)
	topo := parseTopology(b, testTopology)
	topo.Services[0].HealthCheck.Path = "/"
	topo.Stage.Throttling.RateLimit = 1e9
	m := metrics.NewEdge(prometheus.NewRegistry(), metrics.EdgeConfig{Routes: []string{"/test", "/test/{test_id}"}, TargetGroups: []string{"tests"}})
	e, err := New(Config{
		Topology: topo, Verifier: newVerifier(b), Targets: map[string][]string{"tests": {addr}},
		Logger: slog.New(slog.DiscardHandler),
		Observe: func(o *Observation) {
			m.Observe(metrics.EdgeRequest{Method: o.Method, Route: o.Resource, TargetGroup: o.Group, Status: o.Status,
				Latency: o.Latency, IntegrationLatency: o.IntegrationLatency, Attempts: o.Attempts, Authorizer: o.Authorizer, Throttled: o.Throttled})
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.Close)
	g, _ := e.Group("tests")
	if err := g.WaitHealthy(b.Context(), 1); err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://127.0.0.1:8080/Test/test/"+uuid1, nil)
	req.RemoteAddr = "127.0.0.1:50000"
	req.Header.Set("Authorization", "Bearer "+mint(b, idp.MintOptions{}))
	req.Header.Set("X-Request-Id", "bench-request-id")
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		e.ServeHTTP(w, req)
	}
}
