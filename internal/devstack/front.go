package devstack

import (
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/dashboard"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/telemetry"
	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/waf"
)

// Front is the edge's front middleware (edge.Config.WAF) for `decagon dev` and `decagon edge`:
// the WAF (nil: none) and, when spans are exported, the trace context outside it, so that the
// edge's span is the parent of the service's. When nothing is exported the edge adds nothing:
// the first service mints the trace ID.
func Front(stage string, wafMW func(http.Handler) http.Handler) (func(http.Handler) http.Handler, error) {
	if !telemetry.Enabled() {
		return wafMW, nil
	}
	route, err := spanRoutes(stage)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if wafMW != nil {
			next = wafMW(next)
		}
		return telemetry.Middleware(route, next)
	}, nil
}

// spanRoutes names a request's span by its operation's route template, at /{path} and at
// /{stage}/{path} alike, with a ServeMux holding the document's operations: the same matching
// the services' routers do, so the edge's span and the service's carry one name.
func spanRoutes(stage string) (func(*http.Request) string, error) {
	ops, err := api.Operations()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	paths := map[string]string{}
	for _, op := range ops {
		for _, p := range []string{op.Path, "/" + stage + op.Path} {
			mux.Handle(op.Method+" "+p, http.NotFoundHandler())
			paths[op.Method+" "+p] = op.Path
		}
	}
	return func(r *http.Request) string {
		_, p := mux.Handler(r)
		return paths[p]
	}, nil
}

// WAFConfig is what NewWAF builds the WAF from.
type WAFConfig struct {
	// WAF is decagon.yaml's waf section.
	WAF topology.WAF
	// TrustedProxies decide the client address, the key of the IP sets and the rate-based rule.
	TrustedProxies edge.TrustedProxies
	// Registry, when set, gets the WAF's counters.
	Registry *prometheus.Registry
	// Events, when set, gets every refusal, for the dashboard.
	Events *dashboard.Events
	Logger *slog.Logger
}

// NewWAF builds the WAF and returns its middleware.
func NewWAF(c WAFConfig) (func(http.Handler) http.Handler, error) {
	wc := wafConfig(c.WAF, c.TrustedProxies)
	// The WAF is made after its metrics (its Report hook feeds them) while scrapes may already
	// run: hence the atomic pointer the stats read.
	var made atomic.Pointer[waf.WAF]
	if c.Registry != nil {
		wc.Report = wafReport(metrics.NewWAF(c.Registry, wafStats(&made)), c.Events, c.TrustedProxies)
	}
	w, err := waf.New(wc, c.Logger)
	if err != nil {
		return nil, err
	}
	made.Store(w)
	return w.Middleware, nil
}

// wafConfig is decagon.yaml's waf section, as topology validated it, with the edge's notion of
// the client address (trusted proxies) as the key of its IP sets and rate-based rule.
func wafConfig(w topology.WAF, proxies edge.TrustedProxies) waf.Config {
	return waf.Config{WAF: w, ClientIP: proxies.ClientIP}
}

// wafStats reads the WAF's counters once it exists.
func wafStats(w *atomic.Pointer[waf.WAF]) func() metrics.WAFStats {
	return func() metrics.WAFStats {
		cur := w.Load()
		if cur == nil {
			return metrics.WAFStats{}
		}
		s := cur.Stats()
		return metrics.WAFStats{Allowed: s.Allowed, Blocked: s.Blocked, Counted: s.Counted, RateLimited: s.RateLimited}
	}
}

// wafReport feeds the WAF's refusals to its metrics and, when set, to the dashboard's events.
func wafReport(w *metrics.WAF, events *dashboard.Events, proxies edge.TrustedProxies) func(*http.Request, string, string) {
	return func(r *http.Request, action, rule string) {
		w.Report(action, rule)
		if events == nil {
			return
		}
		client := ""
		if ip, ok := proxies.ClientIP(r); ok {
			client = ip.String()
		}
		events.Add(dashboard.Event{Kind: eventKind(action, rule), Rule: rule, Method: r.Method, Path: r.URL.RequestURI(), Client: client})
	}
}

// eventKind classifies a WAF decision for the dashboard.
func eventKind(action, rule string) string {
	switch {
	case action == "BLOCK" && metrics.RuleGroup(rule) == metrics.RuleGroupRateBased:
		return dashboard.KindRateLimited
	case action == "BLOCK":
		return dashboard.KindWAFBlock
	}
	return dashboard.KindWAFCount
}
