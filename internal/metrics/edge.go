package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Authorizer results, the values of decagon_edge_authorizer_results_total's result label.
const (
	AuthAllowed           = "allowed"
	AuthMissingToken      = "missing_token"
	AuthInvalidToken      = "invalid_token"
	AuthInsufficientScope = "insufficient_scope"
	AuthUnavailable       = "unavailable"
)

var authResults = map[string]bool{AuthAllowed: true, AuthMissingToken: true, AuthInvalidToken: true,
	AuthInsufficientScope: true, AuthUnavailable: true}

// EdgeRequest is what the edge knows about a request once its response is done.
type EdgeRequest struct {
	// Method is the request method.
	Method string
	// Route is the document path the request matched ("/test/{test_id}") or the prefix of the
	// mount that served it; "" when it matched none.
	Route string
	// TargetGroup is the group it was forwarded to; "" when it was not.
	TargetGroup string
	// Status is the response status; 0 when the response was cut off.
	Status int
	// Latency runs from the request's arrival to the end of its response.
	Latency time.Duration
	// IntegrationLatency runs from forwarding to the target's response headers; negative when
	// the request never reached a target.
	IntegrationLatency time.Duration
	// Attempts is how many targets were tried (2: retried on another one).
	Attempts int
	// Authorizer is the authorizer's result (AuthAllowed, AuthInvalidToken, ...); "" when the
	// route is public or the request was refused before.
	Authorizer string
	// Throttled is true when stage or method throttling refused the request.
	Throttled bool
}

// EdgeConfig bounds the edge's label values.
type EdgeConfig struct {
	// Routes are the route templates of the document and the mount prefixes; others count as
	// Unmatched.
	Routes []string
	// TargetGroups are the services of decagon.yaml; others count as "other".
	TargetGroups []string
}

// Edge measures the local API Gateway and load balancer: decagon_edge_requests_total,
// decagon_edge_request_duration_seconds, decagon_edge_integration_duration_seconds,
// decagon_edge_retries_total, decagon_edge_authorizer_results_total and
// decagon_edge_throttled_requests_total.
type Edge struct {
	routes, groups map[string]bool

	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	integration *prometheus.HistogramVec
	retries     *prometheus.CounterVec
	authorizer  *prometheus.CounterVec
	throttled   *prometheus.CounterVec

	// Children resolved at construction, read-only after: the hot path skips label hashing.
	cache        sync.Map // routeKey → *routeSeries
	integrationG map[string]prometheus.Observer
	retriesG     map[string]prometheus.Counter
	authorizerR  map[string]prometheus.Counter
	throttledR   map[string]prometheus.Counter
}

type routeKey struct {
	route, method string
	class         int
}

type routeSeries struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// NewEdge registers the edge's series with reg.
func NewEdge(reg prometheus.Registerer, cfg EdgeConfig) *Edge {
	e := &Edge{routes: set(cfg.Routes), groups: set(cfg.TargetGroups),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "edge", Name: "requests_total",
			Help: "Requests the edge answered, by route template, method and status class.",
		}, []string{"route", "method", "code_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "edge", Name: "request_duration_seconds",
			Help:    "Time from a request's arrival at the edge to the end of its response, by route template and method.",
			Buckets: LatencyBuckets,
		}, []string{"route", "method"}),
		integration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "edge", Name: "integration_duration_seconds",
			Help:    "Time from forwarding a request to its target's response headers, by target group.",
			Buckets: LatencyBuckets,
		}, []string{"target_group"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "edge", Name: "retries_total",
			Help: "Requests retried on another target after their connection to the first failed, by target group.",
		}, []string{"target_group"}),
		authorizer: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "edge", Name: "authorizer_results_total",
			Help: "Authorizer decisions, by result: allowed, missing_token, invalid_token, insufficient_scope, unavailable.",
		}, []string{"result"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "edge", Name: "throttled_requests_total",
			Help: "Requests refused with 429 by stage or method throttling, by route template.",
		}, []string{"route"}),
	}
	reg.MustRegister(e.requests, e.duration, e.integration, e.retries, e.authorizer, e.throttled)
	// Every known label value is present from the start, at zero, so that rate() works from
	// the first scrape.
	e.authorizerR = map[string]prometheus.Counter{}
	for r := range authResults {
		e.authorizerR[r] = e.authorizer.WithLabelValues(r)
	}
	e.integrationG, e.retriesG = map[string]prometheus.Observer{}, map[string]prometheus.Counter{}
	for g := range e.groups {
		e.integrationG[g], e.retriesG[g] = e.integration.WithLabelValues(g), e.retries.WithLabelValues(g)
	}
	e.throttledR = map[string]prometheus.Counter{Unmatched: e.throttled.WithLabelValues(Unmatched)}
	for r := range e.routes {
		e.throttledR[r] = e.throttled.WithLabelValues(r)
	}
	return e
}

// Observe records one finished request. It is safe for concurrent use and does not allocate
// once a route, method and status class have been seen.
func (e *Edge) Observe(q EdgeRequest) {
	route := bounded(q.Route, e.routes, Unmatched)
	k := routeKey{route: route, method: Method(q.Method), class: q.Status / 100}
	s, ok := e.cache.Load(k)
	if !ok {
		class := StatusClass(q.Status)
		s, _ = e.cache.LoadOrStore(k, &routeSeries{
			requests: e.requests.WithLabelValues(k.route, k.method, class),
			duration: e.duration.WithLabelValues(k.route, k.method),
		})
	}
	rs := s.(*routeSeries)
	rs.requests.Inc()
	rs.duration.Observe(q.Latency.Seconds())
	if q.TargetGroup != "" {
		g := bounded(q.TargetGroup, e.groups, "other")
		if q.IntegrationLatency >= 0 && q.Attempts > 0 {
			if o, ok := e.integrationG[g]; ok {
				o.Observe(q.IntegrationLatency.Seconds())
			} else {
				e.integration.WithLabelValues(g).Observe(q.IntegrationLatency.Seconds())
			}
		}
		if q.Attempts > 1 {
			e.retries.WithLabelValues(g).Add(float64(q.Attempts - 1))
		}
	}
	if q.Authorizer != "" {
		e.authorizerR[bounded(q.Authorizer, authResults, AuthUnavailable)].Inc()
	}
	if q.Throttled {
		e.throttledR[route].Inc()
	}
}

func set(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m
}
