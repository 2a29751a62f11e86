package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/api"
	"github.com/decagon/decagon/internal/dashboard"
	"github.com/decagon/decagon/internal/devstack"
	"github.com/decagon/decagon/internal/edge"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/store"
	"github.com/decagon/decagon/internal/telemetry"
	"github.com/decagon/decagon/internal/telemetry/instrument"
	"github.com/decagon/decagon/internal/topology"
	"github.com/decagon/decagon/internal/waf"
	"github.com/decagon/decagon/internal/web"
)

// observability is what a process measures. Every field may be nil: nothing is measured then.
type observability struct {
	reg     *prometheus.Registry // served at /metrics
	http    *metrics.HTTP
	storage *metrics.Storage
	emf     *metrics.EMF // --cloudwatch-emf
}

// newObservability returns the Prometheus side when on, nothing otherwise.
func newObservability(on bool) *observability {
	if !on {
		return &observability{}
	}
	reg := metrics.NewRegistry(version)
	return &observability{reg: reg, http: metrics.NewHTTP(reg), storage: metrics.NewStorage(reg)}
}

// dbObservers and blobObservers are told of every store call.
func (o *observability) dbObservers() (out []instrument.DBObserver) {
	if o.storage != nil {
		out = append(out, o.storage)
	}
	if o.emf != nil {
		out = append(out, o.emf)
	}
	return out
}

func (o *observability) blobObservers() (out []instrument.BlobObserver) {
	if o.storage != nil {
		out = append(out, o.storage)
	}
	if o.emf != nil {
		out = append(out, o.emf)
	}
	return out
}

// service wraps a service's handler: trace context, request metrics, EMF counts.
func (o *observability) service(name string, patterns []string, h http.Handler) http.Handler {
	route := metrics.RoutesOf(patterns)
	if o.emf != nil {
		h = o.emf.Middleware(h)
	}
	if o.http != nil {
		h = o.http.Middleware(name, route, h)
	}
	return telemetry.Middleware(route, h)
}

// watchPools reports db's connection pools.
func (o *observability) watchPools(db *store.DB) {
	if o.reg == nil {
		return
	}
	o.reg.MustRegister(metrics.NewPoolCollector(func() []metrics.PoolStats {
		p := db.Pools()
		if p.Postgres != nil {
			return []metrics.PoolStats{metrics.PgxPoolStats("postgres", p.Postgres)}
		}
		return []metrics.PoolStats{metrics.SQLDBStats("sqlite-write", p.SQLiteWrite), metrics.SQLDBStats("sqlite-read", p.SQLiteRead)}
	}))
}

// setupTelemetry installs the tracer provider (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set)
// and returns its shutdown, bounded to 5 s.
func setupTelemetry(ctx context.Context, service string) (func(), error) {
	shutdown, err := telemetry.Setup(ctx, telemetry.Config{ServiceName: service, Version: version})
	if err != nil {
		return nil, err
	}
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = shutdown(sctx)
	}, nil
}

// serveAdmin serves /metrics on addr (never an address the load balancer routes) until ctx is
// done. An empty addr serves nothing.
func serveAdmin(ctx context.Context, addr string, reg *prometheus.Registry, logger *slog.Logger) error {
	if addr == "" || reg == nil {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--admin-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(reg))
	logger.Info("admin serving", "addr", ln.Addr().String(), "metrics", "/metrics")
	go func() {
		if err := web.Serve(ctx, web.NewServer(mux, logger), ln, 0, nil, logger); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("admin server", "err", err)
		}
	}()
	return nil
}

// edgeMetrics registers the edge's series and returns the edge's observer; events, when set,
// also get its throttled requests.
func edgeMetrics(reg *prometheus.Registry, topo *topology.Topology, mounts []string, events *dashboard.Events) (func(*edge.Observation), error) {
	ops, err := api.Operations()
	if err != nil {
		return nil, err
	}
	routes := append([]string(nil), mounts...)
	for _, op := range ops {
		routes = append(routes, op.Path)
	}
	var groups []string
	for _, s := range topo.Services {
		groups = append(groups, s.Name)
	}
	m := metrics.NewEdge(reg, metrics.EdgeConfig{Routes: routes, TargetGroups: groups})
	return func(o *edge.Observation) {
		m.Observe(metrics.EdgeRequest{Method: o.Method, Route: o.Resource, TargetGroup: o.Group, Status: o.Status,
			Latency: o.Latency, IntegrationLatency: o.IntegrationLatency, Attempts: o.Attempts,
			Authorizer: o.Authorizer, Throttled: o.Throttled})
		if o.Throttled && events != nil {
			events.Add(dashboard.Event{Kind: dashboard.KindThrottled, Rule: "stage throttling", Method: o.Method, Path: o.Path, Client: o.ClientIP})
		}
	}, nil
}

// wafReport feeds the WAF's refusals to its metrics and, when set, to the dashboard's events.
func wafReport(w *metrics.WAF, events *dashboard.Events, proxies edge.TrustedProxies) func(*http.Request, string, string) {
	return func(r *http.Request, action, rule string) {
		w.Report(action, rule)
		if events == nil {
			return
		}
		kind := dashboard.KindWAFCount
		switch {
		case action == "BLOCK" && metrics.RuleGroup(rule) == metrics.RuleGroupRateBased:
			kind = dashboard.KindRateLimited
		case action == "BLOCK":
			kind = dashboard.KindWAFBlock
		}
		client := ""
		if ip, ok := proxies.ClientIP(r); ok {
			client = ip.String()
		}
		events.Add(dashboard.Event{Kind: kind, Rule: rule, Method: r.Method, Path: r.URL.RequestURI(), Client: client})
	}
}

// edgeTargets lists an edge's targets for the metrics.
func edgeTargets(e *edge.Edge) func() []metrics.Target {
	return func() []metrics.Target {
		var out []metrics.Target
		for _, name := range e.GroupNames() {
			g, _ := e.Group(name)
			for _, t := range g.Targets() {
				out = append(out, metrics.Target{Group: name, ID: t.ID, State: t.State().String(), Outstanding: t.Outstanding()})
			}
		}
		return out
	}
}

// stackTargets lists the local stack's targets (stopped replicas included) once it runs.
type stackTargets struct {
	stack atomic.Pointer[devstack.Stack]
}

func (s *stackTargets) metrics() []metrics.Target {
	var out []metrics.Target
	for _, g := range s.groups() {
		for _, t := range g.Targets {
			out = append(out, metrics.Target{Group: g.Name, ID: t.ID, State: t.Health, Outstanding: t.Outstanding})
		}
	}
	return out
}

func (s *stackTargets) dashboard() []dashboard.TargetGroup {
	var out []dashboard.TargetGroup
	for _, g := range s.groups() {
		tg := dashboard.TargetGroup{Name: g.Name, Targets: []dashboard.Target{}}
		for _, t := range g.Targets {
			tg.Targets = append(tg.Targets, dashboard.Target{ID: t.ID, Address: t.Address, Health: t.Health, Outstanding: t.Outstanding})
		}
		out = append(out, tg)
	}
	return out
}

func (s *stackTargets) groups() []devstack.TargetGroup {
	if st := s.stack.Load(); st != nil {
		return st.TargetGroups()
	}
	return nil
}

// dashboardRoutes lists the API's operations with the service their path goes to.
func dashboardRoutes(topo *topology.Topology) ([]dashboard.Route, error) {
	ops, err := api.Operations()
	if err != nil {
		return nil, err
	}
	var out []dashboard.Route
	for _, op := range ops {
		svc := topo.Services[0].Name // the listener's default action
		if s, ok := topo.Match(op.Path); ok {
			svc = s.Name
		}
		auth := "token"
		switch {
		case op.Public:
			auth = "public"
		case len(op.Scopes) > 0:
			auth = strings.Join(op.Scopes, " ")
		}
		out = append(out, dashboard.Route{Method: op.Method, Path: op.Path, Service: svc, Auth: auth})
	}
	return out, nil
}

// edgeFront is the edge's front middleware: the WAF (nil: none) and, when spans are exported,
// the trace context outside it, so that the edge's span is the parent of the service's. When
// nothing is exported the edge adds nothing: the first service mints the trace ID.
func edgeFront(stage string, wafMW func(http.Handler) http.Handler) (func(http.Handler) http.Handler, error) {
	if !telemetry.Enabled() {
		return wafMW, nil
	}
	ops, err := api.Operations()
	if err != nil {
		return nil, err
	}
	// Span names by route template, at /{path} and at /{stage}/{path} alike.
	mux := http.NewServeMux()
	paths := map[string]string{}
	for _, op := range ops {
		for _, p := range []string{op.Path, "/" + stage + op.Path} {
			mux.Handle(op.Method+" "+p, http.NotFoundHandler())
			paths[op.Method+" "+p] = op.Path
		}
	}
	route := func(r *http.Request) string {
		_, p := mux.Handler(r)
		return paths[p]
	}
	return func(next http.Handler) http.Handler {
		if wafMW != nil {
			next = wafMW(next)
		}
		return telemetry.Middleware(route, next)
	}, nil
}

// newWAF builds the WAF from decagon.yaml's section, its counters in reg (when not nil) and its
// blocks in events (when not nil), and returns its middleware.
func newWAF(cfg topology.WAF, proxies edge.TrustedProxies, reg *prometheus.Registry, events *dashboard.Events, logger *slog.Logger) (func(http.Handler) http.Handler, error) {
	wc := wafConfig(cfg, proxies)
	var made atomic.Pointer[waf.WAF]
	if reg != nil {
		wc.Report = wafReport(metrics.NewWAF(reg, wafStats(&made)), events, proxies)
	}
	w, err := waf.New(wc, logger)
	if err != nil {
		return nil, err
	}
	made.Store(w)
	return w.Middleware, nil
}

// wafStats adapts the WAF's counters. The WAF is made after its metrics (its Report hook feeds
// them), so w is filled in later, while scrapes may already run: hence the atomic pointer.
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
