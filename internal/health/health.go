// Package health answers the load balancer's /health-check: 200 while every dependency answers
// in time, 503 naming the failing check otherwise, and 503 from the moment the service starts
// to drain, so the target group takes it out before it stops.
package health

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Check probes one dependency; it must honour ctx's deadline.
type Check func(ctx context.Context) error

// Checker runs named checks, caching the outcome so that a flood of health checks does not load
// the dependencies. The zero value is not usable; use New.
type Checker struct {
	checks  map[string]Check
	ttl     time.Duration
	timeout time.Duration
	logger  *slog.Logger

	draining atomic.Bool

	mu      sync.Mutex // held while checks run, so concurrent callers share one run
	at      time.Time
	results map[string]string
	ok      bool
}

// Report is the /health-check body.
type Report struct {
	Status string            `json:"status"` // ok, failing or draining
	Checks map[string]string `json:"checks"`
}

// New returns a Checker that caches results for ttl (at most 1 s is sensible) and gives every
// run of the checks timeout (2 s for the load balancer).
func New(checks map[string]Check, ttl, timeout time.Duration, logger *slog.Logger) *Checker {
	if logger == nil {
		logger = slog.Default()
	}
	return &Checker{checks: checks, ttl: ttl, timeout: timeout, logger: logger}
}

// Drain makes every later report 503 "draining".
func (c *Checker) Drain() { c.draining.Store(true) }

// Draining reports whether Drain was called.
func (c *Checker) Draining() bool { return c.draining.Load() }

// Report runs the checks (or returns the cached outcome) and says whether all passed.
func (c *Checker) Report(ctx context.Context) (Report, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.results == nil || time.Since(c.at) >= c.ttl {
		c.results, c.ok = c.run(ctx)
		c.at = time.Now()
	}
	rep := Report{Status: "ok", Checks: make(map[string]string, len(c.results))}
	for k, v := range c.results {
		rep.Checks[k] = v
	}
	ok := c.ok
	if !ok {
		rep.Status = "failing"
	}
	if c.draining.Load() {
		rep.Status, ok = "draining", false
	}
	return rep, ok
}

func (c *Checker) run(ctx context.Context) (map[string]string, bool) {
	// The caller's context may be cancelled by an impatient client; the outcome is shared, so
	// give the checks their own deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	names := make([]string, 0, len(c.checks))
	for n := range c.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make(map[string]string, len(names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok := true
	for _, n := range names {
		wg.Go(func() {
			err := c.checks[n](ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				ok = false
				results[n] = "failing"
				c.logger.Warn("health check failed", "check", n, "err", err)
				return
			}
			results[n] = "ok"
		})
	}
	wg.Wait()
	return results, ok
}

// ServeHTTP answers the health check.
func (c *Checker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rep, ok := c.Report(r.Context())
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(rep)
}
