package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/dashboard"
	"github.com/decagon/decagon/internal/dashboard/browsertest"
	"github.com/decagon/decagon/internal/devstack"
	"github.com/decagon/decagon/internal/metrics"
	"github.com/decagon/decagon/internal/topology"
)

const browserTopology = `
stage: {name: Test, throttling: {rateLimit: 10000, burstLimit: 5000}}
services:
  - name: tests
    pathRules: [{priority: 5, paths: ["/health-check"]}, {priority: 10, paths: ["/test", "/test/*"]}]
    desiredCount: 2
    healthCheck:
      local: {interval: 100ms, timeout: 100ms, healthyThreshold: 2, unhealthyThreshold: 2}
`

// refuseAll is the authorizer's verifier: the test's traffic goes to the public
// /health-check only.
type refuseAll struct{}

func (refuseAll) Verify(context.Context, string, auth.Requirement) (*auth.Claims, error) {
	return nil, auth.ErrInvalidToken
}

// replica is a service replica: /health-check, 503 once drained.
func replica(h *metrics.HTTP) devstack.ServiceFactory {
	return func(ctx context.Context, service string) (http.Handler, func(), error) {
		var draining atomic.Bool
		mux := http.NewServeMux()
		mux.HandleFunc("GET /health-check", func(w http.ResponseWriter, r *http.Request) {
			if draining.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"ok"}`)
		})
		return h.Middleware(service, metrics.RoutesOf([]string{"GET /health-check"}), mux), func() { draining.Store(true) }, nil
	}
}

// startStack runs the local stack with the dashboard mounted at /_dev/ and returns its URL.
func startStack(t *testing.T, events *dashboard.Events) string {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	topo, err := topology.Parse([]byte(browserTopology))
	if err != nil {
		t.Fatal(err)
	}
	var stack atomic.Pointer[devstack.Stack]
	d := dashboard.New(dashboard.Config{
		Gatherer:       reg,
		RequestsMetric: "decagon_http_requests_total", DurationMetric: "decagon_http_request_duration_seconds",
		Interval: 250 * time.Millisecond,
		Routes:   []dashboard.Route{{Method: "GET", Path: "/health-check", Service: "tests", Auth: "public"}},
		Targets: func() []dashboard.TargetGroup {
			st := stack.Load()
			if st == nil {
				return nil
			}
			var out []dashboard.TargetGroup
			for _, g := range st.TargetGroups() {
				tg := dashboard.TargetGroup{Name: g.Name}
				for _, x := range g.Targets {
					tg.Targets = append(tg.Targets, dashboard.Target{ID: x.ID, Address: x.Address, Health: x.Health, Outstanding: x.Outstanding})
				}
				out = append(out, tg)
			}
			return out
		},
		Events: events,
		Logger: logger,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := devstack.Start(ctx, devstack.Config{Listener: ln, Topology: topo, Verifier: refuseAll{},
		NewService: replica(metrics.NewHTTP(reg)), Mounts: map[string]http.Handler{"/_dev/": d.Handler()},
		Logger: logger, ReadyTimeout: 10 * time.Second})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	stack.Store(st)
	go d.Run(ctx)
	done := make(chan error, 1)
	go func() { done <- st.Wait() }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("stack: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("stack did not stop")
		}
	})
	return st.URL()
}

// traffic sends GET /health-check through the edge until ctx is done.
func traffic(ctx context.Context, t *testing.T, base string) *sync.WaitGroup {
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 2 * time.Second}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/health-check", nil)
				resp, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				select {
				case <-ctx.Done():
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
	}
	return &wg
}

func TestBrowserDashboard(t *testing.T) {
	ctx := browsertest.Browser(t, 45*time.Second)
	events := &dashboard.Events{}
	// A refused request's path is the client's: the page must show it as text, never as markup.
	const evil = `/test/<img src=x onerror="document.body.dataset.pwned=1">`
	events.Add(dashboard.Event{Kind: dashboard.KindWAFBlock, Rule: "942100", Method: "GET", Path: evil, Client: "192.0.2.1"})
	base := startStack(t, events)
	tctx, stopTraffic := context.WithCancel(context.Background())
	wg := traffic(tctx, t, base)
	t.Cleanup(func() { stopTraffic(); wg.Wait() })

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/_dev/"), chromedp.WaitVisible(`tr[data-target="tests-1"]`)); err != nil {
		t.Fatalf("load the dashboard: %v", err)
	}
	// The numbers move: requests/s above zero, and the total grows between two reads.
	browsertest.WaitText(t, ctx, "#rps", 10*time.Second, func(s string) bool { return browsertest.Number(s) > 0 })
	first := browsertest.Number(browsertest.WaitText(t, ctx, "#total", 5*time.Second, func(s string) bool { return browsertest.Number(s) > 0 }))
	browsertest.WaitText(t, ctx, "#total", 10*time.Second, func(s string) bool { return browsertest.Number(s) > first })
	browsertest.WaitText(t, ctx, "#p99", 5*time.Second, func(s string) bool { return browsertest.Number(s) > 0 })
	browsertest.WaitText(t, ctx, `tr[data-target="tests-1"] .health`, 5*time.Second, func(s string) bool { return s == "healthy" })

	browsertest.WaitText(t, ctx, "#events", 5*time.Second, func(s string) bool { return strings.Contains(s, evil) })
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelectorAll("#events img").length > 0 || document.body.dataset.pwned === "1"`))
	if err != nil || injected {
		t.Fatalf("event path rendered as markup: %v %v", injected, err)
	}

	// Stopping a replica from the page turns it unhealthy there; the other stays healthy.
	browsertest.Click(t, ctx, `tr[data-target="tests-1"] button[data-action="stop"]`)
	browsertest.WaitText(t, ctx, `tr[data-target="tests-1"] .health`, 5*time.Second, func(s string) bool { return s == "stopped" || s == "unhealthy" })
	browsertest.WaitText(t, ctx, `tr[data-target="tests-2"] .health`, time.Second, func(s string) bool { return s == "healthy" })
	browsertest.WaitText(t, ctx, `table[data-group="tests"]`, 5*time.Second, func(s string) bool { return strings.Contains(s, "stopped") || strings.Contains(s, "unhealthy") })

	browsertest.Screenshot(t, ctx, "dashboard.png")

	// Starting it again brings it back to healthy.
	browsertest.Click(t, ctx, `tr[data-target="tests-1"] button[data-action="start"]`)
	browsertest.WaitText(t, ctx, `tr[data-target="tests-1"] .health`, 10*time.Second, func(s string) bool { return s == "healthy" })
}
