package dashboard

import (
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Route is one operation of the API as the page lists it.
type Route struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Service is the target group the path rules send it to.
	Service string `json:"service"`
	// Auth is "public", "token", or the scopes the operation asks for.
	Auth string `json:"auth"`
}

// TargetGroup is a target group with its targets, as the page shows it.
type TargetGroup struct {
	Name    string   `json:"name"`
	Targets []Target `json:"targets"`
}

// Target is one task of a service.
type Target struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	// Health is initial, healthy, unhealthy or draining.
	Health      string `json:"health"`
	Outstanding int64  `json:"outstanding"`
	// PID is the task's process.
	PID int `json:"pid"`
	// CPUPercent is its CPU over the last sampling interval in percent of its vCPU; nil
	// before the first.
	CPUPercent *float64 `json:"cpu_percent"`
	// MemoryMiB is its resident memory.
	MemoryMiB float64 `json:"memory_mib"`
}

// Service is a local ECS service: its task counts, scaling alarms and latest events.
type Service struct {
	Name    string `json:"name"`
	Desired int    `json:"desired"`
	Running int    `json:"running"`
	Healthy int    `json:"healthy"`
	Pending int    `json:"pending"`
	Min     int    `json:"min"`
	Max     int    `json:"max"`
	// Deployment describes the deployment in progress; empty when none.
	Deployment string         `json:"deployment"`
	Alarms     []Alarm        `json:"alarms"`
	Events     []ServiceEvent `json:"events"`
}

// Alarm is a scaling alarm with its state (OK, ALARM or INSUFFICIENT_DATA) and last value.
type Alarm struct {
	Name          string   `json:"name"`
	State         string   `json:"state"`
	Value         *float64 `json:"value"`
	Threshold     float64  `json:"threshold"`
	Comparison    string   `json:"comparison"`
	PeriodSeconds float64  `json:"period_seconds"`
	// EvaluationPeriods is how many consecutive periods must breach.
	EvaluationPeriods int `json:"evaluation_periods"`
}

// ServiceEvent is one event of a service (scale-out, task-replaced, ...), newest first.
type ServiceEvent struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

// Config configures a Dashboard. Gatherer is required; every other field may be left zero.
type Config struct {
	// Gatherer holds the edge's metrics (the registry /metrics serves).
	Gatherer prometheus.Gatherer
	// RequestsMetric and DurationMetric name the request counter (labels route, code_class)
	// and latency histogram (label route) the charts are drawn from:
	// decagon_edge_requests_total and decagon_edge_request_duration_seconds when empty.
	RequestsMetric, DurationMetric string
	// Targets lists the target groups at every poll.
	Targets func() []TargetGroup
	// Services lists the services at every poll.
	Services func() []Service
	// Routes are the API's operations.
	Routes []Route
	// Events are the latest refusals.
	Events *Events
	// AdminPrefix is where the page sends stop: POST {AdminPrefix}/{id}/stop.
	// "/_dev/targets" when empty.
	AdminPrefix string
	// Interval is the sampling period: one second when zero.
	Interval time.Duration
	// Window is how many samples the charts keep: 300 (five minutes at 1 s) when zero.
	Window int
	// Logger receives sampling failures; slog.Default() when nil.
	Logger *slog.Logger
}

// Dashboard samples the metrics and serves the page and its data.
type Dashboard struct {
	cfg Config

	mu     sync.Mutex
	points []Point
	last   totals
	primed bool
}

// New returns a dashboard; Run samples, Handler serves.
func New(cfg Config) *Dashboard {
	if cfg.RequestsMetric == "" {
		cfg.RequestsMetric = "decagon_edge_requests_total"
	}
	if cfg.DurationMetric == "" {
		cfg.DurationMetric = "decagon_edge_request_duration_seconds"
	}
	if cfg.AdminPrefix == "" {
		cfg.AdminPrefix = "/_dev/targets"
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Window <= 0 {
		cfg.Window = 300
	}
	if cfg.Events == nil {
		cfg.Events = &Events{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Dashboard{cfg: cfg}
}

// Run samples the metrics every interval until ctx is done.
func (d *Dashboard) Run(ctx context.Context) {
	t := time.NewTicker(d.cfg.Interval)
	defer t.Stop()
	d.Sample(time.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			d.Sample(now)
		}
	}
}

// Sample reads the metrics once and appends a point computed against the previous reading.
func (d *Dashboard) Sample(now time.Time) {
	fams, err := d.cfg.Gatherer.Gather()
	if err != nil {
		d.cfg.Logger.Warn("dashboard: gather metrics", "err", err)
		if len(fams) == 0 {
			return
		}
	}
	cur := d.read(fams, now)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.primed {
		d.points = append(d.points, point(d.last, cur))
		if over := len(d.points) - d.cfg.Window; over > 0 {
			d.points = append(d.points[:0], d.points[over:]...)
		}
	}
	d.last, d.primed = cur, true
}

// RouteStats is a route with its request totals since the stack started.
type RouteStats struct {
	Route
	Requests float64 `json:"requests"`
	Errors   float64 `json:"errors"`
}

// State is what the page polls.
type State struct {
	Now          int64              `json:"now"`
	Interval     int64              `json:"interval_ms"`
	AdminPrefix  string             `json:"admin_prefix"`
	Points       []Point            `json:"points"`
	Requests     float64            `json:"requests"`
	Errors       float64            `json:"errors"`
	WAF          map[string]float64 `json:"waf"`
	Routes       []RouteStats       `json:"routes"`
	TargetGroups []TargetGroup      `json:"target_groups"`
	Services     []Service          `json:"services"`
	Events       []Event            `json:"events"`
}

// State returns the page's data.
func (d *Dashboard) State() State {
	d.mu.Lock()
	last := d.last
	s := State{Now: time.Now().UnixMilli(), Interval: d.cfg.Interval.Milliseconds(), AdminPrefix: d.cfg.AdminPrefix,
		Points: append([]Point{}, d.points...), Requests: last.requests, Errors: last.errors, WAF: map[string]float64{}}
	d.mu.Unlock()
	for k, v := range last.waf {
		s.WAF[k] = v
	}
	for _, r := range d.cfg.Routes {
		rt := last.routes[routeKey(r.Method, r.Path)]
		s.Routes = append(s.Routes, RouteStats{Route: r, Requests: rt.requests, Errors: rt.errors})
	}
	if d.cfg.Targets != nil {
		s.TargetGroups = d.cfg.Targets()
	}
	if d.cfg.Services != nil {
		s.Services = d.cfg.Services()
	}
	s.Events = d.cfg.Events.Latest()
	return s
}

//go:embed page.html
var page []byte

// Handler serves the page at any path ending in "/" and its data at ".../api/state", so that
// it can be mounted under any prefix ("/_dev/").
func (d *Dashboard) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		switch {
		case strings.HasSuffix(r.URL.Path, "/api/state"):
			h.Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(d.State())
		case strings.HasSuffix(r.URL.Path, "/"):
			h.Set("Content-Type", "text/html; charset=utf-8")
			// Everything is inline: nothing may load from elsewhere, and no script may be
			// injected into the page by the data it shows.
			h.Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
			h.Set("Referrer-Policy", "no-referrer")
			_, _ = w.Write(page)
		default:
			http.NotFound(w, r)
		}
	})
}
