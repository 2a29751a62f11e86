package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LatencyBuckets are the request latency histogram's upper bounds in seconds: fine below
// 100 ms, where a healthy local or in-VPC request lands, and up to API Gateway's 29 s
// integration timeout.
var LatencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// RouteFunc returns the route template a request matched ("/test/{test_id}"), or "" when it
// matched none. It is called after the handler, so it may read what routing left behind.
type RouteFunc func(r *http.Request) string

// RoutesOf returns a RouteFunc matching ServeMux patterns ("GET /test/{test_id}") as the
// service's router does, and answering with the pattern's path.
func RoutesOf(patterns []string) RouteFunc {
	mux := http.NewServeMux()
	paths := map[string]string{}
	for _, p := range patterns {
		mux.Handle(p, http.NotFoundHandler())
		paths[p] = pathOf(p)
	}
	return func(r *http.Request) string {
		_, p := mux.Handler(r)
		return paths[p]
	}
}

// pathOf drops the method (and host) of a ServeMux pattern.
func pathOf(pattern string) string {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == ' ' {
			pattern = pattern[i+1:]
			break
		}
	}
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '/' {
			return pattern[i:]
		}
	}
	return pattern
}

// HTTP measures a service's requests: decagon_http_requests_total{service,route,method,
// code_class}, decagon_http_request_duration_seconds{service,route,method} and
// decagon_http_requests_in_flight{service}. One HTTP serves every service of a process.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight *prometheus.GaugeVec
}

// NewHTTP registers the HTTP series with reg.
func NewHTTP(reg prometheus.Registerer) *HTTP {
	h := &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "Requests served, by service, route template, method and status class.",
		}, []string{"service", "route", "method", "code_class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from the request's headers to the end of its response, by service, route template and method.",
			Buckets: LatencyBuckets,
		}, []string{"service", "route", "method"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Subsystem: "http", Name: "requests_in_flight",
			Help: "Requests being served, by service.",
		}, []string{"service"}),
	}
	reg.MustRegister(h.requests, h.duration, h.inFlight)
	return h
}

// Middleware measures every request next serves for service. route names the request's route
// template; requests it does not place count as Unmatched.
func (h *HTTP) Middleware(service string, route RouteFunc, next http.Handler) http.Handler {
	inFlight := h.inFlight.WithLabelValues(service)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		inFlight.Inc()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			inFlight.Dec()
			status := rec.status
			if v := recover(); v != nil {
				defer panic(v)
				status = 0
			} else if status == 0 {
				status = http.StatusOK
			}
			rt := route(r)
			if rt == "" {
				rt = Unmatched
			}
			m := Method(r.Method)
			h.requests.WithLabelValues(service, rt, m, StatusClass(status)).Inc()
			h.duration.WithLabelValues(service, rt, m).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

// recorder remembers the status a handler wrote.
type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush lets streaming handlers flush through the recorder.
func (r *recorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
