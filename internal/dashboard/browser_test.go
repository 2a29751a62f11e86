package dashboard_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/decagon/decagon/internal/auth"
	"github.com/decagon/decagon/internal/dashboard"
	"github.com/decagon/decagon/internal/dashboard/browsertest"
	"github.com/decagon/decagon/internal/devstack"
	"github.com/decagon/decagon/internal/devstack/devstacktest"
	"github.com/decagon/decagon/internal/topology"
)

// browserTopology scales out on almost any traffic: the Average CPU of the tasks above 1 % of
// their vCPU for one period, a minute that --scaling-speedup 60 makes a second.
const browserTopology = `
stage: {name: Test, throttling: {rateLimit: 10000, burstLimit: 5000}}
services:
  - name: tests
    pathRules: [{priority: 5, paths: ["/health-check"]}, {priority: 10, paths: ["/test", "/test/*"]}]
    desiredCount: 2
    healthCheck:
      local: {interval: 100ms, timeout: 100ms, healthyThreshold: 2, unhealthyThreshold: 2}
    scaling:
      cooldown: 60s
      scaleOut: {statistic: Average, threshold: 1, period: 60s}
      scaleIn: {statistic: Average, threshold: 0.5, period: 60s}
`

func TestMain(m *testing.M) {
	devstacktest.Main() // a task of a test's stack: serve, never return
	os.Exit(m.Run())
}

// refuseAll is the authorizer's verifier: the test's traffic goes to the public
// /health-check only.
type refuseAll struct{}

func (refuseAll) Verify(context.Context, string, auth.Requirement) (*auth.Claims, error) {
	return nil, auth.ErrInvalidToken
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
	observe, err := devstack.EdgeMetrics(reg, topo, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	targets := &devstack.Targets{}
	d := dashboard.New(dashboard.Config{
		Gatherer: reg,
		Interval: 250 * time.Millisecond,
		Routes:   []dashboard.Route{{Method: "GET", Path: "/health-check", Service: "tests", Auth: "public"}},
		Targets:  targets.Dashboard,
		Services: targets.Services,
		Events:   events,
		Logger:   logger,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	st, err := devstack.Start(ctx, devstack.Config{Listener: ln, Topology: topo, Verifier: refuseAll{},
		Command: devstacktest.Command, ScalingSpeedup: 60, Observe: observe,
		Mounts: map[string]http.Handler{"/_dev/": d.Handler()}, Logger: logger, ReadyTimeout: 30 * time.Second})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	targets.Set(st)
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
		case <-time.After(30 * time.Second):
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

	// Traffic makes the scale-out alarm go to ALARM and the service scale out to 3 tasks: the
	// page shows the alarm, the counts, the scale-out event and the third task with its CPU.
	browsertest.WaitText(t, ctx, `[data-service="tests"] [data-alarm="ECS_Fargate_Container_Scaleout_CPU_Utilisation"] .alarm`, 20*time.Second,
		func(s string) bool { return s == "ALARM" })
	browsertest.WaitText(t, ctx, `[data-service="tests"] .svc-events`, 20*time.Second, func(s string) bool { return strings.Contains(s, "desired count 2 → 3") })
	browsertest.WaitText(t, ctx, `[data-service="tests"] .desired`, 5*time.Second, func(s string) bool { return browsertest.Number(s) >= 3 })
	browsertest.WaitText(t, ctx, `tr[data-target="tests-3"] .health`, 20*time.Second, func(s string) bool { return s == "healthy" })
	browsertest.WaitText(t, ctx, `tr[data-target="tests-3"] .cpu`, 10*time.Second, func(s string) bool { return strings.HasSuffix(s, "%") })
	browsertest.Screenshot(t, ctx, "dashboard-scale-out.png")

	// Stopping a task from the page drains it there, and the scheduler's replacement shows up
	// healthy under a new ID, with a task-replaced event.
	browsertest.Click(t, ctx, `tr[data-target="tests-1"] button[data-action="stop"]`)
	browsertest.WaitText(t, ctx, `[data-service="tests"] .svc-events`, 20*time.Second, func(s string) bool {
		return strings.Contains(s, "task-replaced: (service tests) task tests-1 stopped")
	})
	gone, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('tr[data-target="tests-1"]') === null`))
	for deadline := time.Now().Add(15 * time.Second); err == nil && !gone && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		gone, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('tr[data-target="tests-1"]') === null`))
	}
	if err != nil || !gone {
		t.Fatalf("the stopped task's row is still on the page: %v", err)
	}
}

// The routes table does not widen its card, however narrow the window.
func TestBrowserRoutesFitTheirCard(t *testing.T) {
	ctx := browsertest.Browser(t, 30*time.Second)
	d := dashboard.New(dashboard.Config{Gatherer: prometheus.NewRegistry(), Routes: []dashboard.Route{
		{Method: "POST", Path: "/upload/{upload_id}/complete/" + strings.Repeat("very-long-segment/", 8), Service: "uploads", Auth: "token"},
		{Method: "GET", Path: "/test", Service: "tests", Auth: "public"},
	}})
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	for _, width := range []int64{1280, 600} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 800), chromedp.Navigate(srv.URL+"/"),
			chromedp.WaitVisible(`tr[data-route="GET /test"]`)); err != nil {
			t.Fatal(err)
		}
		overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll("section")].some((s) => s.scrollWidth > s.clientWidth + 1 || s.getBoundingClientRect().right > document.documentElement.clientWidth + 1)`))
		if err != nil {
			t.Fatal(err)
		}
		if overflow {
			t.Errorf("at %d px a card is wider than its content box or the window", width)
		}
	}
}
