package metrics

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// series returns the label sets of a family, as "k=v,k=v" strings.
func series(t *testing.T, g prometheus.Gatherer, name string) []string {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			out = append(out, labelString(m))
		}
	}
	return out
}

func labelString(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestHTTPMiddleware(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewHTTP(reg)
	patterns := []string{"GET /test", "POST /test", "GET /test/{test_id}", "DELETE /test/{test_id}", "GET /health-check"}
	mux := http.NewServeMux()
	for _, p := range patterns {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			if r.PathValue("test_id") == "boom" {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			_, _ = io.WriteString(w, "ok")
		})
	}
	srv := httptest.NewServer(h.Middleware("tests", RoutesOf(patterns), mux))
	t.Cleanup(srv.Close)
	do := func(method, path string) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	cases := []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/test", 200, "code_class=2xx,method=GET,route=/test,service=tests"},
		{"GET", "/test/abc", 200, "code_class=2xx,method=GET,route=/test/{test_id},service=tests"},
		{"GET", "/test/boom", 500, "code_class=5xx,method=GET,route=/test/{test_id},service=tests"},
		{"DELETE", "/test/x", 200, "code_class=2xx,method=DELETE,route=/test/{test_id},service=tests"},
		{"PUT", "/test", 405, "code_class=4xx,method=PUT,route=unmatched,service=tests"},
		{"GET", "/nope", 404, "code_class=4xx,method=GET,route=unmatched,service=tests"},
		{"BREW", "/test", 405, "code_class=4xx,method=OTHER,route=unmatched,service=tests"},
	}
	for _, tc := range cases {
		if got := do(tc.method, tc.path); got != tc.status {
			t.Fatalf("%s %s: status %d, want %d", tc.method, tc.path, got, tc.status)
		}
		if s := series(t, reg, "decagon_http_requests_total"); !contains(s, tc.want) {
			t.Fatalf("%s %s: no series %s in %v", tc.method, tc.path, tc.want, s)
		}
	}
	if s := series(t, reg, "decagon_http_request_duration_seconds"); !contains(s, "method=GET,route=/test/{test_id},service=tests") {
		t.Fatalf("histogram series %v", s)
	}

	// Cardinality: random paths and methods add no series.
	before := len(series(t, reg, "decagon_http_requests_total")) + len(series(t, reg, "decagon_http_request_duration_seconds"))
	for i := range 50 {
		do("GET", fmt.Sprintf("/random-%d/%d", i, time.Now().UnixNano()))
		do(fmt.Sprintf("M%d", i), "/test")
	}
	after := len(series(t, reg, "decagon_http_requests_total")) + len(series(t, reg, "decagon_http_request_duration_seconds"))
	if after != before {
		t.Fatalf("random requests added series: %d → %d", before, after)
	}
	if v := testutil.ToFloat64(h.requests.WithLabelValues("tests", Unmatched, "GET", "4xx")); v != 51 {
		t.Fatalf("unmatched GET 4xx = %v, want 51", v)
	}
	if v := testutil.ToFloat64(h.inFlight.WithLabelValues("tests")); v != 0 {
		t.Fatalf("in flight after the requests: %v", v)
	}
}

func TestStatusClassAndMethod(t *testing.T) {
	for code, want := range map[int]string{0: "0xx", 99: "0xx", 100: "1xx", 200: "2xx", 204: "2xx", 301: "3xx", 404: "4xx", 429: "4xx", 503: "5xx", 599: "5xx", 600: "0xx", -1: "0xx"} {
		if got := StatusClass(code); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", code, got, want)
		}
	}
	for m, want := range map[string]string{"GET": "GET", "DELETE": "DELETE", "get": "OTHER", "PROPFIND": "OTHER", "": "OTHER"} {
		if got := Method(m); got != want {
			t.Errorf("Method(%q) = %q, want %q", m, got, want)
		}
	}
}

func TestEdgeObserve(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := NewEdge(reg, EdgeConfig{Routes: []string{"/test", "/test/{test_id}", "/_dev/"}, TargetGroups: []string{"tests", "uploads"}})
	reqs := []EdgeRequest{
		{Method: "GET", Route: "/test", TargetGroup: "tests", Status: 200, Latency: 3 * time.Millisecond, IntegrationLatency: 2 * time.Millisecond, Attempts: 1, Authorizer: AuthAllowed},
		{Method: "GET", Route: "/test/{test_id}", TargetGroup: "tests", Status: 200, Latency: time.Millisecond, IntegrationLatency: time.Millisecond, Attempts: 2, Authorizer: AuthAllowed},
		{Method: "GET", Route: "/test", Status: 401, Latency: time.Millisecond, IntegrationLatency: -1, Authorizer: AuthInvalidToken},
		{Method: "POST", Route: "/test", Status: 429, Latency: time.Millisecond, IntegrationLatency: -1, Throttled: true},
		{Method: "GET", Route: "", Status: 404, Latency: time.Millisecond, IntegrationLatency: -1},
		{Method: "GET", Route: "/etc/passwd", Status: 404, Latency: time.Millisecond, IntegrationLatency: -1, Authorizer: "made-up"},
		{Method: "GET", Route: "/test", TargetGroup: "nosuch", Status: 503, Latency: time.Millisecond, IntegrationLatency: -1, Attempts: 0},
	}
	for _, q := range reqs {
		e.Observe(q)
	}
	checks := []struct {
		c    prometheus.Collector
		want float64
	}{
		{e.requests.WithLabelValues("/test", "GET", "2xx"), 1},
		{e.requests.WithLabelValues(Unmatched, "GET", "4xx"), 2},
		{e.requests.WithLabelValues("/test", "POST", "4xx"), 1},
		{e.retries.WithLabelValues("tests"), 1},
		{e.authorizer.WithLabelValues(AuthAllowed), 2},
		{e.authorizer.WithLabelValues(AuthInvalidToken), 1},
		{e.authorizer.WithLabelValues(AuthUnavailable), 1}, // the made-up result
		{e.throttled.WithLabelValues("/test"), 1},
	}
	for i, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("check %d: %v, want %v", i, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(e.integration); n != 2 {
		t.Errorf("integration series: %d, want 2 (tests, uploads)", n)
	}
	for _, s := range series(t, reg, "decagon_edge_requests_total") {
		if strings.Contains(s, "passwd") {
			t.Fatalf("raw path became a label: %s", s)
		}
	}
	if got := series(t, reg, "decagon_edge_retries_total"); len(got) != 2 {
		t.Fatalf("retries series %v: an unknown group must not add one", got)
	}
}

func BenchmarkEdgeObserve(b *testing.B) {
	e := NewEdge(prometheus.NewRegistry(), EdgeConfig{Routes: []string{"/test"}, TargetGroups: []string{"tests"}})
	q := EdgeRequest{Method: "GET", Route: "/test", TargetGroup: "tests", Status: 200, Latency: time.Millisecond, IntegrationLatency: time.Millisecond, Attempts: 1, Authorizer: AuthAllowed}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.Observe(q)
		}
	})
}

func TestTargetCollector(t *testing.T) {
	targets := []Target{
		{Group: "tests", ID: "tests-1", State: "draining", Outstanding: 1}, // replaced: the newer entry wins
		{Group: "tests", ID: "tests-1", State: "healthy", Outstanding: 3},
		{Group: "tests", ID: "tests-2", State: "stopped"},
		{Group: "uploads", ID: "uploads-1", State: "unhealthy"},
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewTargetCollector(func() []Target { return targets }))
	want := `
# HELP decagon_target_group_healthy_targets Healthy targets of a target group.
# TYPE decagon_target_group_healthy_targets gauge
decagon_target_group_healthy_targets{target_group="tests"} 1
decagon_target_group_healthy_targets{target_group="uploads"} 0
# HELP decagon_target_outstanding_requests Requests in flight to a target.
# TYPE decagon_target_outstanding_requests gauge
decagon_target_outstanding_requests{target="tests-1",target_group="tests"} 3
decagon_target_outstanding_requests{target="tests-2",target_group="tests"} 0
decagon_target_outstanding_requests{target="uploads-1",target_group="uploads"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "decagon_target_group_healthy_targets", "decagon_target_outstanding_requests"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "decagon_target_health"); err != nil || n != 3*len(TargetStates) {
		t.Fatalf("health series %d (%v), want %d", n, err, 3*len(TargetStates))
	}
	health := series(t, reg, "decagon_target_health")
	if !contains(health, "state=stopped,target=tests-2,target_group=tests") {
		t.Fatalf("health series %v", health)
	}
}

func TestWAFMetrics(t *testing.T) {
	stats := WAFStats{Allowed: 10, Blocked: 2, Counted: 1, RateLimited: 3}
	reg := prometheus.NewRegistry()
	w := NewWAF(reg, func() WAFStats { return stats })
	for _, r := range [][2]string{{"BLOCK", "942100"}, {"BLOCK", "decagon-rate-based"}, {"COUNT", "decagon-ip-block"}, {"ALLOW", "x"}, {"BLOCK", "949110"}} {
		w.Report(r[0], r[1])
	}
	want := `
# HELP decagon_waf_requests_total Requests the WAF decided on, by action: allowed, blocked, counted (count mode), rate_limited.
# TYPE decagon_waf_requests_total counter
decagon_waf_requests_total{action="allowed"} 10
decagon_waf_requests_total{action="blocked"} 2
decagon_waf_requests_total{action="counted"} 1
decagon_waf_requests_total{action="rate_limited"} 3
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "decagon_waf_requests_total"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		action, group string
		want          float64
	}{{"BLOCK", RuleGroupCRS, 2}, {"BLOCK", RuleGroupRateBased, 1}, {"COUNT", RuleGroupIPSet, 1}, {"COUNT", RuleGroupCRS, 0}} {
		if got := testutil.ToFloat64(w.matches.WithLabelValues(c.action, c.group)); got != c.want {
			t.Errorf("%s %s = %v, want %v", c.action, c.group, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(w.matches); n != 6 {
		t.Errorf("match series %d, want 6: rule IDs must not become labels", n)
	}
}

func TestRegistryAndHandler(t *testing.T) {
	reg := NewRegistry("v1.2.3")
	NewHTTP(reg)
	rec := httptest.NewRecorder()
	Handler(reg).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{`decagon_build_info{goversion="go`, `version="v1.2.3"`, "go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
}
