package dashboard

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/internal/metrics"
)

func TestQuantile(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name string
		q    float64
		c    map[float64]float64
		want float64
	}{
		{"empty", 0.5, map[float64]float64{}, 0},
		{"no samples", 0.5, map[float64]float64{0.1: 0, inf: 0}, 0},
		{"all in first bucket", 0.5, map[float64]float64{0.1: 10, 1: 10, inf: 10}, 0.05},
		{"interpolated", 0.5, map[float64]float64{0.1: 0, 0.2: 10, inf: 10}, 0.15},
		{"p99 in second", 0.99, map[float64]float64{0.1: 50, 0.2: 100, inf: 100}, 0.198},
		{"past the last bound", 0.99, map[float64]float64{0.1: 10, inf: 100}, 0.1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := quantile(c.q, c.c); math.Abs(got-c.want) > 1e-9 {
				t.Fatalf("quantile(%v) = %v, want %v", c.q, got, c.want)
			}
		})
	}
}

func TestSampleAndState(t *testing.T) {
	reg := prometheus.NewRegistry()
	edge := metrics.NewEdge(reg, metrics.EdgeConfig{Routes: []string{"/test", "/_dev/"}, TargetGroups: []string{"tests"}})
	stats := metrics.WAFStats{}
	metrics.NewWAF(reg, func() metrics.WAFStats { return stats })
	ev := &Events{Size: 3}
	d := New(Config{Gatherer: reg, Events: ev,
		Routes: []Route{{Method: "GET", Path: "/test", Service: "tests", Auth: "token"}, {Method: "POST", Path: "/test", Service: "tests", Auth: "token"}},
		Targets: func() []TargetGroup {
			return []TargetGroup{{Name: "tests", Targets: []Target{{ID: "tests-1", Health: "healthy"}}}}
		},
	})
	t0 := time.Unix(1700000000, 0)
	d.Sample(t0)
	for i := range 100 {
		status := 200
		if i%10 == 0 {
			status = 503
		}
		edge.Observe(metrics.EdgeRequest{Method: "GET", Route: "/test", Status: status, Latency: 4 * time.Millisecond})
	}
	for range 500 { // the dashboard polling itself: not in the charts
		edge.Observe(metrics.EdgeRequest{Method: "GET", Route: "/_dev/", Status: 200, Latency: time.Second})
	}
	stats.Blocked = 7
	d.Sample(t0.Add(2 * time.Second))
	for i := range 5 {
		ev.Add(Event{Kind: KindThrottled, Method: "GET", Path: fmt.Sprintf("/test/%d", i)})
	}

	s := d.State()
	if len(s.Points) != 1 {
		t.Fatalf("points %v", s.Points)
	}
	p := s.Points[0]
	if p.RPS != 50 || p.ErrorRate != 0.1 || p.P50 < 2.5 || p.P50 > 5 || p.P99 < 2.5 || p.P99 > 5 {
		t.Fatalf("point %+v: want 50 rps, 10%% errors, p50 and p99 in the 2.5..5 ms bucket", p)
	}
	if s.Requests != 100 || s.Errors != 10 || s.WAF["blocked"] != 7 {
		t.Fatalf("totals %v %v %v", s.Requests, s.Errors, s.WAF)
	}
	// Counted per operation: POST /test had none of GET /test's requests.
	if len(s.Routes) != 2 || s.Routes[0].Requests != 100 || s.Routes[0].Errors != 10 || s.Routes[1].Requests != 0 {
		t.Fatalf("routes %+v", s.Routes)
	}
	if len(s.Events) != 3 || s.Events[0].Path != "/test/4" || s.Events[2].Path != "/test/2" {
		t.Fatalf("events, newest first, 3 kept: %+v", s.Events)
	}
	if len(s.TargetGroups) != 1 || s.TargetGroups[0].Targets[0].ID != "tests-1" {
		t.Fatalf("targets %+v", s.TargetGroups)
	}

	// The window is bounded.
	d.cfg.Window = 5
	for i := range 20 {
		d.Sample(t0.Add(time.Duration(3+i) * time.Second))
	}
	if n := len(d.State().Points); n != 5 {
		t.Fatalf("%d points kept, want 5", n)
	}
}

func TestEventsLongPath(t *testing.T) {
	ev := &Events{}
	ev.Add(Event{Kind: KindWAFBlock, Path: "/" + strings.Repeat("a", 1000)})
	if got := ev.Latest(); len(got) != 1 || len(got[0].Path) > maxPathLen+4 || got[0].Time.IsZero() {
		t.Fatalf("%+v", got)
	}
}

func TestHandler(t *testing.T) {
	d := New(Config{Gatherer: prometheus.NewRegistry()})
	h := d.Handler()
	cases := []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/_dev/", 200, "text/html; charset=utf-8"},
		{"HEAD", "/_dev/", 200, "text/html; charset=utf-8"},
		{"GET", "/_dev/api/state", 200, "application/json"},
		{"GET", "/_dev/nope", 404, ""},
		{"POST", "/_dev/", 405, ""},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
		if rec.Code != c.status {
			t.Fatalf("%s %s: %d, want %d", c.method, c.path, rec.Code, c.status)
		}
		if c.ctype != "" && rec.Header().Get("Content-Type") != c.ctype {
			t.Fatalf("%s %s: content type %q", c.method, c.path, rec.Header().Get("Content-Type"))
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/_dev/", nil))
	body := rec.Body.String()
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	// Offline: nothing is loaded from anywhere else.
	for _, bad := range []string{"http://", "https://", "<link", "src=\"", "@import", "innerHTML"} {
		if bad == "http://" && strings.Count(body, bad) == 1 && strings.Contains(body, `"http://www.w3.org/2000/svg"`) {
			continue // the SVG namespace, not a fetch
		}
		if strings.Contains(body, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/_dev/api/state", nil))
	var s State
	if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || s.AdminPrefix != "/_dev/targets" || s.Interval != 1000 {
		t.Fatalf("state %+v %v", s, err)
	}
	if rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatal("state is cacheable")
	}
}
